//! Dates and trip length: the departure window (`date_from`..`date_to`) and nights.
//!
//! Nights are read first so that their numbers are not taken for days. Date expressions
//! are collected by position and the first one wins, as the first of alternatives does
//! everywhere, except that a day or a from–to range written later inside the first window
//! refines it ("после Наурыза, числа 25" → 25 March). The expressions:
//! - a day ("15 января", "двадцатого декабря", "Jan 5th", "15.01"), a day with no month
//!   ("числа 20-го", "around the 20th": this month if the day is still ahead, else the next);
//! - a month or a part of it ("в начале марта", "mid-march", "first week of feb",
//!   "наурыздың басында", "в конце месяца", "в первых числах");
//! - a from–to trip ("с 5 по 15 января", "20–30 января", "dec 27 - jan 5");
//! - holidays, school holidays and seasons ("на новый год", "на майские", "на Наурыз",
//!   "весенние каникулы", "летом"), with the windows set out in `docs/analysis.md`;
//! - "после 10 января" / "after jan 10" / "10 қаңтардан кейін": the ten days after it;
//! - relative phrases ("завтра", "на следующей неделе").
//!
//! A year that is not written is the next one in which the window has not yet passed.
//! Beside the slots, [`DateNotes`] tells the dialog the two ends of a range and whether
//! the date was approximate ("примерно", "числа 20-го", "+- 3 дня", "around").

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate};

use std::collections::HashMap;

use super::Slots;
use super::lexicon::{BuildFx, Lexicon};
use super::text::Text;

/// Part of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    /// Days 1–10.
    Start,
    /// Days 11–20.
    Middle,
    /// Day 21 to the last.
    End,
    /// Days 1–15.
    FirstHalf,
    /// Day 16 to the last.
    SecondHalf,
    /// Week `n` (1–4): days 7n−6 to 7n.
    Week(u32),
    /// The last seven days.
    LastWeek,
    /// "в 20-х числах": days 10–19, 20–29 or 30 to the last.
    Decade(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Today,
    Tomorrow,
    AfterTomorrow,
    NextWeek,
    ThisWeek,
    Weekend,
    NextMonth,
    ThisMonth,
}

static REL: LazyLock<Lexicon<Rel>> = LazyLock::new(|| {
    Lexicon::new(&[
        ("сегодня|today|tonight|бүгін", Rel::Today),
        ("завтра|tomorrow|ертең|ертеңге", Rel::Tomorrow),
        (
            "послезавтра|day after tomorrow|бүрсігүні",
            Rel::AfterTomorrow,
        ),
        (
            "следующей неделе|следующей недели|след неделе|следующую неделю|next week|келесі аптада|келесі апта*3",
            Rel::NextWeek,
        ),
        ("этой неделе|this week|осы аптада", Rel::ThisWeek),
        (
            "на выходных|на выходные|в выходные|эти выходные|this weekend|on the weekend|for the weekend|демалыс күндері",
            Rel::Weekend,
        ),
        (
            "следующем месяце|следующий месяц|next month|келесі айда|келесі ай",
            Rel::NextMonth,
        ),
        ("этом месяце|this month|осы айда", Rel::ThisMonth),
    ])
});

/// Holidays, school holidays and seasons: a fixed window of departure dates each year,
/// `(month, day)` to `(month, day)`, day 0 meaning the last day of the month. The windows
/// are the agency's rules, written out in `docs/analysis.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Season {
    from: (u32, u32),
    to: (u32, u32),
}

const NEW_YEAR: Season = Season {
    from: (12, 25),
    to: (12, 31),
};
const CHRISTMAS: Season = Season {
    from: (12, 20),
    to: (12, 25),
};
const MAY_HOLIDAYS: Season = Season {
    from: (5, 1),
    to: (5, 10),
};
const NAURYZ: Season = Season {
    from: (3, 19),
    to: (3, 23),
};
/// Kazakhstan's school holidays (the Ministry of Education's calendar for 2025–26; other
/// years move by a day or two).
const SCHOOL_AUTUMN: Season = Season {
    from: (10, 27),
    to: (11, 2),
};
const SCHOOL_WINTER: Season = Season {
    from: (12, 29),
    to: (1, 7),
};
const SCHOOL_SPRING: Season = Season {
    from: (3, 19),
    to: (3, 29),
};
const SCHOOL_SUMMER: Season = Season {
    from: (5, 26),
    to: (8, 31),
};
const SUMMER: Season = Season {
    from: (6, 1),
    to: (8, 31),
};
const AUTUMN: Season = Season {
    from: (9, 1),
    to: (11, 30),
};
const WINTER: Season = Season {
    from: (12, 1),
    to: (2, 0),
};
const SPRING: Season = Season {
    from: (3, 1),
    to: (5, 31),
};

static SEASONS: LazyLock<Lexicon<Season>> = LazyLock::new(|| {
    Lexicon::new(&[
        (
            "новый год|нового года|новому году|новым годом|новый годик|на нг|новогодн*4 праздник*3|новогодн*4|new year*2|new years eve|new year's eve|нг праздники|жаңа жыл*4|жана жыл*4",
            NEW_YEAR,
        ),
        ("christmas*2|xmas|christmas holidays", CHRISTMAS),
        (
            "майские|майских|майск*3 праздник*3|may holidays|мамыр мереке*4",
            MAY_HOLIDAYS,
        ),
        (
            "на наурыз|в наурыз|наурыза|наурызе|наурыз мейрам*6|наурыз мерек*6|наурыз праздник*3|праздник наурыз*2|nauryz*2|навруз*2|наурызские*2",
            NAURYZ,
        ),
        (
            "осенн*3 каникул*3|күзгі каникул*3|күзгі демалыс*3|autumn break|fall break|autumn school holidays",
            SCHOOL_AUTUMN,
        ),
        (
            "зимн*3 каникул*3|новогодн*4 каникул*3|январск*3 праздник*3|январск*3 каникул*3|қысқы каникул*3|қысқы демалыс*3|winter break|winter school holidays",
            SCHOOL_WINTER,
        ),
        (
            "весенн*3 каникул*3|көктемгі каникул*3|көктемгі демалыс*3|spring break|spring school holidays",
            SCHOOL_SPRING,
        ),
        (
            "летн*3 каникул*3|жазғы каникул*3|жазғы демалыс*3|summer break|summer school holidays",
            SCHOOL_SUMMER,
        ),
        (
            "летом|на лето|лето|этим летом|следующим летом|summer|in summer|this summer|next summer|жазда|жазға|биыл жазда|келесі жазда",
            SUMMER,
        ),
        (
            "осенью|на осень|этой осенью|следующей осенью|autumn|in autumn|in the fall|this fall|next fall|күзде|күзге",
            AUTUMN,
        ),
        (
            "зимой|на зиму|этой зимой|следующей зимой|winter|in winter|this winter|next winter|қыста|қысқы",
            WINTER,
        ),
        (
            "весной|на весну|этой весной|следующей весной|spring|in spring|this spring|next spring|көктемде|көктемге",
            SPRING,
        ),
    ])
});

/// A date expression, with the words it spans.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mention {
    Day {
        d: u32,
        m: u32,
        y: Option<i32>,
    },
    /// A day of the month with no month ("числа 20-го", "the 20th").
    DayOnly {
        d: u32,
    },
    Month {
        m: u32,
        part: Part,
        y: Option<i32>,
    },
    /// Part of this month (or of the next one): "в конце месяца", "в первых числах",
    /// "в начале следующего месяца".
    ThisMonth {
        part: Part,
        next: bool,
    },
    /// A trip from one day to another ("с 5 по 15 января").
    Range {
        d1: u32,
        m1: u32,
        d2: u32,
        m2: u32,
        y: Option<i32>,
    },
    /// A from–to range of days with no month ("с 20 по 30", "числа 15-20").
    DaysOnly {
        d1: u32,
        d2: u32,
    },
    Season {
        season: Season,
        /// "next summer": not the one under way.
        next: bool,
    },
    Rel(Rel),
}

#[derive(Debug, Clone, Copy)]
struct Found {
    first: usize,
    last: usize,
    what: Mention,
}

/// Whether a message is about a trip, for relative dates: "завтра" in "перезвоните завтра"
/// or "сегодня" in "какой сегодня курс" is not a departure date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Travel {
    /// Travel words or search slots are present.
    pub certain: bool,
    /// Nothing points elsewhere either (a bare "завтра" answers the bot's question).
    pub possible: bool,
}

/// What the dates say beyond the slots, for the dialog's hints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DateNotes {
    /// Both ends of a from–to range ("с 20 по 30 января"), whatever the slots say.
    pub range: Option<(NaiveDate, NaiveDate)>,
    /// The date was said to be approximate, or nights were given with a margin.
    pub approximate: bool,
}

/// Words that make a date approximate when they stand next to it.
const APPROX_BEFORE: &[&str] = &[
    "примерно",
    "около",
    "приблизительно",
    "ориентировочно",
    "районе",
    "где",
    "числа",
    "around",
    "about",
    "approximately",
    "approx",
    "roughly",
    "circa",
    "шамамен",
    "шамасы",
];
const APPROX_AFTER: &[&str] = &["числа", "шамасында", "шамасы", "шамалы", "примерно"];

/// Fills nights and dates; returns the notes for the hints.
pub(crate) fn extract(
    t: &Text,
    today: NaiveDate,
    travel: Travel,
    used: &mut [bool],
    slots: &mut Slots,
) -> DateNotes {
    let mut notes = DateNotes::default();
    if let Some((lo, hi, margin)) = nights(t, used) {
        slots.nights_from = Some(lo);
        slots.nights_to = Some(hi);
        notes.approximate |= margin;
    }
    // Holidays and seasons first: "на Наурыз" is the holiday, not the month of March.
    let mut seen = used.to_vec();
    let mut found = Vec::new();
    for h in SEASONS.scan(t) {
        // "Winter Garden Hotel", "Spring Resort": part of a name.
        let name = t.words[h.start].latin
            && t.words[h.start].cap
            && t.words.get(h.end).is_some_and(|w| w.latin && w.cap);
        if name || (h.start..h.end).any(|k| seen[k]) {
            continue;
        }
        seen[h.start..h.end].fill(true);
        let next = t.is(h.start, &["следующим", "следующей", "next", "келеси"])
            || t.is(
                h.start.wrapping_sub(1),
                &["next", "следующим", "следующей", "келеси"],
            );
        found.push(Found {
            first: h.start,
            last: h.end - 1,
            what: Mention::Season {
                season: h.val,
                next,
            },
        });
    }
    found.extend(mentions(t, &seen));
    for h in REL.scan(t) {
        // "до завтра" is a goodbye.
        if h.val == Rel::Tomorrow && t.is(h.start.wrapping_sub(1), &["до"]) {
            continue;
        }
        // "Работаете ли вы в выходные?", "перезвоните завтра": not about a trip. "Сегодня"
        // is a date only next to travel words ("вылет сегодня").
        let departure = t.any_starts(&[
            "вылет",
            "улет",
            "летим",
            "лететь",
            "fly",
            "flight",
            "depart",
            "leav",
            "горящ",
            "ушу",
            "ушамыз",
        ]);
        let ok = if h.val == Rel::Today {
            travel.certain && departure
        } else {
            travel.possible
        };
        if !ok {
            continue;
        }
        found.push(Found {
            first: h.start,
            last: h.end - 1,
            what: Mention::Rel(h.val),
        });
    }
    found.sort_by_key(|f| f.first);
    let Some(&first) = found.first() else {
        return notes;
    };
    let mut chosen = first;
    let mut window = resolve(first.what, today);
    // A day or a range written later inside the first window refines it.
    if !matches!(
        first.what,
        Mention::Day { .. } | Mention::DayOnly { .. } | Mention::Range { .. } | Mention::Rel(_)
    ) && let Some((a, b)) = window.map(|w| after(t, &first, w))
    {
        for f in &found[1..] {
            if !matches!(
                f.what,
                Mention::Day { .. } | Mention::DayOnly { .. } | Mention::Range { .. }
            ) {
                continue;
            }
            if let Some(w) = resolve(f.what, a)
                && w.0 >= a
                && w.0 <= b
            {
                chosen = *f;
                window = Some(w);
                break;
            }
        }
    }
    for u in used.iter_mut().take(chosen.last + 1).skip(chosen.first) {
        *u = true;
    }
    let Some(window) = window else {
        return notes;
    };
    // "flexible dates", "даты гибкие": the whole message says so.
    notes.approximate |= approximate(t, &chosen) || t.any_starts(&["flexib", "гибк"]);
    let (a, b) = after(t, &chosen, window);
    if (a, b) != window {
        slots.date_from = Some(a);
        slots.date_to = Some(b);
        return notes;
    }
    if matches!(
        chosen.what,
        Mention::Range { .. } | Mention::DaysOnly { .. }
    ) {
        let (from, to) = window;
        notes.range = Some(window);
        let n = (to - from).num_days();
        // "числа 15-20": a window of departure days, not a trip.
        let loose = t.is(chosen.first.wrapping_sub(1), &["числа"])
            || t.is(chosen.first.wrapping_sub(2), &["числа"]);
        if (1..=30).contains(&n) && slots.nights_from.is_none() && !loose {
            // A trip: departure on the first day, the length in nights.
            slots.nights_from = u32::try_from(n).ok();
            slots.nights_to = slots.nights_from;
            slots.date_from = Some(from);
            slots.date_to = Some(from);
            return notes;
        }
        // Explicit nights were given too: the range is a window of departure dates.
    }
    slots.date_from = Some(window.0);
    slots.date_to = Some(window.1);
    notes
}

/// "после 10 января", "after jan 10", "10 қаңтардан кейін": the ten days after the window;
/// otherwise the window itself.
fn after(t: &Text, f: &Found, (a, b): (NaiveDate, NaiveDate)) -> (NaiveDate, NaiveDate) {
    let marked = t.is(f.first.wrapping_sub(1), &["после", "after"])
        || t.is(f.last + 1, &["кейин", "кейн", "соң", "сон"]);
    if !marked {
        return (a, b);
    }
    match (
        b.checked_add_days(Days::new(1)),
        b.checked_add_days(Days::new(10)),
    ) {
        (Some(x), Some(y)) => (x, y),
        _ => (a, b),
    }
}

/// A word of approximation next to the date: "примерно 20 января", "числа 20-го",
/// "around the 20th", "вылет 10 января, +- 3 дня", "15 қаңтар шамасында", "20ish".
fn approximate(t: &Text, f: &Found) -> bool {
    let before = (1..=3).any(|k| {
        let i = f.first.wrapping_sub(k);
        t.is(i, APPROX_BEFORE)
            // "где-то", not "где"; "about", not "what about".
            && (t.w(i) != "где" || t.is(i + 1, &["то"]))
            && !(t.w(i) == "about" && t.is(i.wrapping_sub(1), &["what", "how"]))
    });
    let (n1, n2) = (f.last + 1, f.last + 2);
    let after = t.is(n1, APPROX_AFTER)
        || (t.is(n1, &["плюс"]) && t.is(n2, &["минус"]))
        || (t.is(n1, &["or"]) && t.is(n2, &["so"]))
        || (t.is(n1, &["give"]) && t.is(n2, &["or"]))
        || (t.is(n1, &["ish"]) && t.glued(n1));
    let signs =
        |g: &str| g.contains('±') || g.contains("+-") || g.contains("+/-") || g.contains('~');
    // "в 20-х числах": about then.
    let decade = matches!(
        f.what,
        Mention::Month {
            part: Part::Decade(_),
            ..
        }
    );
    before || after || decade || signs(&t.gap(f.first).punct) || signs(&t.gap(n1).punct)
}

/// The window of a mention, relative to `today`.
fn resolve(what: Mention, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    match what {
        Mention::Day { d, m, y } => resolve_day(d, m, y, today).map(|x| (x, x)),
        Mention::DayOnly { d } => day_of_some_month(d, today).map(|x| (x, x)),
        Mention::Month { m, part, y } => month_window(m, part, y, today),
        Mention::ThisMonth { part, next } => {
            let first = today.with_day(1)?;
            let base = if next {
                first.checked_add_months(Months::new(1))?
            } else {
                first
            };
            let w = month_window(base.month(), part, Some(base.year()), today)?;
            if w.1 >= today || next {
                Some(w)
            } else {
                let n = base.checked_add_months(Months::new(1))?;
                month_window(n.month(), part, Some(n.year()), today)
            }
        }
        Mention::Rel(r) => relative(r, today),
        Mention::Range { d1, m1, d2, m2, y } => {
            let from = resolve_day(d1, m1, y, today)?;
            let to = resolve_day(d2, m2, None, from)?;
            Some((from, to))
        }
        Mention::DaysOnly { d1, d2 } => {
            let from = day_of_some_month(d1, today)?;
            let to = from.checked_add_days(Days::new(u64::from(d2.checked_sub(d1)?)))?;
            Some((from, to))
        }
        Mention::Season { season, next } => season_window(season, next, today),
    }
}

/// The next day `d` of a month that is not before `today`: this month's if still ahead.
fn day_of_some_month(d: u32, today: NaiveDate) -> Option<NaiveDate> {
    let first = today.with_day(1)?;
    (0..13)
        .filter_map(|k| first.checked_add_months(Months::new(k)))
        .filter_map(|m| m.with_day(d))
        .find(|&x| x >= today)
}

/// The next occurrence of a season whose end has not passed (with `next`, one that has not
/// begun either).
fn season_window(s: Season, next: bool, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let date = |y: i32, (m, d): (u32, u32)| {
        let d = if d == 0 { last_day(y, m)? } else { d };
        NaiveDate::from_ymd_opt(y, m, d)
    };
    let crosses = s.to.0 < s.from.0;
    (today.year() - 1..=today.year() + 2).find_map(|y| {
        let a = date(y, s.from)?;
        let b = date(if crosses { y + 1 } else { y }, s.to)?;
        (b >= today && !(next && a <= today)).then_some((a, b))
    })
}

// ---------------------------------------------------------------- nights

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Night,
    Day,
    Week,
}

fn unit(w: &str) -> Option<Unit> {
    let rest = |stem: &str, max: usize| {
        w.strip_prefix(stem)
            .is_some_and(|r| r.chars().count() <= max)
    };
    // "nigts", "nihgts": one typo in "nights".
    let nights_typo = || {
        let letters: Vec<char> = w.chars().collect();
        let nights: Vec<char> = "nights".chars().collect();
        letters.len() >= 5 && letters[0] == 'n' && super::lexicon::within_one(&letters, &nights)
    };
    if rest("ноч", 4)
        || rest("тун", 4)
        || rest("tun", 3)
        || matches!(
            w,
            "night"
                | "nights"
                | "nts"
                | "nites"
                | "nite"
                | "нощей"
                | "nochei"
                | "nochey"
                | "nochi"
                | "noch"
        )
        || nights_typo()
    {
        Some(Unit::Night)
    } else if matches!(
        w,
        "день"
            | "дня"
            | "дней"
            | "дн"
            | "day"
            | "days"
            | "кун"
            | "кунге"
            | "кундик"
            | "суток"
            | "dnei"
            | "dney"
            | "dnya"
            | "kun"
            | "kunge"
    ) {
        Some(Unit::Day)
    } else if rest("недел", 3)
        || rest("nedel", 3)
        || matches!(w, "week" | "weeks" | "апта" | "аптага" | "апталык")
    {
        Some(Unit::Week)
    } else {
        None
    }
}

/// A unit at word `i`, also "н"/"n" glued to a number ("10н", "7n").
fn unit_at(t: &Text, i: usize) -> Option<Unit> {
    unit(t.w(i)).or_else(|| {
        (t.is(i, &["н", "n"]) && t.glued(i) && t.is_num(i.wrapping_sub(1))).then_some(Unit::Night)
    })
}

/// A small count at word `i`: digits up to 99 or a number word (not "двое").
fn small_number(t: &Text, i: usize, used: &[bool]) -> Option<u32> {
    if used.get(i).copied().unwrap_or(true) {
        return None;
    }
    if t.is_num(i) {
        return t.num(i).filter(|&v| v <= 99).map(|v| v as u32);
    }
    t.number_word(i)
        .filter(|&(_, collective)| !collective)
        .map(|(v, _)| v)
}

/// A count that ends at word `j`: `(value, first word)`. Also two-word numbers ("двадцать
/// один день") and the Kazakh "он" before a unit ("он түн").
fn count_ending(t: &Text, j: usize, used: &[bool]) -> Option<(u32, usize)> {
    let is_unit = |w: &str| unit(w).is_some();
    let free = |k: usize| !used.get(k).copied().unwrap_or(true);
    let p = j.wrapping_sub(1);
    if free(p)
        && free(j)
        && let Some((v, end)) = t.number_at(p, &is_unit)
        && end == j + 1
    {
        return Some((v, p));
    }
    if free(j)
        && let Some((v, end)) = t.number_at(j, &is_unit)
        && end == j + 1
        && !t.is_num(j)
    {
        return Some((v, j));
    }
    small_number(t, j, used).map(|v| (v, j))
}

/// A count written after a unit: "ночей 7", "дней на 10", "ночей: 10": `(value, index of its
/// last word)`. Only in Russian and Kazakh word order, and not when the number has a unit
/// of its own ("ночей 2 взрослых" is not two nights).
fn count_after(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize)> {
    let latin = t.words.get(i).is_some_and(|w| w.latin);
    if latin || unit_at(t, i) == Some(Unit::Week) && !t.is(i, &["недель", "недели"]) {
        return None;
    }
    let j = if t.is(i + 1, &["на", "по", "около", "примерно"]) {
        i + 1
    } else {
        i
    };
    let v = small_number(t, j + 1, used)?;
    let last = t.skip_num_suffix(j + 2);
    let last = if last == j + 1 { j + 2 } else { j + 1 };
    let next = t.w(last + 1);
    let own_unit = unit(next).is_some()
        || t.starts(
            last + 1,
            &[
                "взр",
                "реб",
                "дет",
                "чел",
                "adult",
                "звезд",
                "тыс",
                "млн",
                "лет",
                "год",
                "жас",
            ],
        )
        || (t.gap(last + 1).punct.is_empty() && t.is_num(last + 1));
    (!own_unit && t.gap(j + 1).punct.chars().all(|c| c == ':')).then_some((v, last))
}

/// Nights: `(from, to, margin)`; a margin said as a number of days ("+- 3 дня", "плюс минус
/// пару дней", "give or take 2 days") is no length, it makes the date approximate.
fn nights(t: &Text, used: &mut [bool]) -> Option<(u32, u32, bool)> {
    let mut margin = false;
    for i in 0..t.len() {
        if used[i] {
            continue;
        }
        let Some(u) = unit_at(t, i) else { continue };
        let j = t.skip_num_suffix(i.wrapping_sub(1));
        let (mut lo, mut hi, mut first);
        if let Some((v, f)) = count_ending(t, j, used) {
            (lo, hi, first) = (v, v, f);
            let g = t.gap(f);
            let dash_lo = if g.is_dash() {
                small_number(t, f.wrapping_sub(1), used)
            } else {
                None
            };
            if let Some(a) = dash_lo {
                (lo, first) = (a, f - 1);
            } else if t.is(f.wrapping_sub(1), &["до", "по", "to", "или", "or", "till"])
                && let Some(a) = small_number(t, f.wrapping_sub(2), used)
            {
                (lo, first) = (a, f - 2);
                if t.is(first.wrapping_sub(1), &["от", "from"]) {
                    first -= 1;
                }
            }
            if lo > hi {
                (lo, hi) = (hi, lo);
            }
        } else if let Some((v, last)) = count_after(t, i, used) {
            // "ночей 7", "ночей 8-10", "дней на 10", "на дней десять": the unit first.
            let upper = if t.gap(last + 1).is_dash() {
                small_number(t, last + 1, used)
            } else {
                None
            };
            let end = if upper.is_some() { last + 1 } else { last };
            let (a, b) = (v.min(upper.unwrap_or(v)), v.max(upper.unwrap_or(v)));
            let (a, b) = match u {
                Unit::Night => (a, b),
                Unit::Day => (a.saturating_sub(1), b.saturating_sub(1)),
                Unit::Week => (a * 7, b * 7),
            };
            if a == 0 || b > 60 {
                continue;
            }
            for k in used.iter_mut().take(end + 1).skip(i) {
                *k = true;
            }
            return Some((a, b, margin));
        } else if u == Unit::Week
            && ((t.is(i, &["неделю", "недельку", "week"])
                && t.is(i.wrapping_sub(1), &["на", "for"]))
                || t.w(i) == "аптага"
                // "нячанг январь неделя": a week said on its own in a request.
                || (t.is(i, &["неделя", "неделька"])
                    && !t.is(
                        i.wrapping_sub(1),
                        &["следующая", "эта", "прошлая", "каждая", "первая", "последняя"],
                    ))
                // "a week in phu quoc", "for one week", not "in a week" or "a week ago".
                || (t.is(i, &["week"])
                    && t.is(i.wrapping_sub(1), &["a", "one"])
                    && !t.is(
                        i.wrapping_sub(2),
                        &["in", "within", "next", "last", "this", "per", "every"],
                    )
                    && !t.is(i + 1, &["ago", "before", "after", "later"])))
        {
            (lo, hi, first) = (1, 1, i);
        } else {
            continue;
        }
        let g = &t.gap(first).punct;
        if t.is(first.wrapping_sub(1), &["минус", "minus", "take"])
            || g.contains('±')
            || g.contains("+-")
            || g.contains("+/-")
        {
            margin = true;
            for k in used.iter_mut().take(i + 1).skip(first) {
                *k = true;
            }
            continue;
        }
        // "через 3 дня", "за 2 дня до вылета", "2 недели назад", "in 3 days": not a length.
        if t.is(
            first.wrapping_sub(1),
            &["через", "за", "уже", "после", "in", "after", "ago"],
        ) || t.is(
            i + 1,
            &[
                "назад",
                "ago",
                "бурын",
                "меньше",
                "больше",
                "less",
                "more",
                "fewer",
                "дольше",
                "короче",
            ],
        ) {
            continue;
        }
        let (lo, hi) = match u {
            Unit::Night => (lo, hi),
            Unit::Day => (lo.saturating_sub(1), hi.saturating_sub(1)),
            Unit::Week => (lo * 7, hi * 7),
        };
        if lo == 0 || hi > 60 {
            continue;
        }
        for k in used.iter_mut().take(i + 1).skip(first) {
            *k = true;
        }
        return Some((lo, hi, margin));
    }
    None
}

// ---------------------------------------------------------------- date mentions

/// Month named by a word: `(month, strict)`; strict names (English "may", Kazakh-looking
/// "сен") count only next to a number or a preposition.
fn month_of(w: &str) -> Option<(u32, bool)> {
    const STEMS: &[(&str, usize, u32)] = &[
        ("январ", 3, 1),
        ("феврал", 3, 2),
        ("март", 3, 3),
        ("апрел", 3, 4),
        ("июн", 3, 6),
        ("июл", 3, 7),
        ("август", 3, 8),
        ("сентябр", 3, 9),
        ("октябр", 3, 10),
        ("ноябр", 3, 11),
        ("декабр", 3, 12),
        ("кантар", 5, 1),
        ("акпан", 5, 2),
        ("наурыз", 5, 3),
        ("сауир", 5, 4),
        ("мамыр", 5, 5),
        ("маусым", 5, 6),
        ("шилде", 5, 7),
        ("тамыз", 5, 8),
        ("кыркуйек", 5, 9),
        ("казан", 5, 10),
        ("караша", 5, 11),
        ("желтоксан", 5, 12),
        ("january", 0, 1),
        ("february", 0, 2),
        ("march", 0, 3),
        ("april", 0, 4),
        ("june", 0, 6),
        ("july", 0, 7),
        ("august", 0, 8),
        ("september", 0, 9),
        ("october", 0, 10),
        ("november", 0, 11),
        ("december", 0, 12),
        // Kazakh typed in Latin letters.
        ("qantar", 5, 1),
        ("aqpan", 5, 2),
        ("akpan", 5, 2),
        ("nauryz", 5, 3),
        ("sauir", 5, 4),
        ("mamyr", 5, 5),
        ("mausym", 5, 6),
        ("shilde", 5, 7),
        ("tamyz", 5, 8),
        ("qyrkuiek", 5, 9),
        ("qazan", 5, 10),
        ("qarasha", 5, 11),
        ("karasha", 5, 11),
        ("zheltoqsan", 5, 12),
        ("zheltoksan", 5, 12),
        ("jeltoksan", 5, 12),
        // Russian typed in Latin letters.
        ("yanvar", 3, 1),
        ("fevral", 3, 2),
        ("mart", 1, 3),
        ("aprel", 3, 4),
        ("iyun", 3, 6),
        ("iyul", 3, 7),
        ("avgust", 3, 8),
        ("sentyabr", 3, 9),
        ("oktyabr", 3, 10),
        ("noyabr", 3, 11),
        ("dekabr", 3, 12),
    ];
    const SHORT: &[(&str, u32)] = &[
        ("янв", 1),
        ("фев", 2),
        ("февр", 2),
        ("апр", 4),
        ("авг", 8),
        ("сен", 9),
        ("сент", 9),
        ("окт", 10),
        ("ноя", 11),
        ("нояб", 11),
        ("дек", 12),
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("sept", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ];
    if matches!(w, "май" | "мая" | "мае" | "маю" | "маем") {
        return Some((5, false));
    }
    // "Казань" is a city, not "қазан" (October).
    if w.starts_with("казань") || w.starts_with("казани") || w.starts_with("казанск")
    {
        return None;
    }
    // Stems by first letter: most words are compared with none or a few of them.
    type Stems = HashMap<char, Vec<(&'static str, usize, u32)>, BuildFx>;
    static BY_FIRST: LazyLock<Stems> = LazyLock::new(|| {
        let mut m = Stems::default();
        for &(stem, max, month) in STEMS {
            if let Some(c) = stem.chars().next() {
                m.entry(c).or_default().push((stem, max, month));
            }
        }
        m
    });
    let first = w.chars().next()?;
    for &(stem, max, m) in BY_FIRST.get(&first).into_iter().flatten() {
        if let Some(rest) = w.strip_prefix(stem)
            && rest.chars().count() <= max
        {
            return Some((m, false));
        }
    }
    // "jan", "дек" on their own are months; "may" (the verb) and "сен" (Kazakh "you") are
    // months only next to a number or a preposition.
    if let Some(&(a, m)) = SHORT.iter().find(|&&(a, _)| a == w) {
        return Some((m, matches!(a, "may" | "сен")));
    }
    // One typo in a long name ("febuary", "feburary", "фервраля"): the month, but only next
    // to a number or a preposition, as a guess should be.
    let letters: Vec<char> = w.chars().collect();
    for &(stem, max, m) in BY_FIRST.get(&first).into_iter().flatten() {
        let stem: Vec<char> = stem.chars().collect();
        if stem.len() < 6 {
            continue;
        }
        for cut in stem.len() - 1..=stem.len() + 1 {
            let Some(head) = letters.get(..cut) else {
                break;
            };
            if letters.len() - cut <= max && super::lexicon::within_one(head, &stem) {
                return Some((m, true));
            }
        }
    }
    None
}

/// A Russian or English ordinal day word ("пятого", "десятое", "fifth", "twentieth").
fn ordinal_day(w: &str) -> Option<u32> {
    const RU: &[(&str, u32)] = &[
        ("одиннадцат", 11),
        ("двенадцат", 12),
        ("тринадцат", 13),
        ("четырнадцат", 14),
        ("пятнадцат", 15),
        ("шестнадцат", 16),
        ("семнадцат", 17),
        ("восемнадцат", 18),
        ("девятнадцат", 19),
        ("двадцат", 20),
        ("тридцат", 30),
        ("четверт", 4),
        ("перв", 1),
        ("втор", 2),
        ("трет", 3),
        ("пят", 5),
        ("шест", 6),
        ("седьм", 7),
        ("восьм", 8),
        ("девят", 9),
        ("десят", 10),
    ];
    const ENDINGS: &[&str] = &[
        "ое", "ого", "ому", "ом", "ый", "ой", "ая", "ую", "ий", "ье", "ьего", "ьему", "ья", "ью",
    ];
    const EN: &[(&str, u32)] = &[
        ("first", 1),
        ("second", 2),
        ("third", 3),
        ("fourth", 4),
        ("fifth", 5),
        ("sixth", 6),
        ("seventh", 7),
        ("eighth", 8),
        ("ninth", 9),
        ("tenth", 10),
        ("eleventh", 11),
        ("twelfth", 12),
        ("thirteenth", 13),
        ("fourteenth", 14),
        ("fifteenth", 15),
        ("sixteenth", 16),
        ("seventeenth", 17),
        ("eighteenth", 18),
        ("nineteenth", 19),
        ("twentieth", 20),
        ("thirtieth", 30),
    ];
    if let Some(&(_, v)) = EN.iter().find(|&&(e, _)| e == w) {
        return Some(v);
    }
    RU.iter()
        .find(|&&(stem, _)| w.strip_prefix(stem).is_some_and(|r| ENDINGS.contains(&r)))
        .map(|&(_, v)| v)
}

/// A day of the month that ends at word `j`: digits ("15", "5-го", "5th") or ordinal words
/// ("пятого", "двадцать пятого", "twenty-fifth"): `(day, first word)`.
fn day_ending(t: &Text, j: usize, used: &[bool]) -> Option<(u32, usize)> {
    let k = t.skip_num_suffix(j);
    if let Some(d) = is_day_num(t, k, used) {
        return Some((d, k));
    }
    if used.get(j).copied().unwrap_or(true) {
        return None;
    }
    let d = ordinal_day(t.w(j))?;
    let p = j.wrapping_sub(1);
    if d < 10
        && !used.get(p).copied().unwrap_or(true)
        && let Some(tens) = match t.w(p) {
            "двадцать" | "twenty" => Some(20),
            "тридцать" | "thirty" => Some(30),
            _ => None,
        }
        && tens + d <= 31
    {
        return Some((tens + d, p));
    }
    Some((d, j))
}

fn is_day_num(t: &Text, i: usize, used: &[bool]) -> Option<u32> {
    if used.get(i).copied().unwrap_or(true) || t.digits(i) > 2 {
        return None;
    }
    t.num(i).filter(|d| (1..=31).contains(d)).map(|d| d as u32)
}

/// "15 января", "5-го января", "пятого января", "15th of January": the day before month
/// word `i`.
fn day_before(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize)> {
    let mut j = i.wrapping_sub(1);
    if t.is(j, &["of", "числа"]) {
        j = j.wrapping_sub(1);
    }
    // "for 2? jan": punctuation between them, so not a day of that month.
    let g = t.gap(j.wrapping_add(1));
    if !g.punct.is_empty() && !g.is_dash() {
        return None;
    }
    day_ending(t, j, used)
}

/// "January 15", "Jan 5th": the day number after a Latin month word, with nothing but a
/// space between ("feb, 10n" is February and ten nights).
fn day_after(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize)> {
    let j = i + 1;
    let d = is_day_num(t, j, used)?;
    if !t.gap(j).punct.is_empty() {
        return None;
    }
    let k = if t.is(j + 1, &["th", "st", "nd", "rd"]) && t.glued(j + 1) {
        j + 1
    } else {
        j
    };
    // "January 7 nights", "May 2 adults", "march 2 ppl": the number belongs to the next word.
    let next = t.w(k + 1);
    if unit(next).is_some()
        || t.starts(
            k + 1,
            &[
                "adult",
                "star",
                "kid",
                "child",
                "ppl",
                "pax",
                "people",
                "person",
                "guest",
                "travel",
                "infant",
                "взр",
                "чел",
                "ересек",
                "адам",
            ],
        )
        || (t.is(k + 1, &["n", "н"]) && t.glued(k + 1))
    {
        return None;
    }
    Some((d, k))
}

/// A written year right after word `i` ("марта 2027", "2027 года").
fn year_after(t: &Text, i: usize, used: &[bool]) -> Option<(i32, usize)> {
    let j = i + 1;
    if used.get(j).copied().unwrap_or(true) || t.digits(j) != 4 {
        return None;
    }
    let y = t.num(j).filter(|y| (2000..=2100).contains(y))? as i32;
    let last = if t.starts(j + 1, &["год", "г", "year", "жыл"]) {
        j + 1
    } else {
        j
    };
    Some((y, last))
}

/// A word naming part of a month: "начале", "mid", "конце", "первых" (числах).
fn part_word(t: &Text, j: usize) -> Option<Part> {
    let w = t.w(j);
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    if stem("начал", 2) || matches!(w, "early" | "beginning" | "start" | "первых") {
        Some(Part::Start)
    } else if stem("середин", 2) || matches!(w, "mid" | "middle") {
        Some(Part::Middle)
    } else if matches!(
        w,
        "конец" | "конце" | "конца" | "концу" | "late" | "end" | "последних"
    ) {
        Some(Part::End)
    } else if stem("половин", 2) || w == "half" {
        if t.starts(j.wrapping_sub(1), &["перв", "first"]) {
            Some(Part::FirstHalf)
        } else if t.starts(j.wrapping_sub(1), &["втор", "second"]) {
            Some(Part::SecondHalf)
        } else {
            None
        }
    } else {
        None
    }
}

/// "первую неделю", "first week", "последняя неделя": `(part, first word)` for a week word
/// at `j`.
fn week_part(t: &Text, j: usize) -> Option<(Part, usize)> {
    if !(t.starts(j, &["недел"]) || t.is(j, &["week"])) {
        return None;
    }
    let o = j.wrapping_sub(1);
    let w = t.w(o);
    let part = if w.starts_with("последн") || matches!(w, "last" | "final") {
        Part::LastWeek
    } else if w.starts_with("перв") || w == "first" {
        Part::Week(1)
    } else if w.starts_with("втор") || w == "second" {
        Part::Week(2)
    } else if w.starts_with("трет") || w == "third" {
        Part::Week(3)
    } else if w.starts_with("четверт") || w == "fourth" {
        Part::Week(4)
    } else {
        return None;
    };
    Some((part, o))
}

/// "в начале марта", "end of March", "mid-March", "first week of feb", Kazakh "наурыздың
/// басында".
fn part_around(t: &Text, i: usize) -> Option<(Part, usize, usize)> {
    let mut j = i.wrapping_sub(1);
    while t.is(j, &["of", "the", "числах", "числа", "месяца", "декаде"]) {
        j = j.wrapping_sub(1);
    }
    if let Some((p, first)) = week_part(t, j) {
        return Some((p, first, i));
    }
    // "в 20-х числах декабря"
    if t.is(j, &["х", "x"])
        && (t.glued(j) || t.gap(j).is_dash())
        && let Some(d @ (10 | 20 | 30)) = t.num(j.wrapping_sub(1))
    {
        return Some((Part::Decade(d as u32), j - 1, i));
    }
    if let Some(p) = part_word(t, j) {
        return Some((p, j, i));
    }
    let mut k = i + 1;
    if t.starts(k, &["айы"]) {
        k += 1;
    }
    let after = match t.w(k) {
        "басында" | "басы" | "басына" | "басынан" => Some(Part::Start),
        "ортасында" | "ортасы" | "ортасына" => Some(Part::Middle),
        "аягында" | "аягы" | "аягына" | "сонында" | "соны" | "сонына" => {
            Some(Part::End)
        }
        _ => None,
    };
    after.map(|p| (p, i, k))
}

/// "15.01", "15/01/2027", "15.01.27".
fn numeric_date(t: &Text, i: usize, used: &[bool]) -> Option<Found> {
    let d = is_day_num(t, i, used)?;
    let sep = t.gap(i + 1);
    if sep.space || !(sep.punct == "." || sep.punct == "/") || t.digits(i + 1) > 2 {
        return None;
    }
    let m = t.num(i + 1).filter(|m| (1..=12).contains(m))? as u32;
    let ysep = t.gap(i + 2);
    let (y, last) = if !ysep.space && ysep.punct == sep.punct && matches!(t.digits(i + 2), 2 | 4) {
        let y = t.num(i + 2)? as i32;
        (Some(if y < 100 { 2000 + y } else { y }), i + 2)
    } else if t.digits(i + 1) == 2 {
        (None, i + 1)
    } else {
        return None;
    };
    // "1.5 млн": a decimal amount, not a date.
    if t.starts(last + 1, &["млн", "тыс", "миллион", "к", "k", "m"]) {
        return None;
    }
    Some(Found {
        first: i,
        last,
        what: Mention::Day { d, m, y },
    })
}

/// Words that introduce the return day of a trip ("вылет 3 января, обратно 13 января").
const RETURN: &[&str] = &[
    "возвращаемся",
    "вернуться",
    "возвращение",
    "возврат",
    "обратно",
    "обратный",
    "назад",
    "вернемся",
    "прилет",
    "returning",
    "return",
    "back",
    "кери",
    "кайту",
    "кайтамыз",
];

/// Joins a departure day and a return day written as two dates into one trip.
fn join_return_days(t: &Text, out: &mut Vec<Found>) {
    let mut k = 0;
    while k + 1 < out.len() {
        let (a, b) = (out[k], out[k + 1]);
        if let (Mention::Day { d: d1, m: m1, y }, Mention::Day { d: d2, m: m2, .. }) =
            (a.what, b.what)
            && b.first > a.last
            && b.first - a.last <= 4
            && (a.last + 1..b.first).any(|i| t.is(i, RETURN))
        {
            out[k] = Found {
                first: a.first,
                last: b.last,
                what: Mention::Range { d1, m1, d2, m2, y },
            };
            out.remove(k + 1);
        }
        k += 1;
    }
}

fn mentions(t: &Text, used: &[bool]) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if used[i] {
            i += 1;
            continue;
        }
        if let Some(f) = numeric_date(t, i, used) {
            i = f.last + 1;
            push_day(t, &mut out, f, used);
            continue;
        }
        if let Some(f) = this_month(t, i) {
            i = f.last + 1;
            out.push(f);
            continue;
        }
        let Some((m, strict)) = month_of(t.w(i)) else {
            i += 1;
            continue;
        };
        let year = year_after(t, i, used);
        let y = year.map(|(y, _)| y);
        let year_last = year.map_or(i, |(_, l)| l);
        if let Some((d, first)) = day_before(t, i, used)
            && out.last().is_none_or(|p| p.last < first)
        {
            push_day(
                t,
                &mut out,
                Found {
                    first,
                    last: year_last,
                    what: Mention::Day { d, m, y },
                },
                used,
            );
            i = year_last + 1;
            continue;
        }
        let latin = t.words.get(i).is_some_and(|w| w.latin);
        // Kazakh genitive month and a day: "қаңтардың 5-і", "желтоқсанның 28-інен".
        let genitive = ["дын", "дин", "нын", "нин", "тын", "тин"]
            .iter()
            .any(|e| t.w(i).ends_with(e));
        if (latin || genitive)
            && let Some((d, mut last)) = day_after(t, i, used)
        {
            if genitive && (t.glued(last + 1) || t.gap(last + 1).is_dash()) && !t.is_num(last + 1) {
                last += 1;
            }
            let mut f = Found {
                first: i,
                last,
                what: Mention::Day { d, m, y },
            };
            // "қаңтардың 10-нан 20-сына дейін": from the 10th to the 20th.
            if genitive && let Some(d2) = is_day_num(t, last + 1, used).filter(|&d2| d2 > d) {
                let end = t.skip_num_suffix(last + 2);
                let end = if end == last + 1 { last + 2 } else { last + 1 };
                if t.is(end + 1, &["дейин", "шейин", "дейинги"]) {
                    f = Found {
                        first: i,
                        last: end + 1,
                        what: Mention::Range {
                            d1: d,
                            m1: m,
                            d2,
                            m2: m,
                            y,
                        },
                    };
                }
            }
            // "January 5-15", "Jan 5 to 15"
            let k = if t.gap(last + 1).is_dash() {
                last + 1
            } else if t.is(last + 1, &["to", "till", "until", "through"]) {
                last + 2
            } else {
                usize::MAX
            };
            if let Some(d2) = is_day_num(t, k, used)
                && month_of(t.w(k + 1)).is_none_or(|(_, s)| s)
            {
                f = Found {
                    first: i,
                    last: k,
                    what: Mention::Range {
                        d1: d,
                        m1: m,
                        d2,
                        m2: m,
                        y,
                    },
                };
            }
            i = f.last + 1;
            push_day(t, &mut out, f, used);
            continue;
        }
        let part = part_around(t, i);
        let prev = t.w(i.wrapping_sub(1));
        if strict
            && part.is_none()
            && y.is_none()
            && !matches!(prev, "in" | "of" | "в" | "во" | "from")
        {
            i += 1;
            continue;
        }
        let (part, first, last) = part.unwrap_or((Part::Whole, i, i));
        let last = last.max(year_last);
        out.push(Found {
            first,
            last,
            what: Mention::Month { m, part, y },
        });
        i = last + 1;
    }
    join_return_days(t, &mut out);
    days_without_month(t, used, &mut out);
    out
}

/// "в конце месяца", "в начале следующего месяца", "end of the month", "в первых числах"
/// (with no month after it) at word `i`.
fn this_month(t: &Text, i: usize) -> Option<Found> {
    // Cheap first: a month word or "числах" must follow within three words.
    if !(i + 1..=i + 3).any(|k| t.is(k, &["месяца", "month", "месяце", "числах", "числа"]))
    {
        return None;
    }
    let part = part_word(t, i)?;
    let mut k = i + 1;
    if t.is(k, &["of"]) {
        k += 1;
    }
    if t.is(i, &["первых", "последних"]) {
        if t.is(k, &["числах", "числа"]) && month_of(t.w(k + 1)).is_none() {
            return Some(Found {
                first: i,
                last: k,
                what: Mention::ThisMonth { part, next: false },
            });
        }
        return None;
    }
    let next = t.is(k, &["следующего", "next", "следующем"]);
    if next || t.is(k, &["этого", "this", "the", "текущего"]) {
        k += 1;
    }
    t.is(k, &["месяца", "month", "месяце"]).then_some(Found {
        first: i,
        last: k,
        what: Mention::ThisMonth { part, next },
    })
}

/// Days written with no month: "числа 20-го", "20 числа", "с 20-го", "around the 20th",
/// "с 20 по 30", "числа 15-20". Only numbers that nothing else has taken, and only where
/// the wording makes them days of a month.
fn days_without_month(t: &Text, used: &[bool], out: &mut Vec<Found>) {
    let taken = |k: usize, out: &[Found]| out.iter().any(|f| (f.first..=f.last).contains(&k));
    let mut i = 0;
    while i < t.len() {
        let Some(d) = is_day_num(t, i, used).filter(|_| !taken(i, out)) else {
            i += 1;
            continue;
        };
        // The word after the number and its case ending ("20-го", "20th").
        let suffix = t.skip_num_suffix(i + 1) == i;
        let after = if suffix { i + 2 } else { i + 1 };
        let ru_suffix = suffix && t.is(i + 1, &["го", "ого", "е", "ое"]);
        let en_suffix = suffix && t.is(i + 1, &["th", "st", "nd", "rd"]);
        let chisla_before = t.is(i.wrapping_sub(1), &["числа", "число"])
            || (t.is(i.wrapping_sub(1), &["с", "со", "после", "до"])
                && t.is(i.wrapping_sub(2), &["числа"]));
        let chisla_after = t.is(after, &["числа", "число"]);
        let lead = t.w(i.wrapping_sub(1));
        let loose_end = after >= t.len()
            || !t.gap(after).punct.is_empty()
            || t.is(after, &["числа", "вылет", "и", "или", "по", "до", "на"]);
        let day = chisla_before
            || chisla_after
            || (ru_suffix && loose_end)
            || (en_suffix
                // "on the 28th", "around the 20th", not "I'd like the 3rd".
                && (matches!(
                    lead,
                    "on" | "around" | "after" | "from" | "by" | "till" | "until"
                ) || (lead == "the"
                    && t.is(
                        i.wrapping_sub(2),
                        &["on", "around", "after", "from", "by", "till", "until", "about"],
                    )))
                && (loose_end || t.is(after, &["of", "or", "and", "to", "till", "until"])));
        // "с 20 по 30", "числа 15-20", "20-30 числа": a range of days.
        let end = if t.is(after, &["по", "до"]) && t.is(i.wrapping_sub(1), &["с", "со"]) {
            after + 1
        } else if t.gap(i + 1).is_dash() && !suffix {
            i + 1
        } else {
            usize::MAX
        };
        if let Some(d2) = is_day_num(t, end, used).filter(|&d2| d2 > d) {
            let mut last = end;
            if t.skip_num_suffix(end + 1) == end {
                last += 1;
            }
            let chisla_end = t.is(last + 1, &["числа", "число"]);
            if month_of(t.w(last + 1)).is_none()
                && (day || t.is(i.wrapping_sub(1), &["с", "со"]) || chisla_end)
            {
                if chisla_end {
                    last += 1;
                }
                out.push(Found {
                    first: i,
                    last,
                    what: Mention::DaysOnly { d1: d, d2 },
                });
                i = last + 1;
                continue;
            }
        }
        if day && month_of(t.w(after)).is_none() {
            let last = if chisla_after { after } else { after - 1 };
            out.push(Found {
                first: i,
                last,
                what: Mention::DayOnly { d },
            });
            i = last + 1;
            continue;
        }
        i += 1;
    }
    out.sort_by_key(|f| f.first);
}

/// Adds a day mention, joining it with what precedes it into a trip when they are linked
/// by "по"/"до"/"-"/"to": "с 5 по 15 января", "5-15 января", "с 28 декабря по 8 января".
fn push_day(t: &Text, out: &mut Vec<Found>, f: Found, used: &[bool]) {
    let Mention::Day { d: d2, m: m2, y } = f.what else {
        out.push(f);
        return;
    };
    let (linked, start) = if t.gap(f.first).is_dash() {
        (true, f.first.wrapping_sub(1))
    } else if t.is(
        f.first.wrapping_sub(1),
        &["по", "до", "to", "till", "until", "through", "and"],
    ) {
        (true, f.first.wrapping_sub(2))
    } else {
        (false, 0)
    };
    if linked {
        if let Some(prev) = out.last_mut()
            && prev.last == start
            && let Mention::Day {
                d: d1,
                m: m1,
                y: y1,
            } = prev.what
        {
            *prev = Found {
                first: prev.first,
                last: f.last,
                what: Mention::Range {
                    d1,
                    m1,
                    d2,
                    m2,
                    y: y1.or(y),
                },
            };
            return;
        }
        if let Some((d1, start)) = day_ending(t, start, used) {
            // The first day shares the month of the second, or the month before it.
            let m1 = if d1 <= d2 {
                m2
            } else if m2 == 1 {
                12
            } else {
                m2 - 1
            };
            out.push(Found {
                first: start,
                last: f.last,
                what: Mention::Range { d1, m1, d2, m2, y },
            });
            return;
        }
    }
    out.push(f);
}

// ---------------------------------------------------------------- calendar

fn last_day(y: i32, m: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let next = first.checked_add_months(Months::new(1))?;
    Some(next.pred_opt()?.day())
}

/// The next date `d.m` not before `not_before` (or in year `y` when written).
fn resolve_day(d: u32, m: u32, y: Option<i32>, not_before: NaiveDate) -> Option<NaiveDate> {
    if let Some(y) = y {
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    // Eight years always include a 29 February.
    (not_before.year()..not_before.year() + 8)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
        .find(|&x| x >= not_before)
}

fn month_window(
    m: u32,
    part: Part,
    y: Option<i32>,
    today: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    let window = |y: i32| {
        let last = last_day(y, m)?;
        let (a, b) = match part {
            Part::Whole => (1, last),
            Part::Start => (1, 10),
            Part::Middle => (11, 20),
            Part::End => (21, last),
            Part::FirstHalf => (1, 15),
            Part::SecondHalf => (16, last),
            Part::Week(n) => (7 * n - 6, 7 * n),
            Part::LastWeek => (last - 6, last),
            Part::Decade(d) => (d, if d >= 30 { last } else { d + 9 }),
        };
        Some((
            NaiveDate::from_ymd_opt(y, m, a)?,
            NaiveDate::from_ymd_opt(y, m, b)?,
        ))
    };
    if let Some(y) = y {
        return window(y);
    }
    let this = window(today.year())?;
    if this.1 >= today {
        Some(this)
    } else {
        window(today.year() + 1)
    }
}

fn relative(r: Rel, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let plus = |n: u64| today.checked_add_days(Days::new(n));
    let from_monday = u64::from(today.weekday().num_days_from_monday());
    match r {
        Rel::Today => Some((today, today)),
        Rel::Tomorrow => plus(1).map(|d| (d, d)),
        Rel::AfterTomorrow => plus(2).map(|d| (d, d)),
        Rel::NextWeek => Some((plus(7 - from_monday)?, plus(13 - from_monday)?)),
        Rel::ThisWeek => Some((today, plus(6 - from_monday)?)),
        Rel::Weekend => {
            // The coming Saturday and Sunday (or what is left of the current weekend).
            let sat = if from_monday <= 5 {
                plus(5 - from_monday)?
            } else {
                today
            };
            Some((sat, plus(6 - from_monday)?))
        }
        Rel::ThisMonth => month_window(today.month(), Part::Whole, Some(today.year()), today),
        Rel::NextMonth => {
            let next = today.with_day(1)?.checked_add_months(Months::new(1))?;
            month_window(next.month(), Part::Whole, Some(next.year()), today)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn run(s: &str, today: NaiveDate) -> Slots {
        let t = Text::new(s);
        let mut used = vec![false; t.len()];
        let mut slots = Slots::default();
        let travel = Travel {
            certain: true,
            possible: true,
        };
        extract(&t, today, travel, &mut used, &mut slots);
        slots
    }

    fn window(s: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let slots = run(s, today);
        Some((slots.date_from?, slots.date_to?))
    }

    fn nights(s: &str) -> Option<(u32, u32)> {
        let slots = run(s, ymd(2026, 11, 21));
        Some((slots.nights_from?, slots.nights_to?))
    }

    #[test]
    fn a_month_or_nights_with_one_typo_are_read() {
        let today = ymd(2026, 11, 21);
        assert_eq!(
            window("in febuary", today),
            Some((ymd(2027, 2, 1), ymd(2027, 2, 28)))
        );
        assert_eq!(nights("7 nigts"), Some((7, 7)));
        assert_eq!(nights("7 lights"), None);
    }

    #[test]
    fn month_rolls_over_into_next_year() {
        let today = ymd(2026, 11, 21);
        assert_eq!(
            window("в марте", today),
            Some((ymd(2027, 3, 1), ymd(2027, 3, 31)))
        );
        assert_eq!(
            window("в ноябре", today),
            Some((ymd(2026, 11, 1), ymd(2026, 11, 30)))
        );
        assert_eq!(
            window("в декабре", today),
            Some((ymd(2026, 12, 1), ymd(2026, 12, 31)))
        );
        assert_eq!(
            window("в октябре", today),
            Some((ymd(2027, 10, 1), ymd(2027, 10, 31)))
        );
        assert_eq!(
            window("в начале ноября", today),
            Some((ymd(2027, 11, 1), ymd(2027, 11, 10)))
        );
        assert_eq!(
            window("наурызда", today),
            Some((ymd(2027, 3, 1), ymd(2027, 3, 31)))
        );
        assert_eq!(
            window("in May", today),
            Some((ymd(2027, 5, 1), ymd(2027, 5, 31)))
        );
        assert_eq!(window("may I ask", today), None);
        assert_eq!(
            window("в мае 2028", today),
            Some((ymd(2028, 5, 1), ymd(2028, 5, 31)))
        );
    }

    #[test]
    fn end_of_february_in_leap_and_common_years() {
        assert_eq!(
            window("в конце февраля", ymd(2026, 11, 21)),
            Some((ymd(2027, 2, 21), ymd(2027, 2, 28)))
        );
        assert_eq!(
            window("end of February", ymd(2027, 11, 21)),
            Some((ymd(2028, 2, 21), ymd(2028, 2, 29)))
        );
        assert_eq!(
            window("в феврале", ymd(2027, 11, 21)),
            Some((ymd(2028, 2, 1), ymd(2028, 2, 29)))
        );
        assert_eq!(
            window("29 февраля", ymd(2026, 11, 21)),
            Some((ymd(2028, 2, 29), ymd(2028, 2, 29)))
        );
    }

    #[test]
    fn parts_of_month() {
        let today = ymd(2026, 11, 21);
        assert_eq!(
            window("середина января", today),
            Some((ymd(2027, 1, 11), ymd(2027, 1, 20)))
        );
        assert_eq!(
            window("early February", today),
            Some((ymd(2027, 2, 1), ymd(2027, 2, 10)))
        );
        assert_eq!(
            window("mid-April", today),
            Some((ymd(2027, 4, 11), ymd(2027, 4, 20)))
        );
        assert_eq!(
            window("наурыздың басында", today),
            Some((ymd(2027, 3, 1), ymd(2027, 3, 10)))
        );
        assert_eq!(
            window("в конце декабря", today),
            Some((ymd(2026, 12, 21), ymd(2026, 12, 31)))
        );
        assert_eq!(
            window("в последних числах апреля", today),
            Some((ymd(2027, 4, 21), ymd(2027, 4, 30)))
        );
    }

    #[test]
    fn next_week_is_monday_to_sunday() {
        // 2026-11-21 is a Saturday.
        assert_eq!(
            window("на следующей неделе", ymd(2026, 11, 21)),
            Some((ymd(2026, 11, 23), ymd(2026, 11, 29)))
        );
        // From a Monday, "next week" is the one after.
        assert_eq!(
            window("next week", ymd(2026, 11, 23)),
            Some((ymd(2026, 11, 30), ymd(2026, 12, 6)))
        );
        // From a Sunday, the very next day starts it.
        assert_eq!(
            window("келесі аптада", ymd(2026, 11, 29)),
            Some((ymd(2026, 11, 30), ymd(2026, 12, 6)))
        );
        assert_eq!(
            window("завтра", ymd(2026, 12, 31)),
            Some((ymd(2027, 1, 1), ymd(2027, 1, 1)))
        );
    }

    #[test]
    fn single_days_and_trips() {
        let today = ymd(2026, 11, 21);
        assert_eq!(
            window("15 января", today),
            Some((ymd(2027, 1, 15), ymd(2027, 1, 15)))
        );
        assert_eq!(
            window("15 ноября", today),
            Some((ymd(2027, 11, 15), ymd(2027, 11, 15)))
        );
        assert_eq!(
            window("25 ноября", today),
            Some((ymd(2026, 11, 25), ymd(2026, 11, 25)))
        );
        assert_eq!(
            window("January 15th", today),
            Some((ymd(2027, 1, 15), ymd(2027, 1, 15)))
        );
        assert_eq!(
            window("вылет 05.01", today),
            Some((ymd(2027, 1, 5), ymd(2027, 1, 5)))
        );
        assert_eq!(
            window("10.02.2027", today),
            Some((ymd(2027, 2, 10), ymd(2027, 2, 10)))
        );
        let s = run("с 5 по 15 января", today);
        assert_eq!(
            (s.date_from, s.date_to, s.nights_from),
            (Some(ymd(2027, 1, 5)), Some(ymd(2027, 1, 5)), Some(10))
        );
        let s = run("с 28 декабря по 8 января", today);
        assert_eq!(
            (s.date_from, s.nights_from),
            (Some(ymd(2026, 12, 28)), Some(11))
        );
        let s = run("5-12 февраля", today);
        assert_eq!(
            (s.date_from, s.nights_from),
            (Some(ymd(2027, 2, 5)), Some(7))
        );
        let s = run("from March 3 to 10", today);
        assert_eq!(
            (s.date_from, s.nights_from),
            (Some(ymd(2027, 3, 3)), Some(7))
        );
        let s = run("Вылетаем 3 января, возвращаемся 13 января", today);
        assert_eq!(
            (s.date_from, s.date_to, s.nights_from),
            (Some(ymd(2027, 1, 3)), Some(ymd(2027, 1, 3)), Some(10))
        );
        let s = run("departing December 28, returning January 8", today);
        assert_eq!(
            (s.date_from, s.nights_from),
            (Some(ymd(2026, 12, 28)), Some(11))
        );
        let s = run("с 1 по 10 марта на 7 ночей", today);
        assert_eq!(
            (s.date_from, s.date_to, s.nights_from),
            (Some(ymd(2027, 3, 1)), Some(ymd(2027, 3, 10)), Some(7))
        );
    }

    fn notes(s: &str, today: NaiveDate) -> DateNotes {
        let t = Text::new(s);
        let mut used = vec![false; t.len()];
        let travel = Travel {
            certain: true,
            possible: true,
        };
        extract(&t, today, travel, &mut used, &mut Slots::default())
    }

    #[test]
    fn holidays_school_holidays_and_seasons() {
        let today = ymd(2026, 11, 21);
        for (s, a, b) in [
            ("на новый год", ymd(2026, 12, 25), ymd(2026, 12, 31)),
            ("хотим на нг", ymd(2026, 12, 25), ymd(2026, 12, 31)),
            ("жаңа жылға", ymd(2026, 12, 25), ymd(2026, 12, 31)),
            ("over new year", ymd(2026, 12, 25), ymd(2026, 12, 31)),
            ("на майские", ymd(2027, 5, 1), ymd(2027, 5, 10)),
            ("на Наурыз", ymd(2027, 3, 19), ymd(2027, 3, 23)),
            ("Наурыз мейрамында", ymd(2027, 3, 19), ymd(2027, 3, 23)),
            ("весенние каникулы", ymd(2027, 3, 19), ymd(2027, 3, 29)),
            ("көктемгі каникулда", ymd(2027, 3, 19), ymd(2027, 3, 29)),
            ("в зимние каникулы", ymd(2026, 12, 29), ymd(2027, 1, 7)),
            ("осенние каникулы", ymd(2027, 10, 27), ymd(2027, 11, 2)),
            ("летом", ymd(2027, 6, 1), ymd(2027, 8, 31)),
            ("зимой", ymd(2026, 12, 1), ymd(2027, 2, 28)),
            ("после нового года", ymd(2027, 1, 1), ymd(2027, 1, 10)),
        ] {
            assert_eq!(window(s, today), Some((a, b)), "{s}");
        }
        // "наурызда" is the month of March; next summer is not the one under way.
        assert_eq!(
            window("наурызда", today),
            Some((ymd(2027, 3, 1), ymd(2027, 3, 31)))
        );
        assert_eq!(
            window("next summer", ymd(2027, 7, 1)),
            Some((ymd(2028, 6, 1), ymd(2028, 8, 31)))
        );
        assert_eq!(
            window("на новый год", ymd(2027, 1, 15)),
            Some((ymd(2027, 12, 25), ymd(2027, 12, 31)))
        );
    }

    #[test]
    fn days_without_a_month_after_and_approximate() {
        let today = ymd(2026, 11, 21);
        let one = |d: NaiveDate| Some((d, d));
        assert_eq!(window("числа 20-го", today), one(ymd(2026, 12, 20)));
        assert_eq!(window("вылет числа 25го", today), one(ymd(2026, 11, 25)));
        assert_eq!(window("around the 20th", today), one(ymd(2026, 12, 20)));
        assert_eq!(window("does the 1st one have a pool", today), None);
        assert_eq!(
            window("после 10 января", today),
            Some((ymd(2027, 1, 11), ymd(2027, 1, 20)))
        );
        assert_eq!(
            window("10 қаңтардан кейін", today),
            Some((ymd(2027, 1, 11), ymd(2027, 1, 20)))
        );
        assert_eq!(
            window("в конце месяца", today),
            Some((ymd(2026, 11, 21), ymd(2026, 11, 30)))
        );
        assert_eq!(
            window("в первых числах", today),
            Some((ymd(2026, 12, 1), ymd(2026, 12, 10)))
        );
        assert_eq!(
            window("в начале следующего месяца", today),
            Some((ymd(2026, 12, 1), ymd(2026, 12, 10)))
        );
        assert_eq!(
            window("first week of feb", today),
            Some((ymd(2027, 2, 1), ymd(2027, 2, 7)))
        );
        assert_eq!(window("двадцатого декабря", today), one(ymd(2026, 12, 20)));
        assert_eq!(window("I'd like the 3rd", today), None);
        assert_eq!(
            window("march 2 ppl from almaty", today),
            Some((ymd(2027, 3, 1), ymd(2027, 3, 31)))
        );
        assert_eq!(
            window("for 2? jan, 10 nights", today),
            Some((ymd(2027, 1, 1), ymd(2027, 1, 31)))
        );
        assert_eq!(
            window("salem, nyachangka tur kerek, aqpanda", today),
            Some((ymd(2027, 2, 1), ymd(2027, 2, 28)))
        );
        assert_eq!(
            window("хотим в 20-х числах декабря", today),
            Some((ymd(2026, 12, 20), ymd(2026, 12, 29)))
        );
        assert_eq!(
            window("нам бы тур на выходные", today),
            Some((ymd(2026, 11, 21), ymd(2026, 11, 22)))
        );
        assert_eq!(
            window("jan", today),
            Some((ymd(2027, 1, 1), ymd(2027, 1, 31)))
        );
        // A day inside the first window refines it.
        assert_eq!(
            window("после Наурыза, числа 25", today),
            one(ymd(2027, 3, 25))
        );
        for s in [
            "числа 20-го",
            "around jan 15",
            "в районе 15 февраля",
            "где-то 10 января",
            "вылет 10 января, +- 3 дня",
            "15 қаңтар шамасында",
            "хотим в 20-х числах декабря",
            "10 days in april, flexible dates",
        ] {
            assert!(notes(s, today).approximate, "{s}");
        }
        for s in ["15 января", "what about jan?", "jan or feb"] {
            assert!(!notes(s, today).approximate, "{s}");
        }
        // "+- 3 дня" is a margin, not the trip's length.
        assert_eq!(nights("вылет 10 января, +- 3 дня"), None);
    }

    #[test]
    fn ranges_keep_both_ends() {
        let today = ymd(2026, 11, 21);
        for (s, a, b) in [
            ("20–30 января", ymd(2027, 1, 20), ymd(2027, 1, 30)),
            (
                "с первого по десятое марта",
                ymd(2027, 3, 1),
                ymd(2027, 3, 10),
            ),
            ("dec 27 - jan 5", ymd(2026, 12, 27), ymd(2027, 1, 5)),
            ("10.01-20.01", ymd(2027, 1, 10), ymd(2027, 1, 20)),
            (
                "қаңтардың 10-нан 20-сына дейін",
                ymd(2027, 1, 10),
                ymd(2027, 1, 20),
            ),
        ] {
            assert_eq!(notes(s, today).range, Some((a, b)), "{s}");
            let slots = run(s, today);
            assert_eq!((slots.date_from, slots.date_to), (Some(a), Some(a)), "{s}");
            assert_eq!(
                slots.nights_from,
                u32::try_from((b - a).num_days()).ok(),
                "{s}"
            );
        }
        // "числа 15-20 февраля" is a window of departure days, not a trip.
        let slots = run("числа 15-20 февраля", today);
        assert_eq!(
            (slots.date_from, slots.date_to, slots.nights_from),
            (Some(ymd(2027, 2, 15)), Some(ymd(2027, 2, 20)), None)
        );
    }

    #[test]
    fn nights_forms() {
        assert_eq!(nights("на 7 ночей"), Some((7, 7)));
        assert_eq!(nights("7-10 ночей"), Some((7, 10)));
        assert_eq!(nights("от 7 до 10 ночей"), Some((7, 10)));
        assert_eq!(nights("7-9 nights"), Some((7, 9)));
        assert_eq!(nights("for 7 nigths"), Some((7, 7)));
        assert_eq!(nights("10 nites"), Some((10, 10)));
        assert_eq!(nights("на неделю"), Some((7, 7)));
        assert_eq!(nights("нячанг январь неделя"), Some((7, 7)));
        assert_eq!(nights("a week in phu quoc"), Some((7, 7)));
        assert_eq!(nights("in a week"), None);
        assert_eq!(nights("следующая неделя"), None);
        assert_eq!(nights("на две недели"), Some((14, 14)));
        assert_eq!(nights("for 2 weeks"), Some((14, 14)));
        assert_eq!(nights("for a week"), Some((7, 7)));
        assert_eq!(nights("на 12 дней"), Some((11, 11)));
        assert_eq!(nights("10 күнге"), Some((9, 9)));
        assert_eq!(nights("7 түн"), Some((7, 7)));
        assert_eq!(nights("бір аптаға"), Some((7, 7)));
        assert_eq!(nights("десять ночей"), Some((10, 10)));
        assert_eq!(nights("на 10-ти дней"), Some((9, 9)));
        assert_eq!(nights("на двадцать один день"), Some((20, 20)));
        assert_eq!(nights("на пару недель"), Some((14, 14)));
        assert_eq!(nights("он түнге"), Some((10, 10)));
        assert_eq!(nights("28.12 на 10н"), Some((10, 10)));
        assert_eq!(nights("privet, na 10 nochei"), Some((10, 10)));
        assert_eq!(nights("в марте ночей 7 бюджет 2000 долларов"), Some((7, 7)));
        assert_eq!(nights("из алматы ночей 10-12"), Some((10, 12)));
        assert_eq!(nights("дней на 10"), Some((9, 9)));
        assert_eq!(nights("на дней десять примерно"), Some((9, 9)));
        assert_eq!(nights("2 adam, almatydan, 7 tun"), Some((7, 7)));
        assert_eq!(nights("ночей 2 взрослых"), None);
        assert_eq!(nights("уже 3 дня ждём"), None);
        assert_eq!(nights("на следующей неделе"), None);
        assert_eq!(nights("через 2 недели"), None);
    }
}
