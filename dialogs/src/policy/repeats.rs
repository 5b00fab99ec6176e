//! No reply repeats the previous one word for word. The state keeps a fingerprint of each
//! reply of the last turn; a reply that would say exactly the same again is said in a
//! shorter form with the next step ([`r::Repeated`]), and if that too was just said, a
//! manager is brought in.

use super::{Talk, escalate};
use crate::replies as r;
use crate::state::DialogState;
use crate::templates::TemplateError;
use crate::turn::{DialogEvent, EscalationDetails, EscalationReason, TurnOutcome};

/// A stable fingerprint of a reply's text (FNV-1a, 53 bits so any JSON reader keeps it exact).
pub(crate) fn fingerprint(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.trim().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash & ((1 << 53) - 1)
}

/// Varies the replies that would repeat the last turn's, and remembers this turn's.
pub(super) fn settle(
    state: &mut DialogState,
    mut outcome: TurnOutcome,
    t: &Talk<'_>,
) -> Result<TurnOutcome, TemplateError> {
    let recent = std::mem::take(&mut state.recent);
    let mut escalated = outcome
        .events
        .iter()
        .any(|e| matches!(e, DialogEvent::Escalate { .. }));
    for i in 0..outcome.replies.len() {
        if !recent.contains(&fingerprint(&outcome.replies[i].text)) {
            continue;
        }
        let short = t.say(&r::Repeated {
            missing: state.awaiting.clone(),
            offers: state.shown.as_ref().map_or(0, |s| s.offers.len()),
            empty: state.nothing_found.is_some(),
        })?;
        let reply = &mut outcome.replies[i];
        if !recent.contains(&fingerprint(&short)) {
            reply.text = short;
        } else if !escalated {
            // Said twice and still not moving: a person helps.
            reply.text = t.say(&r::Human {
                need_phone: state.slots.phone.is_none(),
            })?;
            reply.buttons.clear();
            outcome.events.push(escalate(
                state,
                EscalationReason::NotUnderstood,
                EscalationDetails {
                    repeated: Some(true),
                    ..EscalationDetails::default()
                },
            ));
            escalated = true;
        } else {
            // A manager is already coming: say only that.
            reply.text = t.say(&r::Repeated {
                missing: Vec::new(),
                offers: 0,
                empty: true,
            })?;
        }
    }
    // Two replies of one turn never say the same either (an answer and a question).
    outcome.replies.dedup_by(|a, b| a.text == b.text);
    state.recent = outcome
        .replies
        .iter()
        .map(|reply| fingerprint(&reply.text))
        .collect();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_fit_json() {
        assert_eq!(fingerprint("Привет"), fingerprint(" Привет\n"));
        assert_ne!(fingerprint("Привет"), fingerprint("Привет!"));
        assert!(fingerprint("x") < (1 << 53));
        // Fixed across builds: stored states compare with it.
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325 & ((1 << 53) - 1));
    }
}
