//! Keeping scripts' dates as far ahead as when they were written: scripts are written as if
//! today were [`WRITTEN_ON`]; a later run shifts month names and `dd.mm` dates in customer
//! lines, and `MM-DD` in expectations, by the whole months since. A day in an expectation
//! means its next occurrence from today.

use super::script::MonthDay;
use chrono::{Datelike, NaiveDate};

/// The day the scripts were written as of.
pub const WRITTEN_ON: (i32, u32) = (2026, 12);

/// Whole months from when the scripts were written to `today`.
pub fn months_since_written(today: NaiveDate) -> i32 {
    (today.year() * 12 + today.month() as i32 - 1) - (WRITTEN_ON.0 * 12 + WRITTEN_ON.1 as i32 - 1)
}

fn shift_month(month: u32, by: i32) -> u32 {
    ((month as i32 - 1 + by).rem_euclid(12) + 1) as u32
}

fn last_day(year: i32, month: u32) -> u32 {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// `md` shifted by `by` months, on its first occurrence on or after `from` (a day past the
/// month's end is its last day).
pub fn resolve(md: MonthDay, by: i32, from: NaiveDate) -> NaiveDate {
    let month = shift_month(md.month, by);
    for year in [from.year(), from.year() + 1] {
        let day = md.day.min(last_day(year, month));
        let date = NaiveDate::from_ymd_opt(year, month, day).expect("a valid day");
        if date >= from {
            return date;
        }
    }
    unreachable!("a day of a month recurs within a year")
}

/// `a..b` resolved: `a` from `today`, `b` on or after `a`.
pub fn resolve_span(a: MonthDay, b: MonthDay, by: i32, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = resolve(a, by, today);
    (start, resolve(b, by, start))
}

/// Forms of one month: Russian nominative, genitive, prepositional and short; Kazakh
/// nominative, locative, dative, genitive, ablative; English full and short.
struct Month {
    ru: [&'static str; 4],
    kk: [&'static str; 5],
    en: [&'static str; 2],
}

const MONTHS: [Month; 12] = [
    Month {
        ru: ["январь", "января", "январе", "янв"],
        kk: ["қаңтар", "қаңтарда", "қаңтарға", "қаңтардың", "қаңтардан"],
        en: ["january", "jan"],
    },
    Month {
        ru: ["февраль", "февраля", "феврале", "фев"],
        kk: ["ақпан", "ақпанда", "ақпанға", "ақпанның", "ақпаннан"],
        en: ["february", "feb"],
    },
    Month {
        ru: ["март", "марта", "марте", "мар"],
        kk: ["наурыз", "наурызда", "наурызға", "наурыздың", "наурыздан"],
        en: ["march", "mar"],
    },
    Month {
        ru: ["апрель", "апреля", "апреле", "апр"],
        kk: ["сәуір", "сәуірде", "сәуірге", "сәуірдің", "сәуірден"],
        en: ["april", "apr"],
    },
    Month {
        ru: ["май", "мая", "мае", "мая"],
        kk: ["мамыр", "мамырда", "мамырға", "мамырдың", "мамырдан"],
        // "may" is also a verb: never read as a month, only written.
        en: ["may", "may"],
    },
    Month {
        ru: ["июнь", "июня", "июне", "июн"],
        kk: ["маусым", "маусымда", "маусымға", "маусымның", "маусымнан"],
        en: ["june", "jun"],
    },
    Month {
        ru: ["июль", "июля", "июле", "июл"],
        kk: ["шілде", "шілдеде", "шілдеге", "шілденің", "шілдеден"],
        en: ["july", "jul"],
    },
    Month {
        ru: ["август", "августа", "августе", "авг"],
        kk: ["тамыз", "тамызда", "тамызға", "тамыздың", "тамыздан"],
        en: ["august", "aug"],
    },
    Month {
        ru: ["сентябрь", "сентября", "сентябре", "сент"],
        kk: [
            "қыркүйек",
            "қыркүйекте",
            "қыркүйекке",
            "қыркүйектің",
            "қыркүйектен",
        ],
        en: ["september", "sep"],
    },
    Month {
        ru: ["октябрь", "октября", "октябре", "окт"],
        kk: ["қазан", "қазанда", "қазанға", "қазанның", "қазаннан"],
        en: ["october", "oct"],
    },
    Month {
        ru: ["ноябрь", "ноября", "ноябре", "нояб"],
        kk: ["қараша", "қарашада", "қарашаға", "қарашаның", "қарашадан"],
        en: ["november", "nov"],
    },
    Month {
        ru: ["декабрь", "декабря", "декабре", "дек"],
        kk: [
            "желтоқсан",
            "желтоқсанда",
            "желтоқсанға",
            "желтоқсанның",
            "желтоқсаннан",
        ],
        en: ["december", "dec"],
    },
];

/// The same form of the month `by` months later, for a word that is a month name.
fn shifted_word(word: &str, by: i32) -> Option<String> {
    let lower = word.to_lowercase();
    for (i, m) in MONTHS.iter().enumerate() {
        let target = &MONTHS[shift_month(i as u32 + 1, by) as usize - 1];
        let found = if let Some(f) = m.ru.iter().position(|f| *f == lower) {
            Some(target.ru[f])
        } else if let Some(f) = m.kk.iter().position(|f| *f == lower) {
            Some(target.kk[f])
        } else if i != 4 {
            m.en.iter().position(|f| *f == lower).map(|f| target.en[f])
        } else {
            None
        };
        if let Some(form) = found {
            let capital = word.chars().next().is_some_and(char::is_uppercase);
            return Some(if capital {
                let mut c = form.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            } else {
                form.to_owned()
            });
        }
    }
    None
}

/// `text` with every month name and `dd.mm` date moved `by` months later.
pub fn shift_text(text: &str, by: i32) -> String {
    if by == 0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            out.push_str(&shifted_word(word, by).unwrap_or_else(|| word.clone()));
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    shift_numeric_dates(&out, by)
}

/// "20.01" / "20/01" → the same day `by` months later (the month's last day if shorter).
fn shift_numeric_dates(text: &str, by: i32) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let digits_at = |i: usize| {
        let mut j = i;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
        if starts_number {
            let d_end = digits_at(i);
            if d_end < chars.len()
                && (chars[d_end] == '.' || chars[d_end] == '/')
                && (1..=2).contains(&(d_end - i))
            {
                let m_end = digits_at(d_end + 1);
                let followed_by_digit_group = m_end < chars.len()
                    && (chars[m_end] == '.' || chars[m_end] == '/')
                    && chars.get(m_end + 1).is_some_and(char::is_ascii_digit);
                // Two-digit months only: "1.5 млн" is an amount, not the 1st of May.
                if m_end - d_end - 1 == 2 && !followed_by_digit_group {
                    let day: u32 = chars[i..d_end].iter().collect::<String>().parse().unwrap();
                    let month: u32 = chars[d_end + 1..m_end]
                        .iter()
                        .collect::<String>()
                        .parse()
                        .unwrap();
                    if (1..=31).contains(&day) && (1..=12).contains(&month) {
                        let m = shift_month(month, by);
                        let day = day.min(last_day(2027, m));
                        out.push_str(&format!("{day}{}{m:02}", chars[d_end]));
                        i = m_end;
                        continue;
                    }
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn nothing_moves_in_the_month_the_scripts_were_written() {
        assert_eq!(months_since_written(day("2026-12-06")), 0);
        assert_eq!(months_since_written(day("2027-02-28")), 2);
        assert_eq!(shift_text("в феврале, 20.01", 0), "в феврале, 20.01");
    }

    #[test]
    fn month_names_and_dates_move_in_every_language_keeping_their_form() {
        assert_eq!(
            shift_text("Хотим в феврале, с 20 по 30 января или 10.01-20.01", 2),
            "Хотим в апреле, с 20 по 30 марта или 10.03-20.03"
        );
        assert_eq!(
            shift_text("наурызда барамыз, Қаңтардың 10-ы", 1),
            "сәуірде барамыз, Ақпанның 10-ы"
        );
        assert_eq!(
            shift_text("nha trang in Jan, may we go in march?", 11),
            "nha trang in Dec, may we go in february?"
        );
        assert_eq!(shift_text("30.01 и майские", 1), "28.02 и майские");
        assert_eq!(shift_text("тел 8.701.123", 1), "тел 8.701.123");
        assert_eq!(shift_text("бюджет 1.5 млн", 1), "бюджет 1.5 млн");
    }

    #[test]
    fn a_day_is_its_next_occurrence_and_a_span_ends_after_it_starts() {
        let today = day("2026-12-06");
        let md = |m, d| MonthDay { month: m, day: d };
        assert_eq!(resolve(md(1, 20), 0, today), day("2027-01-20"));
        assert_eq!(resolve(md(12, 28), 0, today), day("2026-12-28"));
        assert_eq!(
            resolve_span(md(12, 28), md(1, 5), 0, today),
            (day("2026-12-28"), day("2027-01-05"))
        );
        assert_eq!(
            resolve_span(md(2, 1), md(2, 31), 0, today),
            (day("2027-02-01"), day("2027-02-28"))
        );
        assert_eq!(resolve(md(1, 31), 1, day("2027-01-10")), day("2027-02-28"));
    }
}
