//! The documents admins edit while the engine runs. Everything under `prompts/` is a named
//! document, shipped in the binary as its default:
//!
//! - `replies/<lang>/<name>`: a reply template (`prompts/replies/<lang>/<name>.j2`);
//! - `faq`: the FAQ (`prompts/faq.toml`);
//! - `llm/system`, `llm/extract`: the LLM's answer and extraction prompts (`prompts/llm/`).
//!
//! Admin versions live in the store (`prompt_versions`); the latest version of a document is
//! in force, over its default. Before a version is stored it is validated ([`validate`]):
//! a template compiles, renders with every sample context of what the dialog policy passes it
//! ([`samples`]), uses no variable the policy does not pass, and leaves every other template
//! of its language rendering (they include each other); the FAQ parses; an LLM prompt is not
//! empty; every document has a size limit. [`apply`] puts a document in force on the next
//! message of every conversation; [`apply_stored`] does it for all of them at start-up.
//! [`live`] holds what is in force: the handles start-up builds and the admin API edits.

pub mod live;
pub mod samples;

use actors::store::{PromptVersion, Store};
use dialogs::analysis::Language;
use dialogs::faq::Faq;
use dialogs::templates::{DEFAULT_TEMPLATES, LANGUAGES, TEMPLATE_NAMES, Templates};
use live::LiveSettings;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The largest reply template accepted, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;
/// The largest FAQ accepted, in bytes (the shipped one is about 62 KiB).
pub const MAX_FAQ_BYTES: usize = 256 * 1024;

/// The shipped FAQ (the default of `faq`).
const SHIPPED_FAQ: &str = include_str!("../../prompts/faq.toml");

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A reply template, `replies/<lang>/<name>`.
    Template {
        lang: Language,
        name: &'static str,
    },
    Faq,
    LlmSystem,
    LlmExtract,
}

/// Latest stored content by document name: what admins have put in force.
pub type Overrides = BTreeMap<String, String>;

/// Why a new version of a document is refused. The message is for the admin who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{name} is {size} bytes; at most {max} are accepted")]
    TooLarge {
        name: String,
        size: usize,
        max: usize,
    },
    #[error("the template does not compile: {0}")]
    Syntax(String),
    #[error(
        "the template uses `{variable}`, which the engine never passes to {template}; it passes: {allowed}"
    )]
    UnknownVariable {
        variable: String,
        template: String,
        allowed: String,
    },
    #[error("{template} does not render with the sample context {context}: {message}")]
    Render {
        template: String,
        context: String,
        message: String,
    },
    #[error("{template} renders to an empty text with the sample context {context}")]
    Empty { template: String, context: String },
    #[error("{0}")]
    Faq(String),
    #[error("{0}")]
    Prompt(String),
}

/// Every document name, in a stable order: templates by language, then the FAQ and the
/// LLM prompts.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = LANGUAGES
        .iter()
        .flat_map(|lang| {
            TEMPLATE_NAMES
                .iter()
                .map(move |n| format!("replies/{lang}/{n}"))
        })
        .collect();
    names.extend(["faq", "llm/system", "llm/extract"].map(String::from));
    names
}

/// The kind of the document called `name`, if there is one.
pub fn kind(name: &str) -> Option<Kind> {
    match name {
        "faq" => Some(Kind::Faq),
        "llm/system" => Some(Kind::LlmSystem),
        "llm/extract" => Some(Kind::LlmExtract),
        _ => {
            let rest = name.strip_prefix("replies/")?;
            let (lang, template) = rest.split_once('/')?;
            let lang = Language::from_code(lang)?;
            let template = TEMPLATE_NAMES.iter().find(|t| **t == template)?;
            Some(Kind::Template {
                lang,
                name: template,
            })
        }
    }
}

/// The shipped default of a document.
pub fn shipped(name: &str) -> Option<&'static str> {
    match kind(name)? {
        Kind::Template { .. } => DEFAULT_TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, source)| *source),
        Kind::Faq => Some(SHIPPED_FAQ),
        Kind::LlmSystem => Some(actors::llm::openai::DEFAULT_SYSTEM_PROMPT),
        Kind::LlmExtract => Some(actors::llm::openai::DEFAULT_EXTRACT_PROMPT),
    }
}

/// The latest stored version of every document, by name.
pub async fn current(
    store: &dyn Store,
) -> Result<BTreeMap<String, PromptVersion>, actors::store::StoreError> {
    Ok(store
        .latest_prompt_versions()
        .await?
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect())
}

/// Checks `content` as the new text of document `name`, with the other documents as
/// `overrides` has them. `Ok` means it can be put in force.
pub fn validate(name: &str, content: &str, overrides: &Overrides) -> Result<(), Invalid> {
    let Some(kind) = kind(name) else {
        return Err(Invalid::Prompt(format!("there is no document {name}")));
    };
    match kind {
        Kind::Template { lang, name: short } => {
            limit(name, content, MAX_TEMPLATE_BYTES)?;
            validate_template(name, lang, short, content, overrides).map(|_| ())
        }
        Kind::Faq => {
            limit(name, content, MAX_FAQ_BYTES)?;
            Faq::parse(content)
                .map(|_| ())
                .map_err(|e| Invalid::Faq(e.to_string()))
        }
        Kind::LlmSystem | Kind::LlmExtract => {
            let max = actors::llm::openai::MAX_PROMPT_CHARS;
            let chars = content.chars().count();
            if content.trim().is_empty() {
                Err(Invalid::Prompt("the prompt is empty".into()))
            } else if chars > max {
                Err(Invalid::Prompt(format!(
                    "the prompt has {chars} characters; at most {max} are accepted"
                )))
            } else {
                Ok(())
            }
        }
    }
}

/// What a draft would do, without changing anything: a template's text with each sample
/// context; the FAQ's answer to `question` in each language; a prompt's length.
pub fn preview(
    name: &str,
    content: &str,
    overrides: &Overrides,
    question: Option<&str>,
) -> Result<Value, Invalid> {
    validate(name, content, overrides)?;
    Ok(match kind(name).expect("validated") {
        Kind::Template { lang, name: short } => {
            let templates = validate_template(name, lang, short, content, overrides)?;
            let renders: Vec<Value> = samples::contexts(short)
                .into_iter()
                .map(|context| {
                    let text = templates.render(lang, short, &context).unwrap_or_default();
                    json!({"context": context, "text": text})
                })
                .collect();
            json!({ "renders": renders })
        }
        Kind::Faq => {
            let faq = Faq::parse(content).map_err(|e| Invalid::Faq(e.to_string()))?;
            let answers: serde_json::Map<String, Value> = question
                .map(|q| {
                    LANGUAGES
                        .into_iter()
                        .map(|language| {
                            let answer = faq
                                .answer(q, language)
                                .map(|a| json!({"topic": a.topic, "text": a.text}));
                            (language.code().to_owned(), answer.unwrap_or(Value::Null))
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({ "topics": faq.topics().collect::<Vec<_>>(), "answers": answers })
        }
        Kind::LlmSystem | Kind::LlmExtract => json!({ "characters": content.chars().count() }),
    })
}

fn limit(name: &str, content: &str, max: usize) -> Result<(), Invalid> {
    if content.len() > max {
        return Err(Invalid::TooLarge {
            name: name.to_owned(),
            size: content.len(),
            max,
        });
    }
    Ok(())
}

/// The template set with `content` as `doc`, once it is known to be usable.
fn validate_template(
    doc: &str,
    lang: Language,
    short: &str,
    content: &str,
    overrides: &Overrides,
) -> Result<Templates, Invalid> {
    // Alone first: syntax, then the variables it looks up.
    let mut env = minijinja::Environment::new();
    env.add_template_owned(doc.to_owned(), content.to_owned())
        .map_err(|e| Invalid::Syntax(e.to_string()))?;
    let template = env
        .get_template(doc)
        .map_err(|e| Invalid::Syntax(e.to_string()))?;
    let contexts = samples::contexts(short);
    let globals: Vec<&str> = env.globals().map(|(name, _)| name).collect();
    let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    used.sort();
    for variable in used {
        let root = variable.split('.').next().unwrap_or_default();
        if globals.contains(&root) || root == "loop" {
            continue;
        }
        if !passes(&contexts, &variable) {
            return Err(Invalid::UnknownVariable {
                variable,
                template: doc.to_owned(),
                allowed: allowed(&contexts),
            });
        }
    }
    // Then within the whole set: every template of the language still renders (they include
    // each other), each with every sample context.
    let mut sources: Overrides = overrides
        .iter()
        .filter(|(name, _)| name.starts_with("replies/"))
        .map(|(n, s)| (n.clone(), s.clone()))
        .collect();
    sources.insert(doc.to_owned(), content.to_owned());
    let templates =
        Templates::with_overrides(sources).map_err(|e| Invalid::Syntax(e.to_string()))?;
    for other in TEMPLATE_NAMES {
        for context in samples::contexts(other) {
            let template = format!("replies/{lang}/{other}");
            let text = templates
                .render(lang, other, &context)
                .map_err(|e| Invalid::Render {
                    template: template.clone(),
                    context: context.to_string(),
                    message: root_cause(&e),
                })?;
            // `summary` is a fragment of other replies and may be empty; a reply may not.
            if text.is_empty() && *other == short && short != "summary" {
                return Err(Invalid::Empty {
                    template,
                    context: context.to_string(),
                });
            }
        }
    }
    Ok(templates)
}

/// The innermost message of a template error (minijinja's own, with its line).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// Does some sample context have `path` (`offer`, `offer.hotel`)? A lookup below a value that
/// is not an object (a list, a number, `null`) cannot be checked and is accepted.
fn passes(contexts: &[Value], path: &str) -> bool {
    contexts.iter().any(|context| {
        let mut value = context;
        for key in path.split('.') {
            match value {
                Value::Object(map) => match map.get(key) {
                    Some(inner) => value = inner,
                    None => return false,
                },
                _ => return true,
            }
        }
        true
    })
}

/// The variables the samples have, for the error message: `again`, `offer.hotel`…
fn allowed(contexts: &[Value]) -> String {
    fn walk(prefix: &str, value: &Value, out: &mut std::collections::BTreeSet<String>) {
        if let Value::Object(map) = value {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(&path, inner, out);
                out.insert(path);
            }
        }
    }
    let mut all = std::collections::BTreeSet::new();
    for context in contexts {
        walk("", context, &mut all);
    }
    if all.is_empty() {
        "no variables".into()
    } else {
        all.into_iter().collect::<Vec<_>>().join(", ")
    }
}

/// Puts document `name` in force as `overrides` has it (its default when absent): the next
/// message of every conversation uses it. Without live settings (a test replaced the dialog)
/// there is nothing to change.
pub async fn apply(
    live: Option<&LiveSettings>,
    name: &str,
    overrides: &Overrides,
) -> anyhow::Result<()> {
    let Some(live) = live else {
        return Ok(());
    };
    let content = |name: &str| -> String {
        overrides
            .get(name)
            .cloned()
            .or_else(|| shipped(name).map(str::to_owned))
            .unwrap_or_default()
    };
    match kind(name) {
        Some(Kind::Template { .. }) => {
            let templates = Templates::with_overrides(
                overrides
                    .iter()
                    .filter(|(n, _)| n.starts_with("replies/"))
                    .map(|(n, s)| (n.clone(), s.clone())),
            )?;
            live.templates.replace(templates);
        }
        Some(Kind::Faq) => live.faq.replace(Faq::parse(&content(name))?),
        Some(Kind::LlmSystem) => {
            if let Some(llm) = &live.llm {
                llm.set_system_prompt(content(name)).await?;
            }
        }
        Some(Kind::LlmExtract) => {
            if let Some(llm) = &live.llm {
                llm.set_extract_prompt(content(name)).await?;
            }
        }
        None => anyhow::bail!("there is no document {name}"),
    }
    Ok(())
}

/// At start-up: the latest stored version of each document replaces its default. A stored
/// version that this build cannot use (it uses a variable the engine no longer passes, say)
/// is skipped with an error in the log, and the default stays. Returns how many are in force.
pub async fn apply_stored(store: &dyn Store, live: &LiveSettings) -> anyhow::Result<usize> {
    let mut overrides = Overrides::new();
    for (name, version) in current(store).await? {
        match validate(&name, &version.content, &overrides) {
            Ok(()) => {
                overrides.insert(name, version.content);
            }
            Err(e) => tracing::error!(document = %name, version = version.version, error = %e,
                "a stored document cannot be used; its default stays in force"),
        }
    }
    let names: Vec<String> = overrides.keys().cloned().collect();
    // One template rebuild covers every template.
    let mut templates_done = false;
    for name in &names {
        if matches!(kind(name), Some(Kind::Template { .. })) {
            if templates_done {
                continue;
            }
            templates_done = true;
        }
        apply(Some(live), name, &overrides).await?;
    }
    if !names.is_empty() {
        tracing::info!(
            documents = names.len(),
            "admin-edited prompts and templates in force"
        );
    }
    Ok(names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_document_is_valid() {
        let none = Overrides::new();
        for name in names() {
            let content = shipped(&name).unwrap_or_else(|| panic!("{name} has no default"));
            validate(&name, content, &none).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(names().len(), LANGUAGES.len() * TEMPLATE_NAMES.len() + 3);
    }

    #[test]
    fn every_template_has_sample_contexts() {
        for name in TEMPLATE_NAMES {
            assert!(!samples::contexts(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_broken_or_overreaching_template_is_refused_with_the_reason() {
        let none = Overrides::new();
        let e = validate("replies/ru/greeting", "{% if again %}Привет", &none).unwrap_err();
        assert!(matches!(e, Invalid::Syntax(_)), "{e}");
        let e = validate("replies/ru/greeting", "Привет, {{ customer_name }}!", &none).unwrap_err();
        assert!(
            e.to_string().contains("customer_name") && e.to_string().contains("again"),
            "{e}"
        );
        let e = validate("replies/ru/booking", "{{ offer.owner }}", &none).unwrap_err();
        assert!(e.to_string().contains("offer.owner"), "{e}");
        validate(
            "replies/ru/booking",
            "Вариант {{ offer.n }}: {{ offer.hotel }}",
            &none,
        )
        .unwrap();
        // A fragment other templates include must keep them rendering.
        let e = validate(
            "replies/ru/summary",
            "{{ search.destination | bogus }}",
            &none,
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = validate(
            "replies/ru/greeting",
            "{% if again %}снова{% endif %}",
            &none,
        )
        .unwrap_err();
        assert!(matches!(e, Invalid::Empty { .. }), "{e}");
        let big = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(matches!(
            validate("replies/ru/greeting", &big, &none),
            Err(Invalid::TooLarge { .. })
        ));
    }

    #[test]
    fn faq_and_prompts_are_checked() {
        let none = Overrides::new();
        assert!(matches!(
            validate("faq", "[[entry]]\nid = ", &none),
            Err(Invalid::Faq(_))
        ));
        assert!(validate("llm/system", "  \n", &none).is_err());
        assert!(validate("llm/extract", "Extract the slots.", &none).is_ok());
        assert!(kind("replies/xx/greeting").is_none() && kind("replies/ru/nope").is_none());
    }

    #[test]
    fn a_preview_renders_each_sample() {
        let p = preview(
            "replies/en/greeting",
            "{% if again %}Welcome back{% else %}Hello{% endif %}",
            &Overrides::new(),
            None,
        )
        .unwrap();
        let texts: Vec<&str> = p["renders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["Hello", "Welcome back"]);
        let p = preview(
            "faq",
            SHIPPED_FAQ,
            &Overrides::new(),
            Some("нужна ли виза?"),
        )
        .unwrap();
        assert!(p["answers"]["ru"]["topic"].is_string(), "{p}");
    }
}
