//! The reply template registry. Every sentence a customer reads is a minijinja template from
//! `prompts/replies/<lang>/<name>.j2`, embedded in the binary as the default; an admin can
//! replace any of them at run time (`Templates::with_overrides`). What each template is given
//! is a struct of [`crate::replies`].

use crate::analysis::Language;
use std::collections::BTreeMap;

/// Languages a reply can be rendered in; the first is the fallback.
pub const LANGUAGES: [Language; 3] = [Language::Ru, Language::Kk, Language::En];

impl Language {
    /// The code templates and stored states use: `ru`, `kk`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::Kk => "kk",
            Language::En => "en",
        }
    }

    /// The language of a code (`ru`, `kk`, `en`), if it is one of ours.
    pub fn from_code(code: &str) -> Option<Self> {
        LANGUAGES.into_iter().find(|l| l.code() == code)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Declares the shipped templates once: their names, and their sources in every language
/// (embedded from `prompts/replies/<lang>/<name>.j2`).
macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        /// Names of the shipped templates; each exists in every language of [`LANGUAGES`].
        /// `summary`, `meal` and `when_manager` are fragments other templates include or the
        /// policy renders inline. Each has its context struct in [`crate::replies`].
        pub const TEMPLATE_NAMES: &[&str] = &[$($name),*];

        /// The shipped templates, by document name (`replies/<lang>/<name>`).
        pub const DEFAULT_TEMPLATES: &[(&str, &str)] = &[$(
            (concat!("replies/ru/", $name), include_str!(concat!("../../prompts/replies/ru/", $name, ".j2"))),
            (concat!("replies/kk/", $name), include_str!(concat!("../../prompts/replies/kk/", $name, ".j2"))),
            (concat!("replies/en/", $name), include_str!(concat!("../../prompts/replies/en/", $name, ".j2"))),
        )*];
    };
}

shipped![
    "greeting",
    "ask",
    "summary",
    "offers",
    "no_offers",
    "no_more_offers",
    "no_cheaper",
    "after_empty",
    "no_list",
    "not_offered",
    "not_sold",
    "not_package",
    "existing_booking",
    "search_unavailable",
    "booking",
    "which_offer",
    "offer_facts",
    "hotel_info",
    "question_to_manager",
    "price_later",
    "repeated",
    "human",
    "complaint",
    "thanks",
    "faq_unknown",
    "not_understood",
    "sorry",
    "media",
    "contact_thanks",
    "waiting",
    "when_manager",
    "meal",
    "button_book",
    "button_more",
    "button_manager",
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template `{0}`")]
    Missing(String),
    #[error("template `{name}`: {source}")]
    Invalid {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

/// A compiled set of templates. Cheap to share (`Arc`), rebuilt whole when an admin changes one.
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// The templates shipped with the binary.
    pub fn defaults() -> Self {
        Self::with_overrides(std::iter::empty()).expect("shipped templates compile")
    }

    /// The shipped templates with some replaced by `(name, source)` pairs.
    pub fn with_overrides(
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, TemplateError> {
        let mut sources: BTreeMap<String, String> = DEFAULT_TEMPLATES
            .iter()
            .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
            .collect();
        sources.extend(overrides);
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in sources {
            env.add_template_owned(name.clone(), source)
                .map_err(|source| TemplateError::Invalid { name, source })?;
        }
        Ok(Self { env })
    }

    /// Renders `replies/<lang>/<name>`, falling back to Russian when the language lacks it.
    /// The policy renders through [`crate::replies`] structs; the admin validation renders
    /// their sample values.
    pub fn render(
        &self,
        lang: Language,
        name: &str,
        ctx: impl serde::Serialize,
    ) -> Result<String, TemplateError> {
        let wanted = format!("replies/{lang}/{name}");
        let template = match self.env.get_template(&wanted) {
            Ok(t) => t,
            Err(_) => self
                .env
                .get_template(&format!("replies/{}/{name}", LANGUAGES[0]))
                .map_err(|_| TemplateError::Missing(wanted.clone()))?,
        };
        template
            .render(minijinja::value::Serde(ctx))
            .map(|s| s.trim().to_owned())
            .map_err(|source| TemplateError::Invalid {
                name: wanted,
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_renders_in_every_language() {
        let t = Templates::defaults();
        for lang in LANGUAGES {
            for name in TEMPLATE_NAMES {
                assert!(
                    DEFAULT_TEMPLATES
                        .iter()
                        .any(|(n, _)| *n == format!("replies/{lang}/{name}")),
                    "{lang}/{name} is not shipped"
                );
            }
            let s = t
                .render(lang, "greeting", serde_json::json!({ "again": false }))
                .unwrap();
            assert!(s.contains("Crystal Bay"));
        }
    }

    #[test]
    fn an_override_replaces_the_default_and_a_broken_one_is_rejected() {
        let t =
            Templates::with_overrides([("replies/ru/greeting".into(), "Салют!".into())]).unwrap();
        assert_eq!(t.render(Language::Ru, "greeting", ()).unwrap(), "Салют!");
        assert_eq!(
            DEFAULT_TEMPLATES.len(),
            TEMPLATE_NAMES.len() * LANGUAGES.len()
        );
        assert!(
            Templates::with_overrides([("replies/ru/greeting".into(), "{% if %}".into())]).is_err()
        );
    }
}
