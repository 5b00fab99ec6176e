//! Contacts: phone (to E.164), e-mail (lower case) and the customer's name.
//!
//! Phones and e-mails are found on the raw text first and their words are claimed, so
//! their digits never become budgets or dates. A Kazakhstan number is 11 digits starting
//! with 8 or 7 ("8 701 123 45 67", "+7 (701) 123-45-67") or 10 digits starting with 7;
//! other international numbers keep their "+" and digits. A name is taken after an
//! introduction ("меня зовут", "my name is", "менің атым"), after a weaker one ("я",
//! "это", "I'm") only when capitalised, or next to a phone ("…45 67, Айгуль").

use super::Slots;
use super::text::{Kind, Text};

/// Byte span of a contact in the raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// Finds the first phone number: `(E.164, span)`.
pub(crate) fn phone(raw: &str) -> Option<(String, Span)> {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if !(c.is_ascii_digit() || c == b'+') || !boundary {
            i += 1;
            continue;
        }
        // A run of digits and the separators people put into phone numbers.
        let mut plus = false;
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut j = i;
        let mut seps = 0;
        while j < b.len() {
            let c = b[j];
            if c.is_ascii_digit() {
                let s = j;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                groups.push((s, j));
                seps = 0;
            } else if c == b'+' && groups.is_empty() && !plus {
                plus = true;
                j += 1;
            } else if matches!(c, b' ' | b'-' | b'(' | b')' | b'.') && seps < 3 {
                seps += 1;
                j += 1;
            } else {
                break;
            }
        }
        if let Some(found) = phone_in_groups(raw, &groups, plus) {
            return Some(found);
        }
        i = j.max(i + 1);
    }
    None
}

fn phone_in_groups(raw: &str, groups: &[(usize, usize)], plus: bool) -> Option<(String, Span)> {
    for s in 0..groups.len() {
        let mut digits = String::new();
        let mut ten: Option<(String, usize)> = None;
        for (e, &(a, z)) in groups.iter().enumerate().skip(s) {
            digits.push_str(&raw[a..z]);
            let first = groups[s].0;
            let span = Span {
                start: if s == 0 && plus {
                    first.saturating_sub(1)
                } else {
                    first
                },
                end: z,
            };
            let n = digits.len();
            let last = e + 1 == groups.len();
            if s == 0 && plus {
                if n == 11 && digits.starts_with('7') {
                    return Some((format!("+{digits}"), span));
                }
                if !digits.starts_with('7') && (11..=13).contains(&n) && last {
                    return Some((format!("+{digits}"), span));
                }
            } else if n == 11 && (digits.starts_with('8') || digits.starts_with('7')) {
                return Some((format!("+7{}", &digits[1..]), span));
            }
            if n == 10 && digits.starts_with('7') && !(s == 0 && plus) {
                ten = Some((format!("+7{digits}"), e));
            }
            if n >= 11 {
                break;
            }
        }
        // Ten digits starting with 7 ("701 123 45 67") when nothing longer continues it.
        if let Some((p, e)) = ten {
            let next_len = groups.get(e + 1).map_or(0, |&(a, z)| z - a);
            if next_len == 0 || next_len > 2 {
                let span = Span {
                    start: groups[s].0,
                    end: groups[e].1,
                };
                return Some((p, span));
            }
        }
    }
    None
}

/// Finds the first e-mail address, lower-cased.
pub(crate) fn email(raw: &str) -> Option<(String, Span)> {
    let local = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let domain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-');
    for (at, _) in raw.match_indices('@') {
        let start = raw[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| local(c))
            .last()
            .map_or(at, |(k, _)| k);
        let after = &raw[at + 1..];
        let len = after
            .char_indices()
            .take_while(|&(_, c)| domain(c))
            .last()
            .map_or(0, |(k, c)| k + c.len_utf8());
        let dom = after[..len].trim_end_matches(['.', '-']);
        let user = raw[start..at].trim_start_matches('.');
        let tld_ok = dom.rsplit_once('.').is_some_and(|(h, tld)| {
            !h.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
        });
        if !user.is_empty() && tld_ok {
            let s = at - user.len();
            return Some((
                format!("{user}@{dom}").to_ascii_lowercase(),
                Span {
                    start: s,
                    end: at + 1 + dom.len(),
                },
            ));
        }
    }
    None
}

/// Words fully inside a byte span.
pub(crate) fn words_in(t: &Text, span: Span) -> std::ops::Range<usize> {
    let first = t
        .words
        .iter()
        .position(|w| w.start >= span.start)
        .unwrap_or(t.len());
    let end = t
        .words
        .iter()
        .position(|w| w.start >= span.end)
        .unwrap_or(t.len());
    first..end.max(first)
}

/// Fills phone and e-mail; claims their words in `used`. Returns the word ranges found.
pub(crate) fn extract(
    t: &Text,
    used: &mut [bool],
    slots: &mut Slots,
) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    if let Some((p, span)) = phone(t.raw) {
        slots.phone = Some(p);
        ranges.push(words_in(t, span));
    }
    if let Some((e, span)) = email(t.raw) {
        slots.email = Some(e);
        ranges.push(words_in(t, span));
    }
    for r in &ranges {
        for u in used.iter_mut().take(r.end).skip(r.start) {
            *u = true;
        }
    }
    ranges
}

/// Strong introductions: the next word is the name even in lower case.
const STRONG: &[&[&str]] = &[
    &["меня", "зовут"],
    &["зовут"],
    &["мое", "имя"],
    &["my", "name", "is"],
    &["my", "name's"],
    &["name", "is"],
    &["менин", "атым"],
    &["менин", "есимим"],
    &["атым"],
    &["есимим"],
    &["имя"],
    &["name"],
];
/// Weak introductions: only a capitalised word that ends the clause.
const WEAK: &[&[&str]] = &[
    &["я"],
    &["это"],
    &["i", "am"],
    &["i'm"],
    &["im"],
    &["this", "is"],
    &["мен"],
];

/// The customer's name as written. `stop(i)` says word `i` is a known word of the domain
/// (place, month, intent cue…) and cannot be a name; `contacts` are the phone/e-mail words.
pub(crate) fn name(
    t: &Text,
    contacts: &[std::ops::Range<usize>],
    stop: &dyn Fn(usize) -> bool,
) -> Option<String> {
    let n = t.len();
    let plausible = |i: usize| {
        t.words
            .get(i)
            .is_some_and(|w| w.kind == Kind::Word && (2..=30).contains(&w.fold.chars().count()))
            && !stop(i)
            && !contacts.iter().any(|r| r.contains(&i))
    };
    let ends_clause = |i: usize| i + 1 >= n || !t.gap(i + 1).punct.is_empty() || t.is_num(i + 1);
    let with_surname = |i: usize| -> String {
        let j = i + 1;
        let surname = plausible(j)
            && t.words.get(j).is_some_and(|w| w.cap)
            && t.gap(j).punct.is_empty()
            && looks_like_surname(t.w(j));
        if surname {
            t.raw_span(i, j).to_string()
        } else {
            t.raw_word(i).to_string()
        }
    };
    for i in 0..n {
        for (list, strong) in [(STRONG, true), (WEAK, false)] {
            for pat in list {
                if (0..pat.len()).all(|k| t.w(i + k) == pat[k]) {
                    let c = i + pat.len();
                    let cap = t.words.get(c).is_some_and(|w| w.cap);
                    // "Имя" alone is a trigger only with a colon ("Имя: Айгуль").
                    if pat.len() == 1
                        && matches!(pat[0], "имя" | "name")
                        && !t.gap(c).punct.contains(':')
                    {
                        continue;
                    }
                    if plausible(c) && (strong || (cap && ends_clause(c))) {
                        return Some(with_surname(c));
                    }
                }
            }
        }
    }
    // "Перезвоните мне 8 701 123 45 67, Айгуль" / "Айгуль, 87011234567".
    for r in contacts.iter().filter(|r| !r.is_empty()) {
        let after = r.end;
        if plausible(after) && t.words[after].cap && ends_clause(after) {
            return Some(with_surname(after));
        }
        // "…, перезвоните, Асель": a capitalised last word set off by a comma.
        let last = n.wrapping_sub(1);
        if r.end < n
            && plausible(last)
            && t.words[last].cap
            && t.gap(last).punct.contains([',', '-', '—'])
            && t.gap(n).punct.chars().all(|c| matches!(c, '.' | '!' | ')'))
        {
            return Some(t.raw_word(last).to_string());
        }
        let before = r.start.wrapping_sub(1);
        if plausible(before)
            && t.words[before].cap
            && t.gap(r.start)
                .punct
                .chars()
                .all(|c| matches!(c, ',' | ':' | '-' | '+' | '('))
            && (before == 0 || !t.gap(before).punct.is_empty())
        {
            return Some(t.raw_word(before).to_string());
        }
    }
    None
}

fn looks_like_surname(w: &str) -> bool {
    [
        "ов",
        "ова",
        "ев",
        "ева",
        "ин",
        "ина",
        "ский",
        "ская",
        "вич",
        "вна",
        "улы",
        "кызы",
        "уулу",
        "енко",
        "ко",
        "ук",
        "юк",
        "ян",
        "бек",
        "бекова",
        "баев",
        "баева",
    ]
    .iter()
    .any(|s| w.ends_with(s))
        || w.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_to_e164() {
        for (s, p) in [
            ("8 701 123 45 67", "+77011234567"),
            ("+7 (701) 123-45-67", "+77011234567"),
            ("87011234567", "+77011234567"),
            ("+77011234567", "+77011234567"),
            ("тел: 8-747-555-12-34, Айгуль", "+77475551234"),
            ("7011234567", "+77011234567"),
            ("701 123 45 67", "+77011234567"),
            ("нас 2 87011234567", "+77011234567"),
            ("8(727)2501234", "+77272501234"),
            ("+998 90 123 45 67", "+998901234567"),
        ] {
            assert_eq!(phone(s).map(|x| x.0).as_deref(), Some(p), "{s}");
        }
        for s in [
            "800 000",
            "15.01.2027",
            "2 взрослых 5 лет",
            "123456789012345",
            "+",
            "8",
        ] {
            assert_eq!(phone(s), None, "{s}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("почта daniyar.k@Mail.ru, хотим")
                .map(|x| x.0)
                .as_deref(),
            Some("daniyar.k@mail.ru")
        );
        assert_eq!(
            email("Write to A.B+tour@Gmail.COM.")
                .map(|x| x.0)
                .as_deref(),
            Some("a.b+tour@gmail.com")
        );
        assert_eq!(email("@ @@ a@b x@y.z"), None);
    }
}
