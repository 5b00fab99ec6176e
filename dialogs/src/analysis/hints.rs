//! Hints about offers already shown: "more", a chosen option, "cheaper".
//!
//! These are not slots of the search; the dialog layer uses them to page through
//! offers ("ещё варианты", "келесі"), to pick one ("второй", "бронируем 2", "the first
//! option", "екінші") and to re-sort ("подешевле", "cheaper", "арзанырақ").

use std::sync::LazyLock;

use super::Hints;
use super::lexicon::Lexicon;
use super::text::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    More,
    Cheaper,
    /// A phrase that looks like "more"/"next" but is not ("next week", "more expensive").
    Neither,
}

static CUES: LazyLock<Lexicon<Cue>> = LazyLock::new(|| {
    Lexicon::new(&[
        (
            "еще вариант*3|еще предлож*5|еще отел*3|еще тур*2|еще что нибудь|еще что то|еще есть|есть еще|покажите еще|покажи еще|скиньте еще|скинь еще|пришлите еще|дайте еще|еще подборк*|других вариант*|другие вариант*|другой вариант|другие отел*|другие туры|другое предлож*|больше вариантов|more|more options|other options|another option|anything else|something else|next|show more|next options|келесі|тағы|басқа нұсқа*|басқа",
            Cue::More,
        ),
        (
            "next week|next month|next year|next weekend|more expensive|more than|more people|келесі апта*|келесі ай*|келесі жыл*|еще нужн*|еще вопрос*|еще нужна|еще нужен|тағы бір сұрақ",
            Cue::Neither,
        ),
        (
            "дешевле|подешевле|дешевл*4|подешевше|бюджетнее|cheaper|less expensive|lower price|more affordable|арзанырақ|арзандау|арзан*6",
            Cue::Cheaper,
        ),
    ])
});

fn ordinal(w: &str) -> Option<u32> {
    let stem = |s: &str| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= 3);
    Some(
        if stem("перв") || matches!(w, "first" | "1st" | "биринши") {
            1
        } else if (stem("втор") && !w.starts_with("вторник"))
            || matches!(w, "second" | "2nd" | "екинши")
        {
            2
        } else if stem("трет") || matches!(w, "third" | "3rd" | "ушинши") {
            3
        } else if stem("четверт") || matches!(w, "fourth" | "4th" | "тортинши") {
            4
        } else if (stem("пят") && !matches!(w, "пять" | "пяти" | "пятью" | "пятеро"))
            || matches!(w, "fifth" | "5th" | "бесинши")
        {
            5
        } else if (stem("шест") && !matches!(w, "шесть" | "шести" | "шестеро"))
            || matches!(w, "sixth" | "6th" | "алтыншы")
        {
            6
        } else if (stem("седьм") && !w.starts_with("седьмиц"))
            || matches!(w, "seventh" | "7th" | "жетинши")
        {
            7
        } else if (stem("восьм") && !matches!(w, "восьми" | "восьмью"))
            || matches!(w, "eighth" | "8th" | "сегизинши")
        {
            8
        } else if (stem("девят") && !matches!(w, "девять" | "девяти" | "девятью"))
            || matches!(w, "ninth" | "9th" | "тогызыншы")
        {
            9
        } else if (stem("десят") && !matches!(w, "десять" | "десяти" | "десятью" | "десятка"))
            || matches!(w, "tenth" | "10th" | "оныншы")
        {
            10
        } else {
            return None;
        },
    )
}

/// Words after an ordinal that make it something other than a choice of offer.
const NOT_CHOICE: &[&str] = &[
    "половин",
    "линия",
    "линии",
    "линию",
    "line",
    "недел",
    "числ",
    "декад",
    "раз",
    "ребен",
    "child",
    "kid",
    "этаж",
    "floor",
    "день",
    "дня",
    "day",
    "week",
    "half",
    "class",
    "класс",
    "взросл",
    "январ",
    "феврал",
    "март",
    "апрел",
    "мая",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
    "of",
    "очеред",
    "time",
    "visit",
    "trip",
];

const CHOICE_NOUNS: &[&str] = &[
    "вариант",
    "option",
    "номер",
    "предлож",
    "отел",
    "тур",
    "offer",
    "hotel",
    "нуска",
];

const TAKE_VERBS: &[&str] = &[
    "брон",
    "заброн",
    "бер",
    "возьм",
    "book",
    "take",
    "давайте",
    "выбира",
    "выбер",
    "аламыз",
];

/// Detects the hints; `used` marks numbers other extractors already explained.
pub(crate) fn detect(t: &Text, used: &[bool]) -> Hints {
    let mut hints = Hints::default();
    let mut neither = false;
    for h in CUES.scan(t) {
        match h.val {
            Cue::More => {
                // "more" needs to end the clause or precede an offer noun.
                if t.is(h.start, &["more", "next"]) && h.end == h.start + 1 {
                    let next = t.w(h.end);
                    if !(next.is_empty()
                        || !t.gap(h.end).punct.is_empty()
                        || t.starts(h.end, CHOICE_NOUNS)
                        || t.starts(
                            h.end,
                            &["варианты", "deals", "tours", "hotels", "please", "pls"],
                        ))
                    {
                        continue;
                    }
                }
                hints.more = true;
            }
            Cue::Cheaper => hints.cheaper = true,
            Cue::Neither => neither = true,
        }
    }
    // A bare "ещё?" or "а ещё есть?" in a short message.
    if !hints.more && !neither && t.len() <= 3 && (0..t.len()).any(|i| t.w(i) == "еще") {
        hints.more = true;
    }
    hints.choice = choice(t, used);
    hints
}

fn choice(t: &Text, used: &[bool]) -> Option<u32> {
    let free = |i: usize| !used.get(i).copied().unwrap_or(true);
    for i in 0..t.len() {
        if let Some(v) = ordinal(t.w(i)) {
            // "второй не подходит" rejects an offer rather than choosing it.
            let rejected = t.is(i + 1, &["не", "not", "isn't", "doesn't", "емес"])
                || t.is(i + 2, &["не", "not", "isn't", "doesn't", "емес"]);
            if !t.starts(i + 1, NOT_CHOICE) && !rejected {
                return Some(v);
            }
            continue;
        }
        if !t.is_num(i) || !free(i) || t.digits(i) > 2 {
            continue;
        }
        let Some(v) = t.num(i).filter(|v| (1..=20).contains(v)).map(|v| v as u32) else {
            continue;
        };
        let hash = t.gap(i).punct.contains(['#', '№']);
        let noun_before = t.starts(i.wrapping_sub(1), CHOICE_NOUNS);
        // "2 вариант", "2-й вариант"
        let after = if t.is(i + 1, &["й", "ой", "ий", "ый", "я", "ая", "е", "ое"]) {
            i + 2
        } else {
            i + 1
        };
        let noun_after = t.starts(after, &["вариант", "option", "предлож"]);
        let verb_before = (1..=2).any(|k| t.starts(i.wrapping_sub(k), TAKE_VERBS))
            && (t.len() == i + 1
                || !t.gap(i + 1).punct.is_empty()
                || t.starts(i + 1, CHOICE_NOUNS));
        if hash || noun_before || noun_after || verb_before {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Hints {
        let t = Text::new(s);
        detect(&t, &vec![false; t.len()])
    }

    #[test]
    fn more_and_cheaper() {
        for s in [
            "Покажите ещё варианты",
            "ещё?",
            "другие варианты есть?",
            "more options please",
            "келесі",
            "тағы нұсқалар",
            "Show more",
        ] {
            assert!(run(s).more, "{s}");
        }
        for s in [
            "на следующей неделе",
            "next week",
            "ещё нужна виза?",
            "more expensive is fine",
        ] {
            assert!(!run(s).more, "{s}");
        }
        for s in [
            "а подешевле?",
            "есть дешевле",
            "cheaper please",
            "арзанырақ бар ма",
        ] {
            assert!(run(s).cheaper, "{s}");
        }
    }

    #[test]
    fn choices() {
        for (s, v) in [
            ("второй", 2),
            ("Хочу забронировать второй вариант", 2),
            ("бронируем 2", 2),
            ("the first option", 1),
            ("екінші", 2),
            ("вариант 3", 3),
            ("#4", 4),
            ("3-й вариант", 3),
            ("I'll take option 1", 1),
        ] {
            assert_eq!(run(s).choice, Some(v), "{s}");
        }
        for s in [
            "во второй половине марта",
            "первая линия",
            "на 2 взрослых",
            "первого января",
        ] {
            assert_eq!(run(s).choice, None, "{s}");
        }
    }
}
