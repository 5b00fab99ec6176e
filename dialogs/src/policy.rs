//! The dialog policy: given what the conversation remembers and the new message, decide the
//! replies and events. Pure: the caller does all I/O.
//!
//! Minimal for now: the first message (or a greeting) gets the greeting, anything else an
//! acknowledgement that repeats what was understood.

use crate::state::DialogState;
use crate::templates::{TemplateError, Templates};
use crate::turn::{Reply, TurnInput, TurnOutcome};

/// Handles one message, updating `state` in place.
pub fn respond(
    state: &mut DialogState,
    input: &TurnInput,
    templates: &Templates,
) -> Result<TurnOutcome, TemplateError> {
    let lang = detect_language(&input.text);
    state.language = Some(lang.to_owned());
    let first = state.turns == 0;
    state.turns += 1;
    let text = if first || looks_like_greeting(&input.text) {
        templates.render(lang, "greeting", ())?
    } else {
        templates.render(
            lang,
            "understood",
            serde_json::json!({ "text": input.text }),
        )?
    };
    Ok(TurnOutcome {
        replies: vec![Reply::text(text)],
        events: Vec::new(),
    })
}

/// Kazakh-specific letters → `kk`; Latin letters only → `en`; otherwise `ru`.
fn detect_language(text: &str) -> &'static str {
    if text.chars().any(|c| "әғқңөұүһіӘҒҚҢӨҰҮҺІ".contains(c)) {
        "kk"
    } else if text.chars().any(|c| c.is_ascii_alphabetic())
        && !text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
    {
        "en"
    } else {
        "ru"
    }
}

fn looks_like_greeting(text: &str) -> bool {
    let t = text.to_lowercase();
    ["здравствуй", "привет", "добрый", "сәлем", "hello", "hi "]
        .iter()
        .any(|g| t.starts_with(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> TurnInput {
        TurnInput {
            text: text.into(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        }
    }

    #[test]
    fn first_message_is_greeted_then_echoed() {
        let t = Templates::defaults();
        let mut state = DialogState::default();
        let first = respond(&mut state, &input("Нячанг"), &t).unwrap();
        assert!(first.replies[0].text.contains("Crystal Bay"));
        let second = respond(&mut state, &input("в марте"), &t).unwrap();
        assert!(second.replies[0].text.contains("в марте"));
        assert_eq!(state.turns, 2);
        assert_eq!(state.language.as_deref(), Some("ru"));
    }

    #[test]
    fn language_follows_the_customer() {
        assert_eq!(detect_language("Сәлеметсіз бе"), "kk");
        assert_eq!(detect_language("Hi there"), "en");
        assert_eq!(detect_language("Привет, hi"), "ru");
    }
}
