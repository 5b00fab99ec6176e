//! Dates and trip length: the departure window (`date_from`..`date_to`) and nights.
//!
//! Nights are read first so that their numbers are not taken for days. Date expressions
//! (a day, a month or a part of it, a from–to trip, a relative phrase) are collected by
//! position and the first one wins, as the first of alternatives does everywhere.
//! A year that is not written is the next one in which the window has not yet passed.

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate};

use super::Slots;
use super::lexicon::Lexicon;
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
            "на выходных|в выходные|эти выходные|this weekend|on the weekend|демалыс күндері",
            Rel::Weekend,
        ),
        (
            "следующем месяце|следующий месяц|next month|келесі айда|келесі ай",
            Rel::NextMonth,
        ),
        ("этом месяце|this month|осы айда", Rel::ThisMonth),
    ])
});

/// A date expression, with the words it spans.
#[derive(Debug, Clone, Copy)]
enum Mention {
    Day {
        d: u32,
        m: u32,
        y: Option<i32>,
    },
    Month {
        m: u32,
        part: Part,
        y: Option<i32>,
    },
    /// A trip from one day to another ("с 5 по 15 января").
    Range {
        d1: u32,
        m1: u32,
        d2: u32,
        m2: u32,
        y: Option<i32>,
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

/// Fills nights and dates.
pub(crate) fn extract(
    t: &Text,
    today: NaiveDate,
    travel: Travel,
    used: &mut [bool],
    slots: &mut Slots,
) {
    if let Some((lo, hi)) = nights(t, used) {
        slots.nights_from = Some(lo);
        slots.nights_to = Some(hi);
    }
    let mut found = mentions(t, used);
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
    let Some(first) = found.iter().min_by_key(|f| f.first) else {
        return;
    };
    for u in used.iter_mut().take(first.last + 1).skip(first.first) {
        *u = true;
    }
    let window = match first.what {
        Mention::Day { d, m, y } => resolve_day(d, m, y, today).map(|x| (x, x)),
        Mention::Month { m, part, y } => month_window(m, part, y, today),
        Mention::Rel(r) => relative(r, today),
        Mention::Range { d1, m1, d2, m2, y } => {
            let Some(from) = resolve_day(d1, m1, y, today) else {
                return;
            };
            let Some(to) = resolve_day(d2, m2, None, from) else {
                return;
            };
            let n = (to - from).num_days();
            if (1..=30).contains(&n) && slots.nights_from.is_none() {
                // A trip: departure on the first day, the length in nights.
                slots.nights_from = u32::try_from(n).ok();
                slots.nights_to = slots.nights_from;
                Some((from, from))
            } else {
                // Explicit nights were given too: the range is a window of departure dates.
                Some((from, to))
            }
        }
    };
    if let Some((a, b)) = window {
        slots.date_from = Some(a);
        slots.date_to = Some(b);
    }
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
    if rest("ноч", 4) || rest("тун", 4) || matches!(w, "night" | "nights" | "nts" | "нощей")
    {
        Some(Unit::Night)
    } else if matches!(
        w,
        "день" | "дня" | "дней" | "дн" | "day" | "days" | "кун" | "кунге" | "кундик" | "суток"
    ) {
        Some(Unit::Day)
    } else if rest("недел", 3) || matches!(w, "week" | "weeks" | "апта" | "аптага" | "апталык")
    {
        Some(Unit::Week)
    } else {
        None
    }
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

fn nights(t: &Text, used: &mut [bool]) -> Option<(u32, u32)> {
    for i in 0..t.len() {
        if used[i] {
            continue;
        }
        let Some(u) = unit(t.w(i)) else { continue };
        let j = t.skip_num_suffix(i.wrapping_sub(1));
        let (mut lo, mut hi, mut first);
        if let Some(v) = small_number(t, j, used) {
            (lo, hi, first) = (v, v, j);
            let g = t.gap(j);
            let dash_lo = if g.is_dash() {
                small_number(t, j.wrapping_sub(1), used)
            } else {
                None
            };
            if let Some(a) = dash_lo {
                (lo, first) = (a, j - 1);
            } else if t.is(j.wrapping_sub(1), &["до", "по", "to", "или", "or", "till"])
                && let Some(a) = small_number(t, j.wrapping_sub(2), used)
            {
                (lo, first) = (a, j - 2);
                if t.is(first.wrapping_sub(1), &["от", "from"]) {
                    first -= 1;
                }
            }
            if lo > hi {
                (lo, hi) = (hi, lo);
            }
        } else if u == Unit::Week
            && ((t.is(i, &["неделю", "недельку", "week"])
                && t.is(i.wrapping_sub(1), &["на", "for"]))
                || t.w(i) == "аптага")
        {
            (lo, hi, first) = (1, 1, i);
        } else {
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
        return Some((lo, hi));
    }
    None
}

// ---------------------------------------------------------------- date mentions

/// Month named by a word: `(month, strict)`; strict names (abbreviations, English "may")
/// count only next to a number or a preposition.
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
    ];
    const STRICT: &[(&str, u32)] = &[
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
    for &(stem, max, m) in STEMS {
        if let Some(rest) = w.strip_prefix(stem)
            && rest.chars().count() <= max
        {
            return Some((m, false));
        }
    }
    STRICT
        .iter()
        .find(|&&(a, _)| a == w)
        .map(|&(_, m)| (m, true))
}

fn is_day_num(t: &Text, i: usize, used: &[bool]) -> Option<u32> {
    if used.get(i).copied().unwrap_or(true) || t.digits(i) > 2 {
        return None;
    }
    t.num(i).filter(|d| (1..=31).contains(d)).map(|d| d as u32)
}

/// "15 января", "5-го января", "15th of January": the day number before month word `i`.
fn day_before(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize)> {
    let mut j = i.wrapping_sub(1);
    if t.is(j, &["of", "числа"]) {
        j = j.wrapping_sub(1);
    }
    let j = t.skip_num_suffix(j);
    is_day_num(t, j, used).map(|d| (d, j))
}

/// "January 15", "Jan 5th": the day number after a Latin month word.
fn day_after(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize)> {
    let j = i + 1;
    let d = is_day_num(t, j, used)?;
    if t.gap(j).punct.contains(':') {
        return None;
    }
    let k = if t.is(j + 1, &["th", "st", "nd", "rd"]) && t.glued(j + 1) {
        j + 1
    } else {
        j
    };
    // "January 7 nights", "May 2 adults": the number belongs to the next word.
    let next = t.w(k + 1);
    if unit(next).is_some()
        || next.starts_with("adult")
        || next.starts_with("star")
        || next.starts_with("kid")
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

/// "в начале марта", "end of March", "mid-March", Kazakh "наурыздың басында".
fn part_around(t: &Text, i: usize) -> Option<(Part, usize, usize)> {
    let mut j = i.wrapping_sub(1);
    while t.is(j, &["of", "the", "числах", "числа", "месяца", "декаде"]) {
        j = j.wrapping_sub(1);
    }
    let w = t.w(j);
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    let before = if stem("начал", 2) || matches!(w, "early" | "beginning" | "start" | "первых")
    {
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
    };
    if let Some(p) = before {
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
        let Some((m, strict)) = month_of(t.w(i)) else {
            i += 1;
            continue;
        };
        let year = year_after(t, i, used);
        let y = year.map(|(y, _)| y);
        let year_last = year.map_or(i, |(_, l)| l);
        if let Some((d, first)) = day_before(t, i, used) {
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
        if latin && let Some((d, last)) = day_after(t, i, used) {
            let mut f = Found {
                first: i,
                last,
                what: Mention::Day { d, m, y },
            };
            // "January 5-15", "Jan 5 to 15"
            let k = if t.gap(last + 1).is_dash() {
                last + 1
            } else if t.is(last + 1, &["to", "till", "until", "through"]) {
                last + 2
            } else {
                usize::MAX
            };
            if let Some(d2) = is_day_num(t, k, used) {
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
            out.push(f);
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
    out
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
        if let Some(d1) = is_day_num(t, start, used) {
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

    #[test]
    fn nights_forms() {
        assert_eq!(nights("на 7 ночей"), Some((7, 7)));
        assert_eq!(nights("7-10 ночей"), Some((7, 10)));
        assert_eq!(nights("от 7 до 10 ночей"), Some((7, 10)));
        assert_eq!(nights("7-9 nights"), Some((7, 9)));
        assert_eq!(nights("на неделю"), Some((7, 7)));
        assert_eq!(nights("на две недели"), Some((14, 14)));
        assert_eq!(nights("for 2 weeks"), Some((14, 14)));
        assert_eq!(nights("for a week"), Some((7, 7)));
        assert_eq!(nights("на 12 дней"), Some((11, 11)));
        assert_eq!(nights("10 күнге"), Some((9, 9)));
        assert_eq!(nights("7 түн"), Some((7, 7)));
        assert_eq!(nights("бір аптаға"), Some((7, 7)));
        assert_eq!(nights("десять ночей"), Some((10, 10)));
        assert_eq!(nights("на 10-ти дней"), Some((9, 9)));
        assert_eq!(nights("уже 3 дня ждём"), None);
        assert_eq!(nights("на следующей неделе"), None);
        assert_eq!(nights("через 2 недели"), None);
    }
}
