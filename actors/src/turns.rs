//! What a Conversation asks to decide a turn. The engine's own implementation, [`DialogTurns`],
//! runs the dialog policy of the `dialogs` crate, calling the Tours actor for searches and the
//! optional LLM where the rules fall short; tests may plug in another (one that panics, say).

use crate::llm::{AnswerRequest, LanguageModel};
use crate::store::{ConversationRecord, InboxMessage};
use crate::tours::TourSearch;
use async_trait::async_trait;
use channels::InboundKind;
use chrono::FixedOffset;
use dialogs::analysis::{Analysis, Intent, analyze};
use dialogs::faq::Faq;
use dialogs::handover;
use dialogs::hours::WorkingHours;
use dialogs::policy::{self, Context, Step};
use dialogs::search::SearchFailure;
use dialogs::{Channel, DialogState, Owner, Reply, Templates, TurnInput, TurnOutcome};
use std::sync::{Arc, RwLock};

/// Decides the replies and events of one turn, updating the conversation in place. A turn
/// answers one message, or several that came in one burst (oldest first).
///
/// The Conversation reads the dialog state from the record once per turn
/// ([`ConversationRecord::dialog_state`]) and hands it in; the handler changes it in place and the Conversation
/// stores it with the turn.
#[async_trait]
pub trait TurnHandler: Send + Sync + 'static {
    async fn handle_turn(
        &self,
        conversation: &ConversationRecord,
        state: &mut DialogState,
        messages: &[InboxMessage],
    ) -> Result<TurnOutcome, TurnError>;

    /// The apology for messages whose handling failed for good (they are parked and a manager
    /// is called): the `sorry` reply in the customer's language. `None`: nothing is said.
    fn apology(
        &self,
        conversation: &ConversationRecord,
        messages: &[InboxMessage],
    ) -> Option<Reply> {
        apology_from(&Templates::defaults(), conversation, messages)
    }
}

/// Why a turn could not be decided: always permanent (the message is retried once, then
/// parked).
#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error(transparent)]
    Template(#[from] dialogs::templates::TemplateError),
}

/// The `sorry` reply of `templates`, in the conversation's language (or, for a new chat, the
/// language of the messages when the rules are sure of it; Russian otherwise).
pub fn apology_from(
    templates: &Templates,
    conversation: &ConversationRecord,
    messages: &[InboxMessage],
) -> Option<Reply> {
    let known = serde_json::from_value::<DialogState>(conversation.state.clone())
        .ok()
        .and_then(|s| s.language);
    let language = known.or_else(|| {
        let text = messages
            .iter()
            .map(|m| m.inbound.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let analysis = analyze(&text, local_today());
        analysis.language_sure.then_some(analysis.language)
    });
    match policy::apology(language, templates) {
        Ok(reply) => Some(reply),
        Err(e) => {
            tracing::error!(error = %e, "the apology template does not render");
            None
        }
    }
}

/// A value admins may replace at run time (reply templates, the FAQ): the next message of
/// every conversation uses the new one, with no restart. Cheap to clone and to read.
pub struct Shared<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(value))))
    }

    pub fn current(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}

/// The reply templates in force.
pub type SharedTemplates = Shared<Templates>;
/// The FAQ in force.
pub type SharedFaq = Shared<Faq>;

/// The engine's turn handler: the dialog policy over the stored dialog state.
pub struct DialogTurns {
    pub templates: SharedTemplates,
    pub faq: SharedFaq,
    /// Where searches go: the Tours actor (or, in tests of the dialog, a stand-in).
    pub tours: Arc<dyn TourSearch>,
    /// The optional model; `None` runs on rules alone.
    pub llm: Option<Arc<dyn LanguageModel>>,
    /// Offers per page.
    pub page_size: usize,
    /// Managers' working hours (`None`: replies say a manager answers shortly).
    pub hours: Option<WorkingHours>,
    /// The agency's time zone, for "today" and working hours.
    pub utc_offset: FixedOffset,
    /// Words that bring a manager in at once (lower case).
    pub keywords: Vec<String>,
    /// Countries the agency sells (canonical English names); others get an honest answer.
    pub sold_countries: Vec<String>,
    /// Departure cities with flights (canonical names); empty: checked by the search itself.
    pub departures: Vec<String>,
}

impl DialogTurns {
    /// Rules only, with the shipped templates and FAQ.
    pub fn new(tours: Arc<dyn TourSearch>) -> Self {
        Self {
            templates: SharedTemplates::new(Templates::defaults()),
            faq: SharedFaq::new(Faq::defaults()),
            tours,
            llm: None,
            page_size: 5,
            hours: None,
            utc_offset: almaty(),
            keywords: Vec::new(),
            sold_countries: policy::default_sold_countries().to_vec(),
            departures: Vec::new(),
        }
    }
}

#[async_trait]
impl TurnHandler for DialogTurns {
    async fn handle_turn(
        &self,
        conversation: &ConversationRecord,
        state: &mut DialogState,
        messages: &[InboxMessage],
    ) -> Result<TurnOutcome, TurnError> {
        let templates = self.templates.current();
        let faq = self.faq.current();
        self.turn(state, conversation, messages, &templates, &faq)
            .await
    }

    fn apology(
        &self,
        conversation: &ConversationRecord,
        messages: &[InboxMessage],
    ) -> Option<Reply> {
        apology_from(&self.templates.current(), conversation, messages)
    }
}

impl DialogTurns {
    async fn turn(
        &self,
        state: &mut DialogState,
        conversation: &ConversationRecord,
        messages: &[InboxMessage],
        templates: &Templates,
        faq: &Faq,
    ) -> Result<TurnOutcome, TurnError> {
        let Some(last) = messages.last() else {
            return Ok(TurnOutcome::default());
        };
        let local_now = (chrono::Utc::now() + self.utc_offset).naive_utc();
        let today = local_now.date();
        let ctx = Context {
            templates,
            faq,
            page_size: self.page_size,
            keywords: &self.keywords,
            sold_countries: &self.sold_countries,
            departures: &self.departures,
        };
        let office = self.hours.as_ref().map(|h| h.at(local_now));
        if matches!(last.inbound.kind, InboundKind::Media { .. })
            && last.inbound.text.trim().is_empty()
            && conversation.owner == Owner::Bot
        {
            return Ok(policy::media(state, office, &ctx)?);
        }
        let text = messages
            .iter()
            .map(|m| m.inbound.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let action = match &last.inbound.kind {
            InboundKind::Callback { data } => Some(data.clone()),
            InboundKind::Start => Some(policy::actions::START.to_owned()),
            InboundKind::Contact { .. } => Some(policy::actions::CONTACT.to_owned()),
            InboundKind::Text | InboundKind::Media { .. } | InboundKind::ManagerEcho { .. } => None,
        };
        let shared_phone = last.inbound.shared_phone().map(str::to_owned);
        // Hotels of the operator's list the customer names (cached on the Tours side).
        let hotels_named = if action.is_none()
            && conversation.owner == Owner::Bot
            && policy::may_name_hotel(&text)
        {
            self.tours.hotels_named(&text).await
        } else {
            Vec::new()
        };
        let mut input = TurnInput {
            text,
            today,
            action,
            customer_phone: shared_phone.or_else(|| channel_phone(conversation)),
            office,
            hotels_named,
            route: None,
        };

        // Not the bot's chat (a manager is called, or owns it): no selling; what the customer
        // adds is kept for the manager, acknowledged at most briefly (dialogs::handover).
        if conversation.owner != Owner::Bot {
            let words = if input.action.is_some() {
                ""
            } else {
                &input.text
            };
            let analysis = analyze(words, today);
            let hands = conversation.hands();
            return Ok(handover::after_handover(
                state, &hands, &analysis, &input, templates, faq,
            )?);
        }

        // A button press or a shared contact carries no words to analyse.
        let words = if input.action.is_some() {
            ""
        } else {
            input.text.as_str()
        };
        let mut analysis = analyze(words, today);
        if let Some(llm) = &self.llm
            && input.action.is_none()
            && not_understood(&analysis)
        {
            match llm.extract(&input.text, today).await {
                Ok(found) => {
                    if analysis.intent == Intent::Other
                        && let Some(intent) = found.intent
                    {
                        analysis.intent = intent;
                    }
                    if !analysis.language_sure
                        && let Some(language) = found.language
                    {
                        analysis.language = language;
                        analysis.language_sure = true;
                    }
                    // The rules' values win where both found one.
                    let mut slots = found.slots;
                    slots.merge(&analysis.slots);
                    analysis.slots = slots;
                }
                Err(e) => tracing::warn!(conversation = %conversation.id, error = %e,
                    "LLM extraction failed; going on with the rules"),
            }
        }

        input.route = self.route(state, &analysis).await;

        Ok(match policy::decide(state, &analysis, &input, &ctx)? {
            Step::Reply(outcome) => outcome,
            Step::Search { query, page } => {
                let result = self.tours.search(&query, page).await;
                if let Err(SearchFailure::Unavailable { cause }) = &result {
                    tracing::error!(conversation = %conversation.id, %cause,
                        "tour search unavailable; the customer is told and a manager brought in");
                }
                policy::present(state, query, page, result, input.office.clone(), &ctx)?
            }
            Step::Details(request) => {
                // One call per hotel asked about; a failure reads as "no description" and
                // the question goes to a manager.
                let fetches = request.hotels.iter().map(|(_, key)| async move {
                    match self.tours.hotel_details(*key).await {
                        Ok(found) => found,
                        Err(e) => {
                            tracing::warn!(conversation = %conversation.id, hotel_key = key,
                                error = %e, "hotel description unavailable");
                            None
                        }
                    }
                });
                let details = futures::future::join_all(fetches).await;
                policy::explain(state, &request, &details, input.office.clone(), &ctx)?
            }
            Step::FreeForm { language, fallback } => {
                let outcome = self
                    .free_form(state, conversation, &input, language, fallback)
                    .await;
                policy::settle(state, outcome, input.office.clone(), &ctx)?
            }
        })
    }

    /// What the operator says of the route when the message names a departure city or a
    /// country not said before ("из Караганды есть вылеты?"): the `NotOffered` a search would
    /// give, with the cities or countries that are offered; `None` when it is offered, or
    /// nothing says otherwise (the search will tell).
    async fn route(&self, state: &DialogState, analysis: &Analysis) -> Option<SearchFailure> {
        let said = &analysis.slots;
        let new_city =
            said.departure_city.is_some() && said.departure_city != state.slots.departure_city;
        let new_country = said.country.is_some() && said.country != state.slots.country;
        if !new_city && !new_country {
            return None;
        }
        let city = said
            .departure_city
            .as_deref()
            .or(state.slots.departure_city.as_deref());
        let country = said.country.as_deref().or(state.slots.country.as_deref());
        match self.tours.check_route(city, country).await {
            Err(failure @ SearchFailure::NotOffered { .. }) => Some(failure),
            _ => None,
        }
    }

    /// The LLM's answer to a message no template answers well, or the template fallback.
    async fn free_form(
        &self,
        state: &DialogState,
        conversation: &ConversationRecord,
        input: &TurnInput,
        language: dialogs::analysis::Language,
        fallback: TurnOutcome,
    ) -> TurnOutcome {
        match &self.llm {
            None => fallback,
            Some(llm) => {
                let request = AnswerRequest {
                    language,
                    customer_text: input.text.clone(),
                    known: state.slots.clone(),
                };
                match llm.answer(&request).await {
                    Ok(answer) => TurnOutcome {
                        replies: vec![Reply::text(answer)],
                        events: fallback.events,
                    },
                    Err(e) => {
                        tracing::warn!(conversation = %conversation.id, error = %e,
                                "LLM answer failed; replying from the template");
                        fallback
                    }
                }
            }
        }
    }
}

/// The rules found nothing to act on: no intent, no slot, no hint.
fn not_understood(a: &Analysis) -> bool {
    a.intent == Intent::Other
        && a.slots.is_empty()
        && !a.hints.more
        && !a.hints.cheaper
        && a.hints.choice.is_none()
        && a.hints.question.is_none()
        && a.hints.scope.is_none()
}

/// The customer's phone when the channel is a phone number (WhatsApp through Wazzup).
fn channel_phone(conversation: &ConversationRecord) -> Option<String> {
    if conversation.key.channel != Channel::Wazzup {
        return None;
    }
    let digits = conversation.key.chat_id.strip_prefix("whatsapp:")?;
    (digits.len() >= 10 && digits.chars().all(|c| c.is_ascii_digit())).then(|| format!("+{digits}"))
}

/// Asia/Almaty: UTC+5 all year (no daylight saving since 2024).
pub fn almaty() -> FixedOffset {
    FixedOffset::east_opt(5 * 3600).expect("a valid offset")
}

/// Today in Kazakhstan (UTC+5), the agency's reference for "завтра" and "в марте".
pub fn local_today() -> chrono::NaiveDate {
    (chrono::Utc::now() + almaty()).date_naive()
}
