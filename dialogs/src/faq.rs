//! FAQ: answers to the questions travellers really ask (visa, passports, documents for
//! children, payment, baggage, insurance, office), kept in the editable `prompts/faq.toml`
//! together with the question patterns each answers.
//!
//! (Stub: the matcher and the file are being written.)

use crate::analysis::Language;

/// The FAQ in force.
#[derive(Debug, Clone, Default)]
pub struct Faq {}

/// The answer to one question, in the language asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqAnswer<'a> {
    /// The entry's id in the file ("visa").
    pub topic: &'a str,
    pub text: &'a str,
}

impl Faq {
    /// The FAQ shipped with the binary.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// The entry whose patterns match `text` best, answered in `language`.
    pub fn answer(&self, _text: &str, _language: Language) -> Option<FaqAnswer<'_>> {
        None
    }
}
