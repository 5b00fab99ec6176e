//! The Bitrix24 check: does the webhook work, may it use the CRM, and does the portal have the
//! pipeline and each of the nine stages? One typed result, [`BitrixCheck`], read by
//! `crystalbay doctor` (which prints its [`BitrixCheck::verdicts`]) and by `GET /admin/status`
//! (the Crm actor runs the check at start and each time it re-reads the portal).
//!
//! Calls, in order, stopping at the first that cannot go on: `profile` (the webhook is
//! accepted, and whose it is), `scope` (the `crm` scope is granted), then the pipelines and
//! their stages ([`super::pipeline::survey`]). Leads mode needs no pipeline.

use super::bitrix::{BitrixClient, BitrixError};
use super::pipeline::{self, Pipeline, SetupProblem, SyncSettings, same_name};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BitrixCheck {
    pub at: DateTime<Utc>,
    /// `profile`: whose webhook it is ("Айдана Менеджер (id 7)"), or why it is refused.
    pub webhook: Result<String, String>,
    /// `scope`: the scopes the webhook was given (`None`: not read).
    pub scopes: Option<Vec<String>>,
    /// Leads mode (`BITRIX_USE_LEADS`): leads instead of contacts and deals, no pipeline.
    pub leads_mode: bool,
    /// The deal pipeline in use, once found.
    pub pipeline: Option<PipelineFound>,
    /// The configured stages, each with its status id in the pipeline in use (or the one named,
    /// or the closest one); `None` where that pipeline lacks it.
    pub stages: Vec<StageFound>,
    /// What in the portal's set-up keeps the sync from working.
    pub problem: Option<SetupProblem>,
    /// The portal could not be read to the end (an outage, a refusal of one method).
    pub error: Option<String>,
}

/// The pipeline the bot's deals go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineFound {
    pub id: i64,
    pub name: String,
}

/// One configured stage, as found (or not) in the pipeline shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageFound {
    pub name: String,
    /// `C9:PREPARATION`…; `None`: the pipeline has no stage of that name.
    pub status_id: Option<String>,
    /// One of the four stages the bot sets (the other five are the managers').
    pub bot: bool,
}

/// One line of the verdict: fine or not, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub ok: bool,
    pub text: String,
}

impl BitrixCheck {
    /// Everything the sync needs is there.
    pub fn ok(&self) -> bool {
        // (An unreachable portal leaves `webhook` an error without a problem.)
        self.webhook.is_ok() && self.problem.is_none() && self.error.is_none()
    }

    /// The findings as lines for people, each with the fix when something is wrong.
    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut out = Vec::new();
        let mut line = |ok: bool, text: String| out.push(Verdict { ok, text });
        match (&self.webhook, &self.problem) {
            (Ok(who), _) => line(true, format!("the webhook works (acts as {who})")),
            (Err(_), Some(p @ SetupProblem::Webhook { .. })) => line(false, p.to_string()),
            (Err(e), _) => line(false, format!("the webhook does not work: {e}")),
        }
        if let Some(scopes) = &self.scopes {
            if scopes.iter().any(|s| s == "crm") {
                line(true, "the webhook has the `crm` scope".into());
            } else {
                line(
                    false,
                    format!(
                        "the webhook lacks the `crm` scope (it has: {}): tick CRM in the webhook's settings",
                        scopes.join(", ")
                    ),
                );
            }
        }
        if self.leads_mode {
            line(
                true,
                "leads mode (BITRIX_USE_LEADS): one lead per conversation, no deal pipeline needed"
                    .into(),
            );
        }
        if let Some(p) = &self.pipeline {
            line(
                true,
                format!("deal pipeline «{}» (id {}) holds the stages", p.name, p.id),
            );
        }
        for s in &self.stages {
            let whose = if s.bot { "bot" } else { "managers" };
            match &s.status_id {
                Some(id) => line(true, format!("stage «{}» ({whose}): {id}", s.name)),
                None => line(false, format!("stage «{}» ({whose}) is missing", s.name)),
            }
        }
        // A refused webhook and a missing scope have their line above.
        if let Some(problem) = self.problem.as_ref().filter(|p| !p.blocks_contacts()) {
            line(false, problem.to_string());
        }
        if let Some(error) = &self.error {
            line(false, format!("could not finish the check: {error}"));
        }
        out
    }
}

/// Checks the portal for `settings`; also gives the pipeline found, for the sync.
pub async fn check(
    client: &BitrixClient,
    settings: &SyncSettings,
) -> (BitrixCheck, Option<Pipeline>) {
    let mut out = BitrixCheck {
        at: Utc::now(),
        webhook: Err("not checked".into()),
        scopes: None,
        leads_mode: settings.use_leads,
        pipeline: None,
        stages: Vec::new(),
        problem: None,
        error: None,
    };
    let refused = |out: &mut BitrixCheck, e: BitrixError| {
        if e.webhook_refused() {
            out.problem = Some(webhook_problem(&e));
        } else {
            out.error = Some(e.to_string());
        }
    };
    match client.profile().await {
        Ok(who) => out.webhook = Ok(who),
        Err(e) => {
            out.webhook = Err(e.to_string());
            if e.webhook_refused() {
                out.problem = Some(webhook_problem(&e));
            }
            return (out, None);
        }
    }
    match client.scopes().await {
        Ok(scopes) => {
            if !scopes.iter().any(|s| s == "crm") {
                out.problem = Some(SetupProblem::MissingScope {
                    has: scopes.clone(),
                });
                out.scopes = Some(scopes);
                return (out, None);
            }
            out.scopes = Some(scopes);
        }
        // Not knowing the scopes is no reason to stop: the CRM calls below tell.
        Err(e) if e.webhook_refused() => {
            refused(&mut out, e);
            return (out, None);
        }
        Err(_) => {}
    }
    if settings.use_leads {
        return (out, None);
    }
    let names: Vec<String> = settings.stage_names.to_vec();
    let wanted = settings.deal_category.as_deref();
    let survey = match pipeline::survey(client, wanted, &names).await {
        Ok(survey) => survey,
        Err(e) => {
            refused(&mut out, e);
            return (out, None);
        }
    };
    if let Some(shown) = survey.shown(wanted, &names) {
        out.stages = names
            .iter()
            .enumerate()
            .map(|(i, name)| StageFound {
                name: name.clone(),
                status_id: shown
                    .stages
                    .iter()
                    .find(|s| same_name(&s.name, name))
                    .map(|s| s.status_id.clone()),
                bot: i < 4,
            })
            .collect();
    }
    match survey.choice {
        Ok(p) => {
            out.pipeline = Some(PipelineFound {
                id: p.category_id,
                name: p.name.clone(),
            });
            (out, Some(p))
        }
        Err(problem) => {
            out.problem = Some(problem);
            (out, None)
        }
    }
}

/// A refused webhook as the set-up problem it is.
pub fn webhook_problem(e: &BitrixError) -> SetupProblem {
    match e {
        BitrixError::Auth {
            code, description, ..
        }
        | BitrixError::Blocked { code, description } => SetupProblem::Webhook {
            code: if code.is_empty() {
                "HTTP 401".into()
            } else {
                code.clone()
            },
            description: description.clone(),
        },
        other => SetupProblem::Webhook {
            code: String::new(),
            description: other.to_string(),
        },
    }
}
