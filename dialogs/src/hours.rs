//! Managers' working hours: when a customer brought to a manager can expect an answer.
//!
//! Written as `WORKING_HOURS` in the configuration, in the agency's local time
//! (`MANAGER_TIMEZONE`): `Mon-Fri 10:00-19:00, Sat 11:00-16:00`. Days are `Mon`…`Sun`
//! (ranges wrap: `Sat-Sun`); a day not listed is a day off.

use chrono::{Datelike, NaiveDateTime, NaiveTime, Weekday};
use serde::Serialize;

/// Opening hours per weekday (Monday first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    days: [Option<(NaiveTime, NaiveTime)>; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "working hours {input:?}: {problem} (expected e.g. \"Mon-Fri 10:00-19:00, Sat 11:00-16:00\")"
)]
pub struct HoursError {
    input: String,
    problem: String,
}

/// Whether managers are at work now, and if not, when they will be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Office {
    pub open: bool,
    /// `today`, `tomorrow` or `later` (then see `weekday`); empty when open.
    pub when: &'static str,
    /// `mon` … `sun`: the day managers are next at work.
    pub weekday: &'static str,
    /// "10:00": when they start that day.
    pub time: String,
}

impl Office {
    /// Open, for when no hours are known.
    pub fn always_open() -> Self {
        Office {
            open: true,
            when: "",
            weekday: "",
            time: String::new(),
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WorkingHours {
    pub fn parse(input: &str) -> Result<Self, HoursError> {
        let err = |problem: &str| HoursError {
            input: input.to_owned(),
            problem: problem.to_owned(),
        };
        let mut days = [None; 7];
        for part in input
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (range, times) = part
                .split_once(char::is_whitespace)
                .ok_or_else(|| err("each part needs days and hours"))?;
            let (from, to) = match range.split_once('-') {
                Some((a, b)) => (day(a), day(b)),
                None => (day(range), day(range)),
            };
            let (Some(from), Some(to)) = (from, to) else {
                return Err(err("days are Mon, Tue, Wed, Thu, Fri, Sat, Sun"));
            };
            let (open, close) = times
                .trim()
                .split_once('-')
                .and_then(|(a, b)| {
                    Some((
                        NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?,
                        NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?,
                    ))
                })
                .ok_or_else(|| err("hours are HH:MM-HH:MM"))?;
            if open >= close {
                return Err(err("a day must open before it closes"));
            }
            let mut d = from;
            loop {
                days[d] = Some((open, close));
                if d == to {
                    break;
                }
                d = (d + 1) % 7;
            }
        }
        if days.iter().all(Option::is_none) {
            return Err(err("no working day"));
        }
        Ok(Self { days })
    }

    /// Where `now` (local time) falls.
    pub fn at(&self, now: NaiveDateTime) -> Office {
        let today = now.weekday().num_days_from_monday() as usize;
        if let Some((open, close)) = self.days[today]
            && now.time() >= open
            && now.time() < close
        {
            return Office::always_open();
        }
        for ahead in 0..8 {
            let d = (today + ahead) % 7;
            let Some((open, _)) = self.days[d] else {
                continue;
            };
            if ahead == 0 && now.time() >= open {
                continue; // closed for today already
            }
            return Office {
                open: false,
                when: match ahead {
                    0 => "today",
                    1 => "tomorrow",
                    _ => "later",
                },
                weekday: DAYS[d],
                time: open.format("%H:%M").to_string(),
            };
        }
        Office::always_open()
    }
}

fn day(s: &str) -> Option<usize> {
    let w: Weekday = s.trim().parse().ok()?;
    Some(w.num_days_from_monday() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn says_when_managers_are_next_at_work() {
        let h = WorkingHours::parse("Mon-Fri 10:00-19:00, Sat 11:00-16:00").unwrap();
        // 2026-11-20 is a Friday.
        assert!(h.at(at("2026-11-20 12:00")).open);
        let early = h.at(at("2026-11-20 08:30"));
        assert_eq!(
            (early.open, early.when, early.time.as_str()),
            (false, "today", "10:00")
        );
        let evening = h.at(at("2026-11-20 20:00"));
        assert_eq!((evening.when, evening.weekday), ("tomorrow", "sat"));
        assert_eq!(evening.time, "11:00");
        let sunday = h.at(at("2026-11-22 12:00"));
        assert_eq!(
            (sunday.when, sunday.weekday, sunday.time.as_str()),
            ("tomorrow", "mon", "10:00")
        );
        let saturday_night = h.at(at("2026-11-21 17:00"));
        assert_eq!(
            (saturday_night.when, saturday_night.weekday),
            ("later", "mon")
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        for bad in [
            "",
            "Mon-Fri",
            "Mon-Fry 10:00-19:00",
            "Mon 19:00-10:00",
            "Mon 10-19",
        ] {
            assert!(WorkingHours::parse(bad).is_err(), "{bad}");
        }
        let wrap = WorkingHours::parse("Sat-Sun 10:00-14:00").unwrap();
        assert!(wrap.at(at("2026-11-22 11:00")).open);
        assert!(!wrap.at(at("2026-11-23 11:00")).open);
    }
}
