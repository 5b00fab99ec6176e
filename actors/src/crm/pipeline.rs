//! Which deal pipeline the bot's deals go to, and what is wrong when the portal lacks it.
//!
//! Real portals keep Bitrix24's own stages in the default pipeline (0) and the agency's nine
//! stages in a named category ("Туры"). Without `BITRIX_DEAL_CATEGORY` the pipeline is found by
//! its stages: the default pipeline first, then every category (`crm.category.list`, or the
//! legacy `crm.dealcategory.list` on older portals); the one that holds all nine configured
//! stage names is used. With `BITRIX_DEAL_CATEGORY`, that pipeline, which must hold them.
//! Names compare trimmed, case- and `ё`/`е`-insensitively.
//!
//! When the portal does not have what the configuration names, the answer is a typed
//! [`SetupProblem`] that says what the portal has. [`choose`] is pure; [`survey`] reads the
//! portal and calls it.

use super::bitrix::{BitrixClient, BitrixError, StageItem};
use serde::Serialize;

/// The portal's names for what the bot does, as the agency configured them.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// The deal pipeline, by name; `None`: the default pipeline (id 0).
    pub deal_category: Option<String>,
    /// The pipeline's stages by name, in order: the bot's four ([`super::DealStage`]) then the
    /// managers' five (the pipeline must hold all nine).
    pub stage_names: [String; 9],
    /// Leads mode: a Bitrix24 lead per conversation instead of a contact and a deal.
    pub use_leads: bool,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            deal_category: None,
            stage_names: DEFAULT_STAGE_NAMES.map(String::from),
            use_leads: false,
        }
    }
}

/// The agency's pipeline, first stage to last.
pub const DEFAULT_STAGE_NAMES: [&str; 9] = [
    "Новый запрос",
    "Консультация",
    "Подбор тура",
    "Коммерческое предложение",
    "Добавление интеграций",
    "Оплатили",
    "Принято заказчиком",
    "Подтверждено",
    "Завершено",
];

/// The pipeline in use, as the portal has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub category_id: i64,
    pub name: String,
    /// Every stage, in SORT order.
    pub stages: Vec<StageItem>,
    /// The status ids of the bot's four stages ([`super::DealStage`]).
    pub bot: [String; 4],
}

impl Pipeline {
    /// The status id of one of the bot's stages.
    pub fn stage_id(&self, stage: super::DealStage) -> &str {
        let i = match stage {
            super::DealStage::New => 0,
            super::DealStage::Consultation => 1,
            super::DealStage::TourSelection => 2,
            super::DealStage::OfferShown => 3,
        };
        &self.bot[i]
    }

    fn sort_of(&self, status_id: &str) -> Option<i64> {
        self.stages
            .iter()
            .find(|s| s.status_id == status_id)
            .map(|s| s.sort)
    }

    /// Moving a deal from `current` to `target` goes forward in this pipeline. A stage we do
    /// not know (another pipeline's) is never moved from.
    pub fn is_forward(&self, current: &str, target: &str) -> bool {
        matches!((self.sort_of(current), self.sort_of(target)), (Some(c), Some(t)) if t > c)
    }
}

/// One pipeline of the portal with its stages, as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortalPipeline {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub stages: Vec<StageItem>,
}

impl PortalPipeline {
    /// The configured names this pipeline lacks, in configured order.
    pub fn missing(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| !self.stages.iter().any(|s| same_name(&s.name, n)))
            .cloned()
            .collect()
    }

    fn stage_names(&self) -> Vec<String> {
        self.stages.iter().map(|s| s.name.clone()).collect()
    }
}

/// A pipeline and the configured stages it lacks (in a [`SetupProblem`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineFit {
    pub id: i64,
    pub name: String,
    pub missing: Vec<String>,
}

/// What the portal lacks for the configuration to work. Each is fixed in the portal or in the
/// configuration, never by trying the same call again; the Crm actor holds what depends on it
/// and re-reads the portal until it is right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SetupProblem {
    /// Bitrix24 refuses the webhook itself (wrong, expired or deleted webhook, REST blocked).
    #[error(
        "Bitrix24 refuses the webhook: {code}: {description} (check BITRIX_WEBHOOK_URL in the portal's Developer resources)"
    )]
    Webhook { code: String, description: String },
    /// The webhook was created without the `crm` scope.
    #[error(
        "the Bitrix24 webhook lacks the `crm` scope (it has: {}); tick CRM in the webhook's settings",
        list(has)
    )]
    MissingScope { has: Vec<String> },
    /// `BITRIX_DEAL_CATEGORY` names no pipeline of the portal.
    #[error(
        "no deal pipeline named «{wanted}» (the portal has: {}); fix BITRIX_DEAL_CATEGORY or leave it unset",
        list(portal)
    )]
    NoSuchPipeline { wanted: String, portal: Vec<String> },
    /// The pipeline in use lacks configured stages.
    #[error(
        "the deal pipeline «{pipeline}» lacks the stage{} {} (it has: {}); add {} in Bitrix24 or set BITRIX_STAGE_*",
        plural(missing), quoted(missing), list(has), if missing.len() == 1 { "it" } else { "them" }
    )]
    MissingStages {
        pipeline: String,
        missing: Vec<String>,
        has: Vec<String>,
    },
    /// No pipeline holds every configured stage (no `BITRIX_DEAL_CATEGORY`).
    #[error(
        "no deal pipeline holds all {} configured stages: {}; add the missing stages in Bitrix24 or set BITRIX_DEAL_CATEGORY and BITRIX_STAGE_*",
        wanted, fits_text(pipelines, *wanted)
    )]
    NoPipelineHasStages {
        wanted: usize,
        pipelines: Vec<PipelineFit>,
    },
    /// Several pipelines hold every configured stage (no `BITRIX_DEAL_CATEGORY`).
    #[error(
        "several deal pipelines hold all configured stages: {}; set BITRIX_DEAL_CATEGORY to one of them",
        quoted(names)
    )]
    SeveralPipelines { names: Vec<String> },
}

impl SetupProblem {
    /// Nothing at all can be done in Bitrix24 (no contact either), not only deals.
    pub fn blocks_contacts(&self) -> bool {
        matches!(
            self,
            SetupProblem::Webhook { .. } | SetupProblem::MissingScope { .. }
        )
    }

    /// The problem in a sentence for the agency's managers (Russian).
    pub fn for_managers(&self) -> String {
        match self {
            SetupProblem::Webhook { code, .. } => format!(
                "Битрикс24 не принимает вебхук ({code}): проверьте входящий вебхук в разделе «Разработчикам» и BITRIX_WEBHOOK_URL."
            ),
            SetupProblem::MissingScope { .. } => {
                "у вебхука Битрикс24 нет права «CRM (crm)»: отметьте его в настройках вебхука."
                    .into()
            }
            SetupProblem::NoSuchPipeline { wanted, portal } => format!(
                "в Битрикс24 нет воронки «{wanted}» (есть: {}).",
                list(portal)
            ),
            SetupProblem::MissingStages {
                pipeline, missing, ..
            } => format!(
                "в воронке «{pipeline}» нет {} {}.",
                if missing.len() == 1 {
                    "стадии"
                } else {
                    "стадий"
                },
                quoted(missing)
            ),
            SetupProblem::NoPipelineHasStages { pipelines, .. } => {
                let closest = pipelines.iter().min_by_key(|p| p.missing.len());
                match closest {
                    Some(p) => format!(
                        "ни в одной воронке нет всех стадий; ближе всего «{}», в ней нет: {}.",
                        p.name,
                        quoted(&p.missing)
                    ),
                    None => "в Битрикс24 не найдено ни одной воронки сделок.".into(),
                }
            }
            SetupProblem::SeveralPipelines { names } => format!(
                "все стадии есть сразу в нескольких воронках ({}): укажите нужную в BITRIX_DEAL_CATEGORY.",
                quoted(names)
            ),
        }
    }
}

fn plural(items: &[String]) -> &'static str {
    if items.len() == 1 { "" } else { "s" }
}

/// «a», «b»
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("«{i}»"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// a, b, c (or "nothing")
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

/// Each pipeline with what it lacks, the closest first.
fn fits_text(pipelines: &[PipelineFit], wanted: usize) -> String {
    if pipelines.is_empty() {
        return "the portal lists no deal pipeline".into();
    }
    let mut sorted: Vec<&PipelineFit> = pipelines.iter().collect();
    sorted.sort_by_key(|p| p.missing.len());
    sorted
        .iter()
        .map(|p| {
            if p.missing.len() >= wanted {
                format!("«{}» has none of them", p.name)
            } else {
                format!("«{}» lacks {}", p.name, quoted(&p.missing))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Stage and pipeline names as people type them: trimmed, inner spaces collapsed, any case,
/// `ё` written as `е`.
pub fn same_name(a: &str, b: &str) -> bool {
    fold(a) == fold(b)
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('ё', "е")
}

/// The pipeline to use among those read: the one named `wanted`, or else the one holding every
/// configured name — the default pipeline (id 0) first when it does.
pub fn choose(
    wanted: Option<&str>,
    names: &[String],
    pipelines: &[PortalPipeline],
) -> Result<Pipeline, SetupProblem> {
    let chosen = match wanted {
        Some(wanted) => {
            let Some(p) = pipelines.iter().find(|p| same_name(&p.name, wanted)) else {
                return Err(SetupProblem::NoSuchPipeline {
                    wanted: wanted.to_owned(),
                    portal: pipelines.iter().map(|p| p.name.clone()).collect(),
                });
            };
            let missing = p.missing(names);
            if !missing.is_empty() {
                return Err(SetupProblem::MissingStages {
                    pipeline: p.name.clone(),
                    missing,
                    has: p.stage_names(),
                });
            }
            p
        }
        None => {
            let complete: Vec<&PortalPipeline> = pipelines
                .iter()
                .filter(|p| p.missing(names).is_empty())
                .collect();
            match complete.as_slice() {
                [] => {
                    return Err(SetupProblem::NoPipelineHasStages {
                        wanted: names.len(),
                        pipelines: pipelines
                            .iter()
                            .map(|p| PipelineFit {
                                id: p.id,
                                name: p.name.clone(),
                                missing: p.missing(names),
                            })
                            .collect(),
                    });
                }
                [one] => *one,
                several => match several.iter().find(|p| p.id == 0) {
                    Some(default) => *default,
                    None => {
                        return Err(SetupProblem::SeveralPipelines {
                            names: several.iter().map(|p| p.name.clone()).collect(),
                        });
                    }
                },
            }
        }
    };
    let status_of = |name: &str| {
        chosen
            .stages
            .iter()
            .find(|s| same_name(&s.name, name))
            .map(|s| s.status_id.clone())
            .unwrap_or_default()
    };
    Ok(Pipeline {
        category_id: chosen.id,
        name: chosen.name.clone(),
        stages: chosen.stages.clone(),
        bot: std::array::from_fn(|i| names.get(i).map(|n| status_of(n)).unwrap_or_default()),
    })
}

/// The pipelines read from the portal, and the choice among them.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The pipelines read: the default one alone when it holds every configured stage.
    pub pipelines: Vec<PortalPipeline>,
    pub choice: Result<Pipeline, SetupProblem>,
}

impl Survey {
    /// The pipeline whose stages to show one by one: the one in use, the one named, or the
    /// closest one (the fewest configured stages missing).
    pub fn shown(&self, wanted: Option<&str>, names: &[String]) -> Option<&PortalPipeline> {
        if let Ok(p) = &self.choice {
            return self.pipelines.iter().find(|c| c.id == p.category_id);
        }
        match wanted {
            Some(w) => self.pipelines.iter().find(|p| same_name(&p.name, w)),
            None => self.pipelines.iter().min_by_key(|p| p.missing(names).len()),
        }
    }
}

/// Reads the portal's pipelines (as few as needed) and chooses one.
pub async fn survey(
    client: &BitrixClient,
    wanted: Option<&str>,
    names: &[String],
) -> Result<Survey, BitrixError> {
    // Without a name, the default pipeline alone is enough when it holds every stage.
    let mut default_stages = None;
    if wanted.is_none() {
        let default = PortalPipeline {
            id: 0,
            name: DEFAULT_NAME.into(),
            stages: stages_of(client, 0).await?,
        };
        if default.missing(names).is_empty() {
            let pipelines = vec![default];
            let choice = choose(None, names, &pipelines);
            return Ok(Survey { pipelines, choice });
        }
        default_stages = Some(default.stages);
    }
    let mut categories = client.deal_categories().await?;
    if !categories.iter().any(|(id, _)| *id == 0) {
        categories.insert(0, (0, DEFAULT_NAME.into()));
    }
    let mut pipelines = Vec::new();
    for (id, name) in categories {
        let stages = if wanted.is_some_and(|w| !same_name(&name, w)) {
            // With a name, only that pipeline's stages are needed.
            Vec::new()
        } else if id == 0
            && let Some(stages) = default_stages.take()
        {
            stages
        } else {
            stages_of(client, id).await?
        };
        pipelines.push(PortalPipeline { id, name, stages });
    }
    let choice = choose(wanted, names, &pipelines);
    Ok(Survey { pipelines, choice })
}

/// What the default pipeline is called when the portal does not say.
const DEFAULT_NAME: &str = "default pipeline";

/// A pipeline's stages, status ids with their `C<n>:` prefix.
async fn stages_of(client: &BitrixClient, category_id: i64) -> Result<Vec<StageItem>, BitrixError> {
    let entity = if category_id == 0 {
        "DEAL_STAGE".to_owned()
    } else {
        format!("DEAL_STAGE_{category_id}")
    };
    let mut stages = client.stages(&entity).await?;
    // Stages of pipeline n carry the prefix `Cn:`; add it where a portal leaves it out.
    if category_id != 0 {
        let prefix = format!("C{category_id}:");
        for s in &mut stages {
            if !s.status_id.starts_with(&prefix) {
                s.status_id = format!("{prefix}{}", s.status_id);
            }
        }
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        super::super::DEFAULT_STAGE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn pipeline(id: i64, name: &str, stages: &[&str]) -> PortalPipeline {
        PortalPipeline {
            id,
            name: name.into(),
            stages: stages
                .iter()
                .enumerate()
                .map(|(i, n)| StageItem {
                    status_id: if id == 0 {
                        format!("S{i}")
                    } else {
                        format!("C{id}:S{i}")
                    },
                    name: (*n).into(),
                    sort: (i as i64 + 1) * 10,
                })
                .collect(),
        }
    }

    fn agency(id: i64, name: &str) -> PortalPipeline {
        let n = names();
        pipeline(id, name, &n.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn general() -> PortalPipeline {
        pipeline(0, "Общая", &["New", "Preparing documents", "Deal won"])
    }

    #[test]
    fn without_a_name_the_pipeline_holding_the_stages_is_used() {
        let portal = [
            general(),
            agency(9, "Туры"),
            pipeline(3, "Опт", &["Новый запрос"]),
        ];
        let p = choose(None, &names(), &portal).unwrap();
        assert_eq!((p.category_id, p.name.as_str()), (9, "Туры"));
        assert_eq!(p.bot[0], "C9:S0");
        assert_eq!(p.stage_id(super::super::DealStage::OfferShown), "C9:S3");
    }

    #[test]
    fn the_default_pipeline_comes_first() {
        let portal = [agency(0, "Общая"), agency(9, "Туры")];
        assert_eq!(choose(None, &names(), &portal).unwrap().category_id, 0);
        let portal = [general(), agency(9, "Туры"), agency(11, "Туры 2")];
        assert_eq!(
            choose(None, &names(), &portal),
            Err(SetupProblem::SeveralPipelines {
                names: vec!["Туры".into(), "Туры 2".into()]
            })
        );
    }

    #[test]
    fn names_compare_without_case_and_with_yo_as_ye() {
        let mut stages: Vec<String> = names();
        stages[6] = "ПРИНЯТО  заказчиком ".into();
        let mut portal = pipeline(
            5,
            "Туры",
            &stages.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        // "Подтверждено" written with ё by the agency's admin.
        portal.stages[7].name = "Подтверждёно".into();
        let chosen = choose(Some("туры"), &names(), std::slice::from_ref(&portal)).unwrap();
        assert_eq!(chosen.category_id, 5);
        assert!(same_name("Ёлка", "елка"));
    }

    #[test]
    fn a_missing_stage_is_named_with_what_the_portal_has() {
        let mut tours = agency(9, "Туры");
        tours.stages.remove(2);
        let problem = choose(None, &names(), &[general(), tours.clone()]).unwrap_err();
        assert_eq!(
            problem,
            SetupProblem::NoPipelineHasStages {
                wanted: 9,
                pipelines: vec![
                    PipelineFit {
                        id: 0,
                        name: "Общая".into(),
                        missing: names()
                    },
                    PipelineFit {
                        id: 9,
                        name: "Туры".into(),
                        missing: vec!["Подбор тура".into()]
                    },
                ]
            }
        );
        let text = problem.to_string();
        assert!(
            text.contains("stages: «Туры» lacks «Подбор тура»; «Общая» has none of them"),
            "{text}"
        );
        assert!(problem.for_managers().contains("«Подбор тура»"));
        assert!(!problem.blocks_contacts());

        let named = choose(Some("Туры"), &names(), &[general(), tours]).unwrap_err();
        let text = named.to_string();
        assert!(
            text.contains("«Туры» lacks the stage «Подбор тура»")
                && text.contains("Коммерческое предложение"),
            "{text}"
        );
    }

    #[test]
    fn a_pipeline_the_portal_lacks_is_named_with_the_ones_it_has() {
        let problem = choose(Some("Круизы"), &names(), &[general(), agency(9, "Туры")]);
        let text = problem.unwrap_err().to_string();
        assert!(
            text.contains("«Круизы»") && text.contains("Общая, Туры"),
            "{text}"
        );
    }
}
