//! The party: adults, children and the children's ages.
//!
//! Counts come from a number and a unit ("2 взрослых", "двое детей", "екі ересек",
//! "two adults", "2+1"), from collective words ("нас трое", "вдвоём", "на двоих") and from
//! companions ("с мужем" → 2, "я одна" → 1, "семья с ребёнком" → 2 adults). Ages are numbers
//! with an age unit ("3 и 8 лет", "5 жаста", "aged 4 and 9") or right after a child word,
//! kept in the order written, and only when children are mentioned at all.

use std::sync::LazyLock;

use super::Slots;
use super::lexicon::Lexicon;
use super::text::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "с мужем", "with my wife": the customer and one more adult.
    Companion,
    /// "я одна", "solo".
    Alone,
    /// "я с ребёнком": one adult, and a child counted by the child word itself.
    AloneWithChild,
    /// "семья": two adults when children are mentioned.
    Family,
    /// "вдвоём", "на двоих", "couple": that many adults.
    Together(u32),
    /// "посоветуемся с мужем": someone named who is not said to travel.
    Ignore,
}

/// Who can travel with the customer, in the instrumental case ("с мужем", "и женой").
const COMPANIONS: &[&str] = &[
    "мужем",
    "женой",
    "супругом",
    "супругой",
    "парнем",
    "девушкой",
    "подругой",
    "другом",
    "мамой",
    "папой",
    "сестрой",
    "братом",
    "любимым",
    "любимой",
    "коллегой",
    "мужиком",
    "бойфрендом",
    "невестой",
    "женихом",
];

static CUES: LazyLock<Lexicon<Cue>> = LazyLock::new(|| {
    let companions: Vec<String> = COMPANIONS
        .iter()
        .flat_map(|c| [format!("с {c}"), format!("со {c}"), format!("и {c}")])
        .collect();
    let companions = companions.join("|");
    Lexicon::new(&[
        (companions.as_str(), Cue::Companion),
        (
            "я и муж|я и жена|я и подруга|я и друг|муж и я|жена и я|with my wife|with my husband|with my partner|with my girlfriend|with my boyfriend|with my friend|with my mom|with my mother|with my sister|with my brother|with wife|with husband|with a friend|and my wife|and my husband|and my partner|and wife|and husband|my wife and i|my husband and i|me and my wife|me and my husband|me and my girlfriend|me and my boyfriend|me and my friend|me and my partner|my partner and i|күйеуіммен|әйеліммен|жарыммен|досыммен|анаммен|құрбыммен|күйеуім екеуміз|әйелім екеуміз",
            Cue::Companion,
        ),
        (
            "я один|я одна|одна поеду|один поеду|поеду один|поеду одна|лечу один|лечу одна|полечу один|полечу одна|еду один|еду одна|только я|solo|alone|just me|only me|by myself|жалғыз*3|өзім ғана|мен жалғыз",
            Cue::Alone,
        ),
        (
            "я с ребенком|я с сыном|я с дочкой|я с дочерью|одна с ребенком|один с ребенком|me and my son|me and my daughter|me and my kid|me and my child|мен баламмен|балам екеуміз",
            Cue::AloneWithChild,
        ),
        (
            "семья|семьи|семье|семью|семьей|семьею|семейн*4|семейк*2|family|отбасы*8",
            Cue::Family,
        ),
        (
            "посовету*6 с *12|обсуд*4 с *12|обсужу с *12|спрошу у *12|спросим у *12|поговорю с *12|поговорим с *12|discuss with *12|ask my *12|talk to my *12",
            Cue::Ignore,
        ),
        (
            "вдвоем|на двоих|for two|two of us|the two of us|we are two|couple|a couple|honeymoon|медовый месяц|молодожен*2|екеуміз|екеуіміз",
            Cue::Together(2),
        ),
        (
            "на одного|на одну|на одного человека|for one person|for one",
            Cue::Together(1),
        ),
        (
            "втроем|на троих|for three|three of us|we are three|үшеуміз|үшеуіміз",
            Cue::Together(3),
        ),
        (
            "вчетвером|на четверых|for four|four of us|төртеуміз",
            Cue::Together(4),
        ),
        (
            "впятером|на пятерых|for five|five of us|бесеуміз",
            Cue::Together(5),
        ),
    ])
});

fn adult_unit(w: &str) -> bool {
    w.starts_with("взросл")
        || w.starts_with("adult")
        || w.starts_with("ересек")
        || matches!(w, "взр" | "grown")
}

fn person_unit(w: &str) -> bool {
    matches!(
        w,
        "человек"
            | "человека"
            | "чел"
            | "people"
            | "persons"
            | "person"
            | "pax"
            | "адам"
            | "адамга"
            | "адамды"
            | "туриста"
            | "туристов"
            | "персоны"
            | "персон"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    One,
    Many,
}

fn child_unit(w: &str) -> Option<Child> {
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    if matches!(
        w,
        "дети"
            | "детей"
            | "детьми"
            | "детям"
            | "детях"
            | "детки"
            | "деток"
            | "детишек"
            | "детишками"
            | "children"
            | "kids"
            | "childs"
            | "infants"
            | "babies"
            | "малышей"
    ) || stem("балалар", 4)
    {
        Some(Child::Many)
    } else if stem("ребен", 3)
        || stem("ребён", 3)
        || stem("малыш", 3)
        || stem("младен", 3)
        || stem("доч", 5)
        || stem("бала", 4)
        || stem("саби", 3)
        || matches!(
            w,
            "реб"
                | "сын"
                | "сына"
                | "сыном"
                | "сыну"
                | "child"
                | "kid"
                | "infant"
                | "baby"
                | "toddler"
                | "son"
                | "daughter"
                | "улым"
                | "кызым"
        )
    {
        Some(Child::One)
    } else {
        None
    }
}

/// `Some(true)` for month units (an infant's age counts as 0).
fn age_unit(w: &str) -> Option<bool> {
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    if matches!(
        w,
        "лет" | "года" | "год" | "годам" | "years" | "year" | "yo" | "yrs" | "y"
    ) || stem("годик", 3)
        || stem("летн", 3)
        || stem("жас", 4)
    {
        Some(false)
    } else if matches!(
        w,
        "мес" | "месяц" | "месяца" | "месяцев" | "months" | "month" | "айлык"
    ) {
        Some(true)
    } else {
        None
    }
}

fn is_unit(w: &str) -> bool {
    adult_unit(w) || person_unit(w) || child_unit(w).is_some() || age_unit(w).is_some()
}

fn free(used: &[bool], i: usize) -> bool {
    !used.get(i).copied().unwrap_or(true)
}

/// A head count at word `i`: `(value, index of the following word, collective)`.
fn count(t: &Text, i: usize, used: &[bool]) -> Option<(u32, usize, bool)> {
    if !free(used, i) {
        return None;
    }
    if t.is_num(i) {
        let v = t.num(i).filter(|&v| (1..=20).contains(&v))? as u32;
        // "2-х взрослых", "2х", "3-ех"
        let next = if t.skip_num_suffix(i + 1) == i {
            i + 2
        } else {
            i + 1
        };
        return Some((v, next, false));
    }
    t.number_word(i).map(|(v, c)| (v, i + 1, c))
}

/// An age at word `i`: digits up to 17 or a number word; "1,5" is read as 1.
fn age_value(t: &Text, i: usize, used: &[bool]) -> Option<u32> {
    if !free(used, i) {
        return None;
    }
    if t.is_num(i) {
        return t.num(i).filter(|&v| v <= 17).map(|v| v as u32);
    }
    if matches!(t.w(i), "полтора" | "полгода") {
        return Some(if t.w(i) == "полгода" { 0 } else { 1 });
    }
    t.number_word(i)
        .filter(|&(v, c)| !c && v <= 17)
        .map(|(v, _)| v)
}

const AND: &[&str] = &["и", "and", "&", "жане", "мен", "или", "or"];

/// Ages written before the age unit at `u`: "3 и 8 лет", "3, 5 и 10 лет", "3-х и 8-ми лет".
fn ages_before(t: &Text, u: usize, used: &[bool]) -> Vec<(usize, u32)> {
    let mut items = Vec::new();
    let mut j = t.skip_num_suffix(u.wrapping_sub(1));
    while let Some(mut v) = age_value(t, j, used) {
        // "1,5 года": a decimal age, the whole part counts.
        let g = t.gap(j);
        if !g.space && (g.punct == "," || g.punct == ".") && t.is_num(j.wrapping_sub(1)) {
            j -= 1;
            v = age_value(t, j, used).unwrap_or(v);
            items.push((j, v));
        } else {
            items.push((j, v));
        }
        let g = t.gap(j);
        if g.punct.contains(',') || g.punct.contains('/') {
            j = t.skip_num_suffix(j.wrapping_sub(1));
        } else if t.is(j.wrapping_sub(1), AND) {
            j = t.skip_num_suffix(j.wrapping_sub(2));
        } else {
            break;
        }
        if items.len() >= 6 {
            break;
        }
    }
    items.reverse();
    items
}

/// Ages written right after a child word: "ребенок 6", "2 kids (4 and 9)", "aged 5 and 8".
fn ages_after(t: &Text, c: usize, used: &[bool]) -> Vec<(usize, u32)> {
    let mut items = Vec::new();
    // "a child of 4", "ребёнок возрастом 5"
    let c = if t.is(c + 1, &["of", "aged", "age", "возрастом", "возраст"]) {
        c + 1
    } else {
        c
    };
    let mut j = c + 1;
    if !t
        .gap(j)
        .punct
        .chars()
        .all(|ch| matches!(ch, '(' | ':' | '-' | '–' | ','))
    {
        return items;
    }
    while t.is_num(j) {
        let Some(v) = age_value(t, j, used) else {
            break;
        };
        items.push((j, v));
        let k = t.skip_num_suffix(j + 1);
        let k = if k == j { j + 2 } else { j + 1 };
        if t.gap(k).punct.contains(',') && t.is_num(k) {
            j = k;
        } else if t.is(k, AND) && t.is_num(k + 1) {
            j = k + 1;
        } else {
            break;
        }
    }
    if let Some(&(last, _)) = items.last() {
        // "с ребёнком 10 ночей", "ребёнок 2 раза": the number belongs to something else.
        let next = t.w(last + 1);
        let separated = next.is_empty() || !t.gap(last + 1).punct.is_empty();
        let other_unit = is_unit(next) && age_unit(next).is_none();
        if other_unit || !(separated || age_unit(next).is_some() || AND.contains(&next)) {
            items.clear();
        }
    }
    items
}

/// Whether word `i` adds people to a head count just given ("двое и ребёнок", "2 + ребёнок").
fn adds_more(t: &Text, i: usize) -> bool {
    t.is(i, &["и", "плюс", "and", "plus", "жане"]) || (t.gap(i).punct.contains('+') && !t.is_num(i))
}

/// The counts said for one kind of traveller. Mentions add up ("2 взрослых и ещё 1 взрослый"),
/// but the same number said again and again is one party restated, not more people (a message
/// repeating "двое взрослых" is two adults).
#[derive(Default)]
struct Tally(Vec<u32>);

impl Tally {
    fn add(&mut self, count: u32) {
        self.0.push(count);
    }

    fn total(&self) -> u32 {
        match self.0.as_slice() {
            [first, rest @ ..] if rest.iter().all(|c| c == first) => *first,
            all => all.iter().sum(),
        }
    }
}

/// Fills adults, children and child ages; marks the numbers it reads.
pub(crate) fn extract(t: &Text, used: &mut [bool], slots: &mut Slots) {
    let n = t.len();
    let mut adults_explicit = Tally::default();
    let mut persons: Option<u32> = None;
    // A head count "нас трое" and whether more people are added after it ("… и ребёнок").
    let mut collective: Option<(u32, bool)> = None;
    let mut kids_explicit = Tally::default();
    let mut kids_single = 0u32;
    let mut child_words: Vec<usize> = Vec::new();

    let mut i = 0;
    while i < n {
        if !free(used, i) {
            i += 1;
            continue;
        }
        // "2+1": two adults and a child.
        if t.is_num(i) && t.gap(i + 1).punct == "+" && t.is_num(i + 1) && free(used, i + 1) {
            let (a, b) = (t.num(i).unwrap_or(0), t.num(i + 1).unwrap_or(0));
            let star = t.gap(i + 2).punct.starts_with('*') || t.starts(i + 2, &["звезд", "star"]);
            // "Сколько будет 2+2?" is arithmetic.
            let sum = t.gap(i + 2).punct.contains('=')
                || t.is(i.wrapping_sub(1), &["будет", "равно", "is", "equals"]);
            if (1..=6).contains(&a) && (1..=4).contains(&b) && !star && !sum {
                adults_explicit.add(a as u32);
                kids_explicit.add(b as u32);
                used[i] = true;
                used[i + 1] = true;
                if child_unit(t.w(i + 2)).is_some() {
                    used[i + 2] = true;
                    child_words.push(i + 2);
                }
                i += 2;
                continue;
            }
        }
        if let Some((v, nx, coll)) = count(t, i, used) {
            let unit = t.w(nx);
            let take = |used: &mut [bool]| {
                for u in used.iter_mut().take(nx + 1).skip(i) {
                    *u = true;
                }
            };
            if adult_unit(unit) {
                adults_explicit.add(v);
                take(used);
                i = nx + 1;
                continue;
            }
            if child_unit(unit).is_some() {
                kids_explicit.add(v);
                take(used);
                child_words.push(nx);
                i = nx + 1;
                continue;
            }
            if person_unit(unit) {
                persons = Some(persons.unwrap_or(0) + v);
                take(used);
                i = nx + 1;
                continue;
            }
            if coll {
                collective = Some((v, adds_more(t, i + 1)));
                used[i] = true;
                i += 1;
                continue;
            }
        }
        let w = t.w(i);
        // "нас 3", "взрослых: 2", "детей - 1": the unit before the number.
        // After a child word a number is usually an age ("дети 3 и 8 лет"); a count only
        // with a colon or dash ("детей: 2").
        let labelled = t.gap(i + 1).punct.contains([':', '-', '–']);
        if (w == "нас" || adult_unit(w) || (child_unit(w) == Some(Child::Many) && labelled))
            && let Some((v, nx, _)) = count(t, i + 1, used)
            && t.is_num(i + 1)
            && !is_unit(t.w(nx))
        {
            if w == "нас" {
                collective = Some((v, adds_more(t, nx)));
            } else if adult_unit(w) {
                adults_explicit.add(v);
            } else {
                kids_explicit.add(v);
                child_words.push(i);
            }
            used[i] = true;
            used[i + 1] = true;
            i += 2;
            continue;
        }
        if let Some(c) = child_unit(w) {
            child_words.push(i);
            if c == Child::One {
                kids_single += 1;
            }
        }
        i += 1;
    }

    let (adults_explicit, kids_explicit) = (adults_explicit.total(), kids_explicit.total());

    // Ages, only when the message is about children.
    let mut ages: Vec<(usize, u32)> = Vec::new();
    let aged = t.any_starts(&["aged", "возраст"]);
    if !child_words.is_empty() || kids_explicit > 0 || aged {
        for u in 0..n {
            let Some(months) = age_unit(t.w(u)) else {
                continue;
            };
            if !free(used, u) {
                continue;
            }
            let items = ages_before(t, u, used);
            if items.is_empty() {
                continue;
            }
            for &(j, v) in &items {
                used[j] = true;
                ages.push((j, if months { 0 } else { v }));
            }
            used[u] = true;
        }
        let starts: Vec<usize> = child_words
            .iter()
            .copied()
            .chain((0..n).filter(|&k| t.is(k, &["aged", "age", "возрастом", "возраст", "ages"])))
            .collect();
        for c in starts {
            for (j, v) in ages_after(t, c, used) {
                used[j] = true;
                ages.push((j, v));
            }
        }
        ages.sort_by_key(|&(j, _)| j);
    }

    // Companions and collective phrases.
    let (mut companion, mut alone, mut family) = (false, false, false);
    let mut together: Option<u32> = None;
    for h in CUES.scan(t) {
        if (h.start..h.end).any(|k| !free(used, k)) {
            continue;
        }
        match h.val {
            Cue::Companion => companion = true,
            Cue::Alone | Cue::AloneWithChild => alone = true,
            Cue::Family => family = true,
            Cue::Ignore => {}
            Cue::Together(v) => {
                together.get_or_insert(v);
            }
        }
    }

    let children = if kids_explicit > 0 {
        Some(kids_explicit.max(ages.len() as u32))
    } else if !ages.is_empty() || kids_single > 0 {
        Some(kids_single.max(ages.len() as u32))
    } else {
        None
    };
    let including = (1..n).any(|k| t.w(k) == "них" && t.w(k - 1) == "из")
        || t.any_starts(&["including", "включая"]);
    let adults = if adults_explicit > 0 {
        Some(adults_explicit)
    } else if let Some(p) = persons {
        match children {
            // "семья из трёх человек (я, муж и сын)", "4 человека, из них 2 ребёнка"
            Some(k) if (including || family) && p > k => Some(p - k),
            _ if family && children.is_none() => None,
            _ => Some(p),
        }
    } else if let Some((c, plus)) = collective {
        // "нас трое: я, муж и ребёнок" counts the child; "нас двое и ребёнок" does not.
        match children {
            Some(k) if c > k && !plus => Some(c - k),
            _ => Some(c),
        }
    } else if let Some(v) = together {
        Some(v)
    } else if companion {
        Some(2)
    } else if alone {
        Some(1)
    } else if family && children.is_some() {
        Some(2)
    } else {
        None
    };
    slots.adults = adults;
    slots.children = children;
    slots.child_ages = if children.is_some() {
        ages.into_iter().map(|(_, v)| v).collect()
    } else {
        Vec::new()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> (Option<u32>, Option<u32>, Vec<u32>) {
        let t = Text::new(s);
        let mut used = vec![false; t.len()];
        let mut slots = Slots::default();
        extract(&t, &mut used, &mut slots);
        (slots.adults, slots.children, slots.child_ages)
    }

    #[test]
    fn adults_forms() {
        for (s, a) in [
            ("2 взрослых", 2),
            ("двое взрослых", 2),
            ("нас двое", 2),
            ("нас трое взрослых", 3),
            ("вдвоём", 2),
            ("втроем", 3),
            ("на двоих", 2),
            ("с мужем", 2),
            ("мы с женой", 2),
            ("я одна", 1),
            ("я один", 1),
            ("two adults", 2),
            ("2 adults", 2),
            ("for two", 2),
            ("me and my wife", 2),
            ("екі ересек", 2),
            ("2 ересек", 2),
            ("3 человека", 3),
            ("2-х взрослых", 2),
            ("взрослых: 2", 2),
            ("күйеуіммен", 2),
            ("solo trip", 1),
        ] {
            assert_eq!(run(s).0, Some(a), "{s}");
        }
        assert_eq!(run("на 7 ночей").0, None);
    }

    #[test]
    fn a_restated_party_is_not_summed() {
        let repeated = "Хотим в Нячанг, двое взрослых. ".repeat(300);
        assert_eq!(run(&repeated).0, Some(2));
        assert_eq!(
            run("2 взрослых и ребёнок, повторю: 2 взрослых и ребёнок").0,
            Some(2)
        );
        // Different counts still add up.
        assert_eq!(run("2 взрослых и ещё 1 взрослый").0, Some(3));
    }

    #[test]
    fn children_and_ages() {
        assert_eq!(
            run("2 взрослых и ребенок 6 лет"),
            (Some(2), Some(1), vec![6])
        );
        assert_eq!(
            run("Семья с двумя детьми 3 и 8 лет"),
            (Some(2), Some(2), vec![3, 8])
        );
        assert_eq!(run("семья с ребёнком"), (Some(2), Some(1), vec![]));
        assert_eq!(run("2+1"), (Some(2), Some(1), vec![]));
        assert_eq!(
            run("2 взрослых + 2 детей (5 и 9 лет)"),
            (Some(2), Some(2), vec![5, 9])
        );
        assert_eq!(
            run("two adults and two kids aged 4 and 9"),
            (Some(2), Some(2), vec![4, 9])
        );
        assert_eq!(run("2 adults, 1 child (7)"), (Some(2), Some(1), vec![7]));
        assert_eq!(run("2 ересек, 1 бала 5 жаста"), (Some(2), Some(1), vec![5]));
        assert_eq!(run("екі ересек және екі бала"), (Some(2), Some(2), vec![]));
        assert_eq!(run("с мужем и сыном 10 лет"), (Some(2), Some(1), vec![10]));
        assert_eq!(run("сын 5 лет и дочь 8 лет"), (None, Some(2), vec![5, 8]));
        assert_eq!(
            run("нас трое: я, муж и ребенок 4 лет"),
            (Some(2), Some(1), vec![4])
        );
        assert_eq!(run("ребенку 1,5 года"), (None, Some(1), vec![1]));
        assert_eq!(run("дети 3-х и 8-ми лет"), (None, Some(2), vec![3, 8]));
        assert_eq!(run("я с ребенком 7 лет"), (Some(1), Some(1), vec![7]));
        assert_eq!(
            run("нас двое и ребенок 4 года"),
            (Some(2), Some(1), vec![4])
        );
        assert_eq!(run("с ребенком 3 лет и мужем"), (Some(2), Some(1), vec![3]));
        assert_eq!(run("мне 30 лет"), (None, None, vec![]));
    }
}
