//! What each CRM command does in Bitrix24, and how it stays exactly-once.
//!
//! - `SyncLead`: the contact (found by phone/email — first among our own leads, then with
//!   `crm.duplicate.findbycomm` — else created), the conversation's deal in the configured
//!   pipeline (created once, then updated: the search parameters in `COMMENTS`, the stage
//!   moved forward only), and the contact's phone and email (added only when missing).
//! - `EscalationNote`: a timeline comment on the deal.
//! - `BookingTask`: a to-do (`crm.activity.todo.add`) on the deal.
//!
//! Leads mode (`BITRIX_USE_LEADS`): `SyncLead` keeps one Bitrix24 **lead** per conversation
//! (`crm.lead.*`, the same contents: title, name, phone, email, the search in `COMMENTS`)
//! instead of a contact and a deal; notes and to-dos go on the lead.
//!
//! Set-up problems ([`SetupProblem`]: the pipeline or a stage the portal lacks, a refused
//! webhook) are not the command's fault: the command stops with [`SyncError::Setup`] and the
//! Crm actor holds it until the portal is right. What does not depend on the problem is done
//! first — the contact is found or created even when the deal cannot be. Once a problem is
//! known, commands that depend on it stop before calling Bitrix24; only [`Syncer::refresh`]
//! (the actor's re-read) clears it.
//!
//! Idempotency: every id Bitrix24 gives is stored in `leads` as soon as it is known, so a
//! retry or a restart carries on where the last execution stopped. An execution that may have
//! been cut off after Bitrix24 acted (a timeout, a 5xx, a crash: the outbox row says it was
//! tried before) looks for what it may have created before creating anything: the deal by its
//! `ORIGIN_ID` (our conversation id), the contact by phone/email, a comment or to-do by the
//! marker `[cb:<command id>]` it carries. Contact resolution is serialised, so the same person
//! writing on two channels at once still gets one contact.

use super::bitrix::{BatchCommand, BitrixClient, BitrixError, Comm, OWNER_DEAL, OWNER_LEAD, id_of};
use super::check::{BitrixCheck, webhook_problem};
use super::pipeline::{Pipeline, SetupProblem, SyncSettings};
use super::{CrmCommand, DealStage, LeadSnapshot};
use crate::store::{CrmOutboxRecord, LeadCrmUpdate, LeadRecord, StoreError, WriteOp};
use crate::store_writer::StoreHandle;
use dialogs::Channel;
use dialogs::analysis::Slots;
use dialogs::search::{Offer, SearchQuery};
use dialogs::turn::EscalationReason;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Our `ORIGINATOR_ID` on deals: with `ORIGIN_ID` = conversation id it finds our deal again.
const ORIGINATOR: &str = "crystalbay";
/// How long the pipeline and its stages are trusted before they are read again (a set-up
/// problem is kept until the Crm actor re-reads the portal).
const PIPELINE_TTL: Duration = Duration::from_secs(3600);
/// A booking to-do is due this long after the customer chose.
const TODO_DEADLINE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Why a command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Bitrix(#[from] BitrixError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The portal does not have what the configuration names (pipeline, stage), or refuses
    /// the webhook: fixed in the portal or the configuration, not by retrying.
    #[error("Bitrix24 set-up: {0}")]
    Setup(SetupProblem),
    /// The stored command cannot be executed as it is.
    #[error("unusable command: {0}")]
    Command(String),
}

impl SyncError {
    /// Worth trying again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Bitrix(e) => e.is_retryable(),
            SyncError::Store(_) => true,
            SyncError::Setup(_) | SyncError::Command(_) => false,
        }
    }

    /// How long Bitrix24 asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Bitrix(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// What is known of the portal's set-up.
#[derive(Debug, Clone)]
enum Portal {
    /// Not read yet, or the last read did not finish (an outage).
    Unknown,
    /// Read and right: the deal pipeline (none in leads mode), as of `at`.
    Ready {
        pipeline: Option<Arc<Pipeline>>,
        at: Instant,
    },
    /// Read and wrong: kept until [`Syncer::refresh`] finds it right.
    Broken(SetupProblem),
}

/// Executes CRM commands against one portal. Shared by the Crm actor's tasks.
pub struct Syncer {
    bitrix: BitrixClient,
    store: StoreHandle,
    settings: SyncSettings,
    /// Held while the portal is read, so it is read once however many commands need it.
    portal: tokio::sync::Mutex<Portal>,
    /// Held while a contact is looked for and created, so two conversations of one person
    /// never both create one.
    contacts: tokio::sync::Mutex<()>,
}

/// What a lead is known to have in Bitrix24.
#[derive(Debug, Clone, Default)]
struct Known {
    contact: Option<i64>,
    deal: Option<i64>,
    stage: Option<DealStage>,
    phone: Option<String>,
    email: Option<String>,
    lead: Option<i64>,
}

impl From<&LeadRecord> for Known {
    fn from(l: &LeadRecord) -> Self {
        Known {
            contact: l.crm_contact_id,
            deal: l.crm_deal_id,
            stage: l.crm_stage.as_deref().and_then(parse_stage),
            phone: l.crm_phone.clone(),
            email: l.crm_email.clone(),
            lead: l.crm_lead_id,
        }
    }
}

fn parse_stage(s: &str) -> Option<DealStage> {
    serde_json::from_value(Value::String(s.to_owned())).ok()
}

fn stage_name(stage: DealStage) -> String {
    serde_json::to_value(stage)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Syncer {
    pub fn new(bitrix: BitrixClient, store: StoreHandle, settings: SyncSettings) -> Self {
        Self {
            bitrix,
            store,
            settings,
            portal: tokio::sync::Mutex::new(Portal::Unknown),
            contacts: tokio::sync::Mutex::new(()),
        }
    }

    /// What the client did so far.
    pub fn counts(&self) -> super::bitrix::CallCounts {
        self.bitrix.counts()
    }

    /// Reads the portal again (the whole check: webhook, scope, pipeline and stages) and keeps
    /// what it found: a set-up problem, or the pipeline to use. An outage leaves the set-up
    /// unknown (commands read it when they need it).
    pub async fn refresh(&self) -> BitrixCheck {
        let mut portal = self.portal.lock().await;
        let (check, pipeline) = super::check::check(&self.bitrix, &self.settings).await;
        *portal = match &check.problem {
            Some(problem) => Portal::Broken(problem.clone()),
            None if !check.ok() => Portal::Unknown,
            None => Portal::Ready {
                pipeline: pipeline.map(Arc::new),
                at: Instant::now(),
            },
        };
        check
    }

    /// Fails with the known set-up problem when it keeps every call from working.
    async fn gate(&self) -> Result<(), SyncError> {
        match &*self.portal.lock().await {
            Portal::Broken(problem) if problem.blocks_contacts() => {
                Err(SyncError::Setup(problem.clone()))
            }
            _ => Ok(()),
        }
    }

    /// A refusal of the webhook itself is a set-up problem: known from now on, so that other
    /// commands stop before calling.
    async fn setup_of(&self, e: SyncError) -> SyncError {
        match e {
            SyncError::Bitrix(b) if b.webhook_refused() => {
                let problem = webhook_problem(&b);
                *self.portal.lock().await = Portal::Broken(problem.clone());
                SyncError::Setup(problem)
            }
            other => other,
        }
    }

    /// Executes one outbox row; the value says what Bitrix24 gave (ids), for the row's
    /// `result`.
    pub async fn execute(&self, row: &CrmOutboxRecord) -> Result<Value, SyncError> {
        self.gate().await?;
        match self.run(row).await {
            Ok(v) => Ok(v),
            Err(e) => Err(self.setup_of(e).await),
        }
    }

    async fn run(&self, row: &CrmOutboxRecord) -> Result<Value, SyncError> {
        let command = row
            .parse()
            .map_err(|e| SyncError::Command(format!("unreadable payload: {e}")))?;
        let conversation = row
            .conversation_id
            .as_deref()
            .ok_or_else(|| SyncError::Command("no conversation".into()))?;
        let tried = row.tried_before();
        match command {
            CrmCommand::SyncLead { lead } => self.sync_lead(conversation, &lead, tried).await,
            CrmCommand::EscalationNote { reason, excerpt } => {
                let owner = self.ensure_owner(conversation, tried).await?;
                let marker = marker(&row.id);
                if tried && let Some(id) = self.find_comment(owner, &marker).await? {
                    return Ok(owner.result("comment_id", id));
                }
                let text = format!(
                    "Нужен менеджер: {}\n\nПоследние сообщения клиента:\n{excerpt}\n\n{marker}",
                    reason_text(reason)
                );
                let id = self
                    .bitrix
                    .comment_add(owner.entity_type(), owner.id, &text)
                    .await?;
                Ok(owner.result("comment_id", id))
            }
            CrmCommand::BookingTask { offer, query } => {
                let owner = self.ensure_owner(conversation, tried).await?;
                let marker = marker(&row.id);
                if tried && let Some(id) = self.find_todo(owner, &marker).await? {
                    return Ok(owner.result("activity_id", id));
                }
                let deadline = (chrono::Utc::now() + TODO_DEADLINE)
                    .with_timezone(&almaty())
                    .format("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string();
                let title = format!("Забронировать: {}", offer_line(&offer));
                let description = format!(
                    "Клиент выбрал тур.\n{}\nНомер предложения в SAMO: {}\n\nПоиск:\n{}\n\n{marker}",
                    offer_line(&offer),
                    offer.id,
                    query_text(&query)
                );
                let id = self
                    .bitrix
                    .todo_add(owner.type_id(), owner.id, &deadline, &title, &description)
                    .await?;
                Ok(owner.result("activity_id", id))
            }
        }
    }

    /// The contact and the deal of a lead, as of this snapshot (leads mode: the lead).
    async fn sync_lead(
        &self,
        conversation: &str,
        lead: &LeadSnapshot,
        tried: bool,
    ) -> Result<Value, SyncError> {
        if self.settings.use_leads {
            return self.sync_crm_lead(conversation, lead, tried).await;
        }
        let row = self.store.store.lead(conversation).await?;
        let mut known = row.as_ref().map(Known::from).unwrap_or_default();
        let pipeline = match self.pipeline().await {
            Ok(pipeline) => pipeline,
            Err(SyncError::Setup(problem)) => {
                // The deal waits for the set-up to be right; the contact does not.
                if known.deal.is_none() {
                    self.contact_only(conversation, lead, &known).await?;
                }
                return Err(SyncError::Setup(problem));
            }
            Err(e) => return Err(e),
        };

        // A deal an interrupted execution may have created.
        if known.deal.is_none()
            && tried
            && let Some(id) = self.find_our_deal(conversation).await?
        {
            self.record(LeadCrmUpdate {
                deal_id: Some(id),
                ..update(conversation)
            })
            .await?;
            known.deal = Some(id);
        }

        // The contact: only with a phone or an email, the keys that tell a person apart (a
        // deal waits for its contact until one is known).
        let mut link = None;
        let _contacts = if known.contact.is_none() && (lead.phone.is_some() || lead.email.is_some())
        {
            let guard = self.contacts.lock().await;
            match self.find_contact(conversation, lead).await? {
                Some(id) if known.deal.is_none() => {
                    self.record(LeadCrmUpdate {
                        contact_id: Some(id),
                        ..update(conversation)
                    })
                    .await?;
                    known.contact = Some(id);
                }
                // Recorded once the deal is linked to it; until then a retry finds it again.
                Some(id) => link = Some(id),
                None if known.deal.is_none() => {
                    return self
                        .create_contact_and_deal(conversation, lead, &pipeline)
                        .await;
                }
                None => {
                    let id = self.bitrix.add("contact", contact_fields(lead)).await?;
                    link = Some(id);
                    known.phone = lead.phone.clone();
                    known.email = lead.email.clone();
                }
            }
            Some(guard)
        } else {
            None
        };

        let deal = match known.deal {
            None => {
                let mut fields = deal_fields(conversation, lead, &pipeline);
                if let Some(contact) = known.contact {
                    fields["CONTACT_IDS"] = json!([contact]);
                }
                let id = self.bitrix.add("deal", fields).await?;
                self.record(LeadCrmUpdate {
                    deal_id: Some(id),
                    stage: Some(stage_name(lead.stage)),
                    ..update(conversation)
                })
                .await?;
                known.stage = Some(lead.stage);
                id
            }
            Some(id) => {
                self.update_deal(conversation, id, lead, &known, link, &pipeline)
                    .await?;
                if link.is_some() {
                    known.contact = link;
                }
                id
            }
        };
        if let Some(contact) = known.contact {
            self.complete_contact(conversation, contact, lead, &known)
                .await?;
        }
        Ok(json!({"contact_id": known.contact, "deal_id": deal}))
    }

    /// A new person with a new deal: both in one `batch`, the deal referring to the contact.
    async fn create_contact_and_deal(
        &self,
        conversation: &str,
        lead: &LeadSnapshot,
        pipeline: &Pipeline,
    ) -> Result<Value, SyncError> {
        let commands = [
            BatchCommand {
                key: "contact".into(),
                method: "crm.contact.add".into(),
                params: json!({"fields": contact_fields(lead)}),
                references: Vec::new(),
            },
            BatchCommand {
                key: "deal".into(),
                method: "crm.deal.add".into(),
                params: json!({"fields": deal_fields(conversation, lead, pipeline)}),
                references: vec![("fields[CONTACT_IDS][0]".into(), "$result[contact]".into())],
            },
        ];
        let mut results = self.bitrix.batch(&commands, true).await?;
        let contact = results.take("contact")?;
        let contact = id_of(&contact)
            .ok_or_else(|| BitrixError::Protocol("crm.contact.add gave no id".into()))?;
        self.record(LeadCrmUpdate {
            contact_id: Some(contact),
            phone: lead.phone.clone(),
            email: lead.email.clone(),
            ..update(conversation)
        })
        .await?;
        let deal = results.take("deal")?;
        let deal =
            id_of(&deal).ok_or_else(|| BitrixError::Protocol("crm.deal.add gave no id".into()))?;
        self.record(LeadCrmUpdate {
            deal_id: Some(deal),
            stage: Some(stage_name(lead.stage)),
            ..update(conversation)
        })
        .await?;
        Ok(json!({"contact_id": contact, "deal_id": deal}))
    }

    /// New search parameters in `COMMENTS`, a newly found contact linked, the stage moved
    /// forward when the bot's stage advanced and the deal is not already further on.
    async fn update_deal(
        &self,
        conversation: &str,
        deal: i64,
        lead: &LeadSnapshot,
        known: &Known,
        link: Option<i64>,
        pipeline: &Pipeline,
    ) -> Result<(), SyncError> {
        let mut fields = json!({"COMMENTS": comments(lead)});
        if let Some(contact) = link {
            fields["CONTACT_IDS"] = json!([contact]);
        }
        let advanced = known.stage.is_none_or(|s| lead.stage > s);
        if advanced {
            // The deal's stage as it is now: a manager may have moved it further on.
            let current = self.bitrix.get("deal", deal).await?;
            let current = current
                .get("STAGE_ID")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let target = pipeline.stage_id(lead.stage);
            if pipeline.is_forward(current, target) {
                fields["STAGE_ID"] = json!(target);
            }
        }
        self.bitrix.update("deal", deal, fields).await?;
        self.record(LeadCrmUpdate {
            contact_id: link,
            stage: advanced.then(|| stage_name(lead.stage)),
            // A contact created just now carries the lead's phone and email.
            phone: link.and(known.phone.clone()),
            email: link.and(known.email.clone()),
            ..update(conversation)
        })
        .await?;
        Ok(())
    }

    /// Adds the lead's phone and email to the contact when it lacks them (read first: a value
    /// sent without its id is always appended, even as a duplicate).
    async fn complete_contact(
        &self,
        conversation: &str,
        contact: i64,
        lead: &LeadSnapshot,
        known: &Known,
    ) -> Result<(), SyncError> {
        self.complete_multi("contact", conversation, contact, lead, known)
            .await
    }

    /// Adds the phone and email to a contact or a lead (`entity`) when it lacks them.
    async fn complete_multi(
        &self,
        entity: &str,
        conversation: &str,
        id: i64,
        lead: &LeadSnapshot,
        known: &Known,
    ) -> Result<(), SyncError> {
        let phone = lead
            .phone
            .as_ref()
            .filter(|p| known.phone.as_ref() != Some(p));
        let email = lead
            .email
            .as_ref()
            .filter(|e| known.email.as_ref() != Some(e));
        if phone.is_none() && email.is_none() {
            return Ok(());
        }
        let current = self.bitrix.get(entity, id).await?;
        let values = |field: &str| -> Vec<String> {
            current
                .get(field)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("VALUE").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut fields = serde_json::Map::new();
        if let Some(phone) = phone
            && !values("PHONE").iter().any(|v| digits(v) == digits(phone))
        {
            fields.insert("PHONE".into(), multi(phone));
        }
        if let Some(email) = email
            && !values("EMAIL")
                .iter()
                .any(|v| v.trim().eq_ignore_ascii_case(email.trim()))
        {
            fields.insert("EMAIL".into(), multi(email));
        }
        if !fields.is_empty() {
            self.bitrix
                .update(entity, id, Value::Object(fields))
                .await?;
        }
        self.record(LeadCrmUpdate {
            phone: phone.cloned(),
            email: email.cloned(),
            ..update(conversation)
        })
        .await?;
        Ok(())
    }

    /// The contact alone, while the deal waits for the set-up: found (and completed) or
    /// created, and recorded, so the deal made later is linked to it.
    async fn contact_only(
        &self,
        conversation: &str,
        lead: &LeadSnapshot,
        known: &Known,
    ) -> Result<(), SyncError> {
        if let Some(contact) = known.contact {
            return self
                .complete_contact(conversation, contact, lead, known)
                .await;
        }
        if lead.phone.is_none() && lead.email.is_none() {
            return Ok(());
        }
        let _guard = self.contacts.lock().await;
        match self.find_contact(conversation, lead).await? {
            Some(id) => {
                self.record(LeadCrmUpdate {
                    contact_id: Some(id),
                    ..update(conversation)
                })
                .await?;
                let known = Known {
                    contact: Some(id),
                    ..known.clone()
                };
                self.complete_contact(conversation, id, lead, &known).await
            }
            None => {
                let id = self.bitrix.add("contact", contact_fields(lead)).await?;
                self.record(LeadCrmUpdate {
                    contact_id: Some(id),
                    phone: lead.phone.clone(),
                    email: lead.email.clone(),
                    ..update(conversation)
                })
                .await
            }
        }
    }

    /// Leads mode: the conversation's lead, created once (looked for first when an earlier
    /// execution may have created it), then kept up to date.
    async fn sync_crm_lead(
        &self,
        conversation: &str,
        lead: &LeadSnapshot,
        tried: bool,
    ) -> Result<Value, SyncError> {
        let row = self.store.store.lead(conversation).await?;
        let mut known = row.as_ref().map(Known::from).unwrap_or_default();
        if known.lead.is_none()
            && tried
            && let Some(id) = self.find_ours("crm.lead.list", conversation).await?
        {
            self.record(LeadCrmUpdate {
                lead_id: Some(id),
                ..update(conversation)
            })
            .await?;
            known.lead = Some(id);
        }
        let Some(id) = known.lead else {
            let id = self
                .bitrix
                .add("lead", lead_fields(conversation, lead))
                .await?;
            self.record(LeadCrmUpdate {
                lead_id: Some(id),
                stage: Some(stage_name(lead.stage)),
                phone: lead.phone.clone(),
                email: lead.email.clone(),
                ..update(conversation)
            })
            .await?;
            return Ok(json!({"lead_id": id}));
        };
        let mut fields = json!({"TITLE": title(lead), "COMMENTS": comments(lead)});
        if let Some(name) = &lead.name {
            fields["NAME"] = json!(name);
        }
        self.bitrix.update("lead", id, fields).await?;
        self.record(LeadCrmUpdate {
            stage: Some(stage_name(lead.stage)),
            ..update(conversation)
        })
        .await?;
        self.complete_multi("lead", conversation, id, lead, &known)
            .await?;
        Ok(json!({"lead_id": id}))
    }

    /// What notes and to-dos go on: the conversation's deal (leads mode: its lead), created
    /// from its stored lead when it has none yet (its `SyncLead` failed, or has not run).
    async fn ensure_owner(&self, conversation: &str, tried: bool) -> Result<Owner, SyncError> {
        let owner_of = |l: &LeadRecord| {
            if self.settings.use_leads {
                l.crm_lead_id.map(Owner::lead)
            } else {
                l.crm_deal_id.map(Owner::deal)
            }
        };
        let lead = self.store.store.lead(conversation).await?;
        if let Some(owner) = lead.as_ref().and_then(owner_of) {
            return Ok(owner);
        }
        let Some(lead) = lead else {
            return Err(SyncError::Command(
                "the conversation has no lead to attach this to".into(),
            ));
        };
        let channel = self
            .store
            .store
            .conversation(conversation)
            .await?
            .map(|c| c.key.channel)
            .ok_or_else(|| SyncError::Command("the conversation is gone".into()))?;
        let snapshot = LeadSnapshot {
            name: lead.name.clone(),
            phone: lead.phone.clone(),
            email: lead.email.clone(),
            channel,
            stage: lead
                .stage
                .as_deref()
                .and_then(parse_stage)
                .unwrap_or(DealStage::New),
            slots: serde_json::from_value(lead.slots.clone()).unwrap_or_default(),
        };
        self.sync_lead(conversation, &snapshot, tried).await?;
        self.store
            .store
            .lead(conversation)
            .await?
            .as_ref()
            .and_then(owner_of)
            .ok_or_else(|| SyncError::Command("the deal or lead was not recorded".into()))
    }

    /// The person's contact: from another conversation of ours, else from Bitrix24's
    /// duplicate search (phone and email in one `batch` when both are known). The oldest wins.
    async fn find_contact(
        &self,
        conversation: &str,
        lead: &LeadSnapshot,
    ) -> Result<Option<i64>, SyncError> {
        let (phone, email) = (lead.phone.as_deref(), lead.email.as_deref());
        if let Some(other) = self
            .store
            .store
            .lead_with_contact(phone, email, conversation)
            .await?
        {
            return Ok(other.crm_contact_id);
        }
        let ids = match (phone, email) {
            (Some(phone), Some(email)) => {
                let search = |key: &str, comm: Comm, value: &str| BatchCommand {
                    key: key.into(),
                    method: "crm.duplicate.findbycomm".into(),
                    params: json!({"type": comm.as_str(), "values": [value], "entity_type": "CONTACT"}),
                    references: Vec::new(),
                };
                let mut results = self
                    .bitrix
                    .batch(
                        &[
                            search("phone", Comm::Phone, phone),
                            search("email", Comm::Email, email),
                        ],
                        false,
                    )
                    .await?;
                let mut ids = Vec::new();
                for key in ["phone", "email"] {
                    let found = results.take(key)?;
                    ids.extend(
                        found
                            .get("CONTACT")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(id_of),
                    );
                }
                ids
            }
            (Some(phone), None) => {
                self.bitrix
                    .find_duplicates(Comm::Phone, &[phone.to_owned()], "CONTACT")
                    .await?
            }
            (None, Some(email)) => {
                self.bitrix
                    .find_duplicates(Comm::Email, &[email.to_owned()], "CONTACT")
                    .await?
            }
            (None, None) => Vec::new(),
        };
        Ok(ids.into_iter().min())
    }

    async fn find_our_deal(&self, conversation: &str) -> Result<Option<i64>, SyncError> {
        self.find_ours("crm.deal.list", conversation).await
    }

    /// The deal or lead (`method`: its list method) we made for this conversation, by its
    /// `ORIGINATOR_ID`/`ORIGIN_ID`.
    async fn find_ours(&self, method: &str, conversation: &str) -> Result<Option<i64>, SyncError> {
        let found = self
            .bitrix
            .list_recent(
                method,
                json!({"ORIGINATOR_ID": ORIGINATOR, "ORIGIN_ID": conversation}),
                &["ID"],
            )
            .await?;
        Ok(found
            .iter()
            .filter_map(|d| d.get("ID").and_then(id_of))
            .min())
    }

    async fn find_comment(&self, owner: Owner, marker: &str) -> Result<Option<i64>, SyncError> {
        let found = self
            .bitrix
            .list_recent(
                "crm.timeline.comment.list",
                json!({"ENTITY_ID": owner.id, "ENTITY_TYPE": owner.entity_type()}),
                &["ID", "COMMENT"],
            )
            .await?;
        Ok(find_marked(&found, "COMMENT", marker))
    }

    async fn find_todo(&self, owner: Owner, marker: &str) -> Result<Option<i64>, SyncError> {
        let found = self
            .bitrix
            .list_recent(
                "crm.activity.list",
                json!({"OWNER_TYPE_ID": owner.type_id(), "OWNER_ID": owner.id}),
                &["ID", "DESCRIPTION"],
            )
            .await?;
        Ok(find_marked(&found, "DESCRIPTION", marker))
    }

    /// The deal pipeline and its stages: read when first needed and again once an hour; a
    /// known set-up problem until [`Syncer::refresh`] finds it fixed.
    async fn pipeline(&self) -> Result<Arc<Pipeline>, SyncError> {
        let mut portal = self.portal.lock().await;
        match &*portal {
            Portal::Ready {
                pipeline: Some(p),
                at,
            } if at.elapsed() < PIPELINE_TTL => return Ok(p.clone()),
            Portal::Broken(problem) => return Err(SyncError::Setup(problem.clone())),
            _ => {}
        }
        let names = self.settings.stage_names.to_vec();
        let wanted = self.settings.deal_category.as_deref();
        let survey = super::pipeline::survey(&self.bitrix, wanted, &names).await?;
        match survey.choice {
            Ok(pipeline) => {
                tracing::info!(
                    category_id = pipeline.category_id,
                    pipeline = %pipeline.name,
                    stages = pipeline.stages.len(),
                    "Bitrix24 deal pipeline read"
                );
                let pipeline = Arc::new(pipeline);
                *portal = Portal::Ready {
                    pipeline: Some(pipeline.clone()),
                    at: Instant::now(),
                };
                Ok(pipeline)
            }
            Err(problem) => {
                *portal = Portal::Broken(problem.clone());
                Err(SyncError::Setup(problem))
            }
        }
    }

    async fn record(&self, update: LeadCrmUpdate) -> Result<(), SyncError> {
        self.store.write(WriteOp::LeadSynced(update)).await?;
        Ok(())
    }
}

/// What a note or a to-do goes on: a deal, or in leads mode a lead.
#[derive(Debug, Clone, Copy)]
struct Owner {
    id: i64,
    is_lead: bool,
}

impl Owner {
    fn deal(id: i64) -> Self {
        Owner { id, is_lead: false }
    }

    fn lead(id: i64) -> Self {
        Owner { id, is_lead: true }
    }

    /// `ENTITY_TYPE` of a timeline comment.
    fn entity_type(self) -> &'static str {
        if self.is_lead { "lead" } else { "deal" }
    }

    /// `ownerTypeId` of an activity.
    fn type_id(self) -> i64 {
        if self.is_lead { OWNER_LEAD } else { OWNER_DEAL }
    }

    /// The command's result: the owner's id and what was made on it.
    fn result(self, key: &str, id: i64) -> Value {
        let owner = if self.is_lead { "lead_id" } else { "deal_id" };
        let mut out = json!({ owner: self.id });
        out[key] = json!(id);
        out
    }
}

fn update(conversation: &str) -> LeadCrmUpdate {
    LeadCrmUpdate {
        conversation_id: conversation.to_owned(),
        ..LeadCrmUpdate::default()
    }
}

fn marker(command_id: &str) -> String {
    format!("[cb:{command_id}]")
}

fn find_marked(items: &[Value], field: &str, marker: &str) -> Option<i64> {
    items
        .iter()
        .find(|i| {
            i.get(field)
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains(marker))
        })
        .and_then(|i| i.get("ID").and_then(id_of))
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A multi-field value to add: `[{"VALUE": …, "VALUE_TYPE": "WORK"}]`.
fn multi(value: &str) -> Value {
    json!([{"VALUE": value, "VALUE_TYPE": "WORK"}])
}

/// How the CRM names where the customer wrote (no catch-all: a new channel must be named here).
fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Wazzup => "WhatsApp (Wazzup)",
        Channel::Telegram => "Telegram",
        Channel::Email => "e-mail",
        Channel::Console => "терминал",
    }
}

fn contact_fields(lead: &LeadSnapshot) -> Value {
    let mut fields = json!({
        "TYPE_ID": "CLIENT",
        "SOURCE_ID": "OTHER",
        "SOURCE_DESCRIPTION": format!("Бот Crystal Bay, {}", channel_label(lead.channel)),
        "OPENED": "Y",
    });
    if let Some(name) = &lead.name {
        fields["NAME"] = json!(name);
    }
    if let Some(phone) = &lead.phone {
        fields["PHONE"] = multi(phone);
    }
    if let Some(email) = &lead.email {
        fields["EMAIL"] = multi(email);
    }
    fields
}

fn deal_fields(conversation: &str, lead: &LeadSnapshot, pipeline: &Pipeline) -> Value {
    json!({
        "TITLE": title(lead),
        "CATEGORY_ID": pipeline.category_id,
        "STAGE_ID": pipeline.stage_id(lead.stage),
        "COMMENTS": comments(lead),
        "SOURCE_ID": "OTHER",
        "SOURCE_DESCRIPTION": format!("Бот Crystal Bay, {}", channel_label(lead.channel)),
        "OPENED": "Y",
        "ORIGINATOR_ID": ORIGINATOR,
        "ORIGIN_ID": conversation,
    })
}

/// A lead with the same contents as a contact and its deal (leads mode).
fn lead_fields(conversation: &str, lead: &LeadSnapshot) -> Value {
    let mut fields = json!({
        "TITLE": title(lead),
        "COMMENTS": comments(lead),
        "SOURCE_ID": "OTHER",
        "SOURCE_DESCRIPTION": format!("Бот Crystal Bay, {}", channel_label(lead.channel)),
        "OPENED": "Y",
        "ORIGINATOR_ID": ORIGINATOR,
        "ORIGIN_ID": conversation,
    });
    if let Some(name) = &lead.name {
        fields["NAME"] = json!(name);
    }
    if let Some(phone) = &lead.phone {
        fields["PHONE"] = multi(phone);
    }
    if let Some(email) = &lead.email {
        fields["EMAIL"] = multi(email);
    }
    fields
}

/// "Айгуль, WhatsApp (Wazzup): тур" — who and where from; the search is in the comments.
fn title(lead: &LeadSnapshot) -> String {
    let who = lead.name.as_deref().unwrap_or("Клиент");
    let place = lead
        .slots
        .resort
        .as_deref()
        .or(lead.slots.country.as_deref())
        .unwrap_or("Вьетнам");
    format!("{who}: тур, {place} ({})", channel_label(lead.channel))
}

/// The search parameters as a manager reads them.
fn comments(lead: &LeadSnapshot) -> String {
    let mut lines = vec![format!("Канал: {}", channel_label(lead.channel))];
    if let Some(name) = &lead.name {
        lines.push(format!("Имя: {name}"));
    }
    if let Some(phone) = &lead.phone {
        lines.push(format!("Телефон: {phone}"));
    }
    if let Some(email) = &lead.email {
        lines.push(format!("E-mail: {email}"));
    }
    lines.extend(slot_lines(&lead.slots));
    lines.join("\n")
}

fn date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

fn slot_lines(s: &Slots) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(city) = &s.departure_city {
        lines.push(format!("Вылет из: {city}"));
    }
    match (&s.country, &s.resort) {
        (Some(c), Some(r)) => lines.push(format!("Куда: {c}, {r}")),
        (Some(c), None) => lines.push(format!("Куда: {c}")),
        (None, Some(r)) => lines.push(format!("Куда: {r}")),
        (None, None) => {}
    }
    match (s.date_from, s.date_to) {
        (Some(a), Some(b)) if a != b => lines.push(format!("Даты вылета: {}–{}", date(a), date(b))),
        (Some(a), _) => lines.push(format!("Дата вылета: {}", date(a))),
        _ => {}
    }
    match (s.nights_from, s.nights_to) {
        (Some(a), Some(b)) if a != b => lines.push(format!("Ночей: {a}–{b}")),
        (Some(a), _) => lines.push(format!("Ночей: {a}")),
        _ => {}
    }
    if let Some(adults) = s.adults {
        lines.push(format!("Взрослых: {adults}"));
    }
    if s.children.is_some() || !s.child_ages.is_empty() {
        let count = s.children.unwrap_or(s.child_ages.len() as u32);
        if s.child_ages.is_empty() {
            lines.push(format!("Детей: {count}"));
        } else {
            let ages: Vec<String> = s.child_ages.iter().map(u32::to_string).collect();
            lines.push(format!("Детей: {count} (возраст: {})", ages.join(", ")));
        }
    }
    if let Some(budget) = s.budget_max {
        let currency = s.currency.as_deref().unwrap_or("KZT");
        lines.push(format!("Бюджет: до {budget} {currency}"));
    }
    if let Some(stars) = s.stars {
        lines.push(format!("Отель: от {stars}*"));
    }
    if let Some(meal) = &s.meal {
        lines.push(format!("Питание: {meal}"));
    }
    lines
}

fn query_text(q: &SearchQuery) -> String {
    let mut lines = vec![
        format!("Вылет из: {}", q.departure_city),
        format!(
            "Куда: {}{}",
            q.country,
            q.resorts
                .iter()
                .map(|r| format!(", {r}"))
                .collect::<String>()
        ),
        format!("Даты вылета: {}–{}", date(q.date_from), date(q.date_to)),
        format!("Ночей: {}–{}", q.nights_from, q.nights_to),
        format!("Взрослых: {}", q.adults),
    ];
    if !q.child_ages.is_empty() {
        let ages: Vec<String> = q.child_ages.iter().map(u32::to_string).collect();
        lines.push(format!("Дети, возраст: {}", ages.join(", ")));
    }
    if let Some(meal) = &q.meal {
        lines.push(format!("Питание: {meal}"));
    }
    lines.join("\n")
}

fn offer_line(o: &Offer) -> String {
    let stars = o.stars.map(|s| format!(" {s}*")).unwrap_or_default();
    format!(
        "{}{stars}, {}, заезд {}, {} ночей, {}, {}, {} {}",
        o.hotel,
        o.resort,
        date(o.check_in),
        o.nights,
        o.meal,
        o.room,
        o.price,
        o.currency
    )
}

/// Why a manager is needed, in the deal's timeline; a reason with no words of its own is
/// written by its stored name.
fn reason_text(reason: EscalationReason) -> &'static str {
    match reason {
        EscalationReason::BookingRequest => "клиент выбрал тур и хочет забронировать",
        EscalationReason::HumanRequest => "клиент просит менеджера",
        EscalationReason::Complaint => "жалоба клиента",
        EscalationReason::NotUnderstood => "бот не понял клиента",
        EscalationReason::SearchUnavailable => "поиск туров недоступен",
        EscalationReason::Keyword => "сообщение требует внимания менеджера",
        EscalationReason::Question
        | EscalationReason::NothingFound
        | EscalationReason::ExistingBooking => reason.as_str(),
    }
}

/// Kazakhstan time (UTC+5), the agency's clock for deadlines.
fn almaty() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(5 * 3600).expect("a valid offset")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::bitrix::StageItem;

    fn pipeline() -> Pipeline {
        let stage = |id: &str, name: &str, sort| StageItem {
            status_id: id.into(),
            name: name.into(),
            sort,
        };
        Pipeline {
            category_id: 1,
            name: "Туры".into(),
            stages: vec![
                stage("C1:NEW", "Новый запрос", 10),
                stage("C1:PREPARATION", "Консультация", 20),
                stage("C1:2", "Подбор тура", 30),
                stage("C1:3", "Коммерческое предложение", 40),
                stage("C1:WON", "Завершено", 90),
                stage("C1:LOSE", "Отказ", 100),
            ],
            bot: ["C1:NEW", "C1:PREPARATION", "C1:2", "C1:3"].map(String::from),
        }
    }

    #[test]
    fn stages_only_move_forward() {
        let p = pipeline();
        assert!(p.is_forward("C1:NEW", "C1:3"));
        assert!(!p.is_forward("C1:3", "C1:2"));
        assert!(!p.is_forward("C1:WON", "C1:3"), "a manager's stage stays");
        assert!(!p.is_forward("C1:LOSE", "C1:NEW"));
        assert!(!p.is_forward("C2:NEW", "C1:3"), "another pipeline's stage");
        assert_eq!(p.stage_id(DealStage::OfferShown), "C1:3");
    }

    #[test]
    fn comments_hold_the_search_in_plain_words() {
        let lead = LeadSnapshot {
            name: Some("Айгуль".into()),
            phone: Some("+77010000001".into()),
            email: None,
            channel: Channel::Wazzup,
            stage: DealStage::TourSelection,
            slots: Slots {
                departure_city: Some("Almaty".into()),
                country: Some("Vietnam".into()),
                resort: Some("Nha Trang".into()),
                date_from: chrono::NaiveDate::from_ymd_opt(2027, 3, 1),
                date_to: chrono::NaiveDate::from_ymd_opt(2027, 3, 10),
                nights_from: Some(10),
                adults: Some(2),
                child_ages: vec![5],
                ..Slots::default()
            },
        };
        let text = comments(&lead);
        for part in [
            "Канал: WhatsApp (Wazzup)",
            "Вылет из: Almaty",
            "Куда: Vietnam, Nha Trang",
            "Даты вылета: 01.03.2027–10.03.2027",
            "Ночей: 10",
            "Взрослых: 2",
            "Детей: 1 (возраст: 5)",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert_eq!(title(&lead), "Айгуль: тур, Nha Trang (WhatsApp (Wazzup))");
    }

    #[test]
    fn marked_items_are_found_again() {
        let items = vec![
            json!({"ID": "5", "COMMENT": "другое"}),
            json!({"ID": "7", "COMMENT": "Нужен менеджер\n[cb:abc]"}),
        ];
        assert_eq!(find_marked(&items, "COMMENT", "[cb:abc]"), Some(7));
        assert_eq!(find_marked(&items, "COMMENT", "[cb:zzz]"), None);
    }
}
