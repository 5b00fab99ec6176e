//! The dialog policy: given what the conversation remembers and the new message, decide the
//! replies and events. Pure: the caller does all I/O.
//!
//! Minimal for now: the first message (or a greeting) gets the greeting, anything else an
//! acknowledgement that repeats what was understood, in the customer's language.

use crate::analysis::{Intent, Language, analyze};
use crate::state::DialogState;
use crate::templates::{TemplateError, Templates};
use crate::turn::{Reply, TurnInput, TurnOutcome};

/// Handles one message, updating `state` in place.
pub fn respond(
    state: &mut DialogState,
    input: &TurnInput,
    templates: &Templates,
) -> Result<TurnOutcome, TemplateError> {
    let analysis = analyze(&input.text, input.today);
    let lang = language_code(analysis.language);
    state.language = Some(lang.to_owned());
    let first = state.turns == 0;
    state.turns += 1;
    let text = if first || analysis.intent == Intent::Greeting {
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

fn language_code(language: Language) -> &'static str {
    match language {
        Language::Ru => "ru",
        Language::Kk => "kk",
        Language::En => "en",
    }
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
    fn replies_follow_the_customer_s_language() {
        let t = Templates::defaults();
        for (text, lang) in [
            ("Сәлеметсіз бе", "kk"),
            ("Hi there", "en"),
            ("Привет", "ru"),
        ] {
            let mut state = DialogState::default();
            let out = respond(&mut state, &input(text), &t).unwrap();
            assert_eq!(state.language.as_deref(), Some(lang));
            assert_eq!(out.replies[0].text, t.render(lang, "greeting", ()).unwrap());
        }
    }
}
