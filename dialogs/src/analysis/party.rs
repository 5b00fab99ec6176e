//! The party: adults, children and the children's ages.
//!
//! Read in this order of trust:
//! 1. Counts with a unit: "2 взрослых", "двое детей", "екі ересек", "two adults", "2 ppl",
//!    "3 адамбыз", "2+1", and the unit before the count ("взрослых: 2", "ересек екеу",
//!    "бала 1 (4 жаста)"). A count and its unit are not split by punctuation ("нас трое,
//!    ребёнку 5 лет" is three people and a five-year-old, not three children).
//! 2. Head counts that include everyone: "3 человека", "family of 3", "нас трое", "втроём",
//!    "екеуміз". Children named beside them are part of the count ("нас будет трое, ребёнку
//!    5 лет" → 2 + 1) unless they are added to it ("нас двое и ребёнок") or the adults make
//!    up the count on their own ("нас с мужем двое").
//! 3. The people the customer names: the customer ("я", "me"), companions ("с мужем", "муж и
//!    я", "me + gf", "анаммен") and children ("сын", "дочке", "ребёнок"): "мы с мужем и
//!    сыном" → 2 + 1, "я и ребёнок" → 1 + 1, "я, жена, тёща и двое детей" → 3 + 2.
//!    A companion counts only when the message links them to the party (a preposition "с",
//!    "with", a list, an instrumental form): "мой муж спрашивает…" names no traveller.
//! 4. "я одна", "solo" → 1; "семья с ребёнком" → 2 adults.
//!
//! Ages are numbers with an age unit ("3 и 8 лет", "5 жаста", "6yo", "3г") or right after a
//! child word ("ребёнок 6", "kid is 4", "детям 5 и 8"), kept in the order written, and only
//! when children are mentioned at all. An age is never a number of nights.

use std::sync::LazyLock;

use super::Slots;
use super::lexicon::{Lexicon, near_stem};
use super::text::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "я одна", "solo".
    Alone,
    /// "я с ребёнком": one adult, and a child counted by the child word itself.
    AloneWithChild,
    /// "семья": two adults when children are mentioned.
    Family,
    /// "вдвоём", "на двоих", "couple", "екеуміз": that many people.
    Together(u32),
    /// "посоветуемся с мужем": someone named who is not said to travel.
    Ignore,
}

static CUES: LazyLock<Lexicon<Cue>> = LazyLock::new(|| {
    Lexicon::new(&[
        (
            "я один|я одна|одна поеду|один поеду|поеду один|поеду одна|лечу один|лечу одна|полечу один|полечу одна|еду один|еду одна|только я|solo|alone|just me|only me|by myself|жалғыз*3|өзім ғана|мен жалғыз|хочу одна|хочу один|поеду сама|сама поеду|одна с детьми|одна с ребенком|без мужа|без жены|мать одиночка|no partner|without my partner|single mom|single mum|single dad|single parent",
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
            "вдвоем|на двоих|for two|two of us|the two of us|we are two|couple|a couple|honeymoon|медовый месяц|молодожен*2|мы пара|пара|парой|екеуміз|екеуіміз*3|екеуміз*2",
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
            "вчетвером|на четверых|for four|four of us|two couples|we are two couples|we're two couples|2 couples|две пары|2 пары|две семейные пары|төртеуміз|төртеуіміз*3",
            Cue::Together(4),
        ),
        (
            "впятером|на пятерых|for five|five of us|бесеуміз|бесеуіміз",
            Cue::Together(5),
        ),
        ("вшестером|на шестерых|алтауымыз", Cue::Together(6)),
    ])
});

/// Someone named as travelling, with how many people the word stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The customer: "я", "me", "I".
    Me,
    /// Adults other than the customer, by a word standing for one (or two: "родители").
    /// `lemma` tells repeated mentions of one person apart from two people.
    Companion { lemma: &'static str, people: u32 },
    /// A child; `lemma` as above ("ребёнок … ребёнку" is one child, "сын и дочь" two).
    Child(&'static str),
}

/// Companions: (stem, letters allowed after it, lemma, people). Kazakh forms carry the
/// possessive ("күйеуім", "анаммен"); Russian and English are listed as used.
const COMPANIONS: &[(&str, usize, &str, u32)] = &[
    ("муж", 2, "муж", 1),
    ("жена", 0, "жена", 1),
    ("женой", 0, "жена", 1),
    ("жену", 0, "жена", 1),
    ("супруг", 2, "супруг", 1),
    ("парень", 0, "парень", 1),
    ("парнем", 0, "парень", 1),
    ("девушк", 2, "девушка", 1),
    ("подруг", 2, "подруга", 1),
    ("друг", 0, "друг", 1),
    ("другом", 0, "друг", 1),
    ("мама", 0, "мама", 1),
    ("мамой", 0, "мама", 1),
    ("маму", 0, "мама", 1),
    ("мать", 0, "мама", 1),
    ("матерью", 0, "мама", 1),
    ("папа", 0, "папа", 1),
    ("папой", 0, "папа", 1),
    ("отец", 0, "папа", 1),
    ("отцом", 0, "папа", 1),
    ("сестр", 3, "сестра", 1),
    ("брат", 0, "брат", 1),
    ("братом", 0, "брат", 1),
    ("тещ", 3, "теща", 1),
    ("свекров", 3, "свекровь", 1),
    ("свекор", 0, "свекор", 1),
    ("свекром", 0, "свекор", 1),
    ("тесть", 0, "тесть", 1),
    ("тестем", 0, "тесть", 1),
    ("бабушк", 2, "бабушка", 1),
    ("дедушк", 2, "дедушка", 1),
    ("тет", 2, "тетя", 1),
    ("дяд", 2, "дядя", 1),
    ("коллег", 2, "коллега", 1),
    ("любимым", 0, "любимый", 1),
    ("любимой", 0, "любимая", 1),
    ("бойфренд", 2, "парень", 1),
    ("невест", 2, "невеста", 1),
    ("жених", 2, "жених", 1),
    ("родител", 3, "родители", 2),
    ("husband", 1, "муж", 1),
    ("hubby", 0, "муж", 1),
    ("wife", 0, "жена", 1),
    ("partner", 1, "партнер", 1),
    ("girlfriend", 0, "девушка", 1),
    ("gf", 0, "девушка", 1),
    ("boyfriend", 0, "парень", 1),
    ("bf", 0, "парень", 1),
    ("fiance", 1, "жених", 1),
    ("friend", 0, "друг", 1),
    ("mom", 0, "мама", 1),
    ("mum", 0, "мама", 1),
    ("mother", 0, "мама", 1),
    ("dad", 0, "папа", 1),
    ("father", 0, "папа", 1),
    ("sister", 0, "сестра", 1),
    ("brother", 0, "брат", 1),
    ("grandma", 0, "бабушка", 1),
    ("grandmother", 0, "бабушка", 1),
    ("grandpa", 0, "дедушка", 1),
    ("grandfather", 0, "дедушка", 1),
    ("colleague", 0, "коллега", 1),
    ("parents", 0, "родители", 2),
    ("куйеуим", 5, "муж", 1),
    ("айелим", 5, "жена", 1),
    ("жарым", 5, "жена", 1),
    ("анам", 5, "мама", 1),
    ("акем", 5, "папа", 1),
    ("досым", 5, "друг", 1),
    ("курбым", 5, "подруга", 1),
    ("апкем", 5, "сестра", 1),
    ("апам", 5, "сестра", 1),
    ("синлим", 5, "сестра", 1),
    ("иним", 5, "брат", 1),
    ("агам", 5, "брат", 1),
];

/// A child word in the dative ("ребёнку 5 лет", "дочке 4"): it takes an age, never a count.
fn dative_child(w: &str) -> bool {
    matches!(
        w,
        "ребенку"
            | "сыну"
            | "сыночку"
            | "дочке"
            | "дочери"
            | "дочурке"
            | "малышу"
            | "детям"
            | "внуку"
            | "внучке"
            | "подростку"
            | "балама"
            | "балага"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    One,
    Many,
}

fn child_unit(w: &str) -> Option<Child> {
    match WHO.word(w)? {
        Who::Child("дети") => Some(Child::Many),
        Who::Child(_) => Some(Child::One),
        _ => None,
    }
}

fn adult_unit(w: &str) -> bool {
    w.starts_with("взросл")
        || near_stem(w, "взросл", 4)
        || w.starts_with("adult")
        || near_stem(w, "adult", 2)
        || w.starts_with("ересек")
        || w.starts_with("eresek")
        || w.starts_with("vzr")
        || matches!(
            w,
            "взр" | "взрос" | "grown" | "adl" | "adlt" | "adlts" | "ad"
        )
}

fn person_unit(w: &str) -> bool {
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    matches!(
        w,
        "человек"
            | "человека"
            | "чел"
            | "people"
            | "persons"
            | "person"
            | "ppl"
            | "pple"
            | "pax"
            | "travellers"
            | "travelers"
            | "guests"
            | "туриста"
            | "туристов"
            | "туристы"
            | "персоны"
            | "персон"
            | "chel"
            | "chelovek"
            | "cheloveka"
    ) || stem("адам", 4)
        || stem("adam", 4)
}

/// `Some(true)` for month units (an infant's age counts as 0). Single letters ("3г", "5л")
/// count only glued to the number, see [`age_unit_at`].
fn age_unit(w: &str) -> Option<bool> {
    let stem = |s: &str, max: usize| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= max);
    if matches!(
        w,
        "лет"
            | "года"
            | "год"
            | "годам"
            | "years"
            | "year"
            | "yo"
            | "yrs"
            | "yr"
            | "y"
            | "let"
            | "goda"
    ) || stem("годик", 3)
        || stem("летн", 3)
        || stem("жас", 4)
    {
        Some(false)
    } else if matches!(
        w,
        "мес" | "месяц" | "месяца" | "месяцев" | "months" | "month" | "mo" | "айлык" | "ай"
    ) {
        Some(true)
    } else {
        None
    }
}

/// An age unit at word `u`, also a letter glued to its number ("3г", "5л").
fn age_unit_at(t: &Text, u: usize) -> Option<bool> {
    age_unit(t.w(u)).or_else(|| (t.is(u, &["г", "л"]) && t.glued(u)).then_some(false))
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
    if let Some((v, c)) = t.number_word(i)
        && c
    {
        return Some((v, i + 1, true));
    }
    let (v, next) = t.number_at(i, &is_unit)?;
    ((1..=20).contains(&v) && (i..next).all(|k| free(used, k))).then_some((v, next, false))
}

/// A unit follows its count with nothing but spaces between ("2 взрослых", "2-х взрослых",
/// "2взр"): "трое, ребёнку 5 лет" is not three children.
fn unit_follows(t: &Text, nx: usize) -> bool {
    let g = t.gap(nx);
    g.punct.is_empty() || t.skip_num_suffix(nx.wrapping_sub(1)) != nx.wrapping_sub(1)
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

/// Ages written right after a child word: "ребенок 6", "2 kids (4 and 9)", "aged 5 and 8",
/// "kid is 4", "дети - 5 и 8".
fn ages_after(t: &Text, c: usize, used: &[bool]) -> Vec<(usize, u32)> {
    let mut items = Vec::new();
    // "a child of 4", "ребёнок возрастом 5", "kids are 5 and 8", "one child she is five",
    // "сын, ему 7", "дочка, ей 10".
    let mut c = c;
    let mut spelt = false;
    for _ in 0..2 {
        if t.is(
            c + 1,
            &[
                "of",
                "aged",
                "age",
                "возрастом",
                "возраст",
                "is",
                "are",
                "ages",
                "she",
                "he",
                "who",
                "ему",
                "ей",
                "им",
                "she's",
                "he's",
            ],
        ) {
            c += 1;
            spelt = true;
        }
    }
    // After "she is", "ей" an age may be spelt out ("she is five"); right after a child
    // word a number word is a count ("ребёнок один").
    if spelt
        && !t.is_num(c + 1)
        && let Some(v) = age_value(t, c + 1, used)
        && age_unit_at(t, c + 2).is_none_or(|months| !months)
    {
        items.push((c + 1, v));
        return items;
    }
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
        // "2 kids 4 and 9 from astana": a list of ages, then where from or to.
        let list_then_place =
            items.len() >= 2 && t.is(last + 1, &["from", "frm", "to", "in", "из", "в", "во"]);
        if (other_unit && !separated)
            || !(separated
                || list_then_place
                || age_unit_at(t, last + 1).is_some()
                || AND.contains(&next))
        {
            items.clear();
        }
    }
    items
}

/// Whether word `i` adds people to a head count just given ("двое и ребёнок", "2 + ребёнок").
fn adds_more(t: &Text, i: usize) -> bool {
    t.is(i, &["и", "плюс", "and", "plus", "жане"]) || t.gap(i).punct.contains('+')
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

/// Words naming people, indexed like every lexicon so that a message's words are compared
/// with a handful of candidates only (see [`who`]).
static WHO: LazyLock<Lexicon<Who>> = LazyLock::new(|| {
    let mut specs: Vec<(String, Who)> = COMPANIONS
        .iter()
        .map(|&(stem, extra, lemma, people)| {
            (format!("{stem}*{extra}"), Who::Companion { lemma, people })
        })
        .collect();
    specs.extend(
        [
            ("я|me|i|myself|өзім", Who::Me),
            (
                "ребен*3|ребён*3|реб|малыш*3|младен*3|саби*3|подрост*4|teen*5|child|kid|infant|baby|toddler|ch|chd|chld|бала*4|bala*4|rebenok|rebenka",
                Who::Child("ребенок"),
            ),
            (
                "сын|сына|сыном|сыну|son|сыноч*3|сынок*2|ұлым*4",
                Who::Child("сын"),
            ),
            ("доч*5|daughter|қызым*4", Who::Child("дочь")),
            ("внук|внука|внуком|внуку|grandson", Who::Child("внук")),
            ("внучк*2|granddaughter", Who::Child("внучка")),
            // "ребёнку 4, второму 9", "старшему 10, младшему 5": the next child.
            ("второму", Who::Child("второй")),
            ("старшему|старшей|старший|старшая", Who::Child("старший")),
            ("младшему|младшей|младший|младшая", Who::Child("младший")),
            (
                "дети|детей|детьми|детям|детях|детки|деток|детишек|детишками|ребята|ребят|ребятишек|children|kids|childs|infants|babies|toddlers|teens|teenagers|малышей|подростков|подростка|внуков|внуками|внуки|внучек|внучками|deti|detei|detey|балалар*4|balalar*4|немерелер*4",
                Who::Child("дети"),
            ),
        ]
        .into_iter()
        .map(|(p, w)| (p.to_string(), w)),
    );
    let entries: Vec<(&str, Who)> = specs.iter().map(|(p, w)| (p.as_str(), *w)).collect();
    Lexicon::new(&entries)
});

/// Who word `i` names, if anyone.
fn who(t: &Text, i: usize) -> Option<Who> {
    // Kazakh "мен" is "I", and also "and"/"with": the customer only after "және" or a comma
    // ("күйеуім және мен"), or before a Russian "и" ("мен и ребенок", mixed Kazakh and
    // Russian: the Kazakh "and" is never followed by another one).
    if t.w(i) == "мен" {
        let me = t.is(i.wrapping_sub(1), &["жане"])
            || t.is(i + 1, &["и"])
            || t.gap(i).punct.contains([',', ':'])
            || t.gap(i + 1).punct.contains(',');
        return me.then_some(Who::Me);
    }
    // "20-сына": a Kazakh case ending of a number, not "сына".
    if t.skip_num_suffix(i) != i {
        return None;
    }
    WHO.at(t, i)
        .filter(|&(end, _)| end == i + 1)
        .map(|(_, who)| who)
}

/// Words that may stand between two people named together: "я и муж", "me, my mom and my
/// sister", "с ребёнком 3 лет и мужем".
fn linker(t: &Text, i: usize) -> bool {
    t.is_num(i)
        || t.number_word(i).is_some()
        || age_unit(t.w(i)).is_some()
        || t.is(
            i,
            &[
                "и",
                "с",
                "со",
                "а",
                "also",
                "and",
                "with",
                "my",
                "our",
                "мой",
                "моя",
                "моей",
                "моим",
                "моего",
                "мои",
                "моими",
                "наш",
                "наша",
                "нашим",
                "нашей",
                "наши",
                "нашими",
                "plus",
                "плюс",
                "жане",
                "еще",
                "ещё",
                "also",
                "her",
                "his",
            ],
        )
}

/// The people named in the message.
struct Named {
    /// Adults besides the customer ("с мужем и мамой": 2).
    companions: u32,
    /// The customer is named among the travellers ("я и ребёнок", "муж и я").
    me: bool,
    /// The customer travels "with" someone ("с мужем", "анаммен", "with my wife").
    with: bool,
    /// Distinct children named one by one ("сын и дочь": 2).
    kids: u32,
}

fn named(t: &Text, ignored: &[bool]) -> Named {
    let n = t.len();
    let whos: Vec<Option<Who>> = (0..n)
        .map(|i| if ignored[i] { None } else { who(t, i) })
        .collect();
    // A person linked to another one by nothing but linkers, commas, "+" and "/".
    let linked = |i: usize| {
        let near = |range: &mut dyn Iterator<Item = usize>| {
            for k in range {
                if whos[k].is_some() {
                    return true;
                }
                if !linker(t, k) {
                    return false;
                }
            }
            false
        };
        near(&mut (i.saturating_sub(4)..i).rev()) || near(&mut (i + 1..n.min(i + 5)))
    };
    let with = |i: usize| {
        let p = if t.is(
            i.wrapping_sub(1),
            &["my", "our", "a", "an", "моим", "моей", "нашим", "нашей"],
        ) {
            i.wrapping_sub(2)
        } else {
            i.wrapping_sub(1)
        };
        // "мама с ребёнком", "ребёнок летит с бабушкой": someone else goes with them, not
        // the customer.
        t.is(p, &["с", "со", "with"])
            && !(1..=2).any(|k| {
                matches!(
                    whos.get(p.wrapping_sub(k)),
                    Some(Some(Who::Companion { .. } | Who::Child(_)))
                )
            })
    };
    let mut companions: Vec<(&str, u32)> = Vec::new();
    let mut children: Vec<&str> = Vec::new();
    let (mut me, mut with_someone) = (false, false);
    for (i, &who) in whos.iter().enumerate() {
        match who {
            Some(Who::Me) if linked(i) => me = true,
            Some(Who::Companion { lemma, people }) => {
                let kk_with = t.w(i).ends_with("мен") || t.w(i).ends_with("пен");
                if with(i) || kk_with || linked(i) {
                    with_someone |= with(i) || kk_with;
                    if !companions.iter().any(|&(l, _)| l == lemma) {
                        companions.push((lemma, people));
                    }
                }
            }
            Some(Who::Child(lemma)) => {
                with_someone |= with(i);
                // "старший сын": one child in two words.
                let noun_follows = matches!(whos.get(i + 1), Some(Some(Who::Child(_))));
                // "второму 9", "старшему 10": the next child only with an age.
                let bare_adjective =
                    matches!(lemma, "второй" | "старший" | "младший") && !t.is_num(i + 1);
                if lemma != "дети" && !noun_follows && !bare_adjective && !children.contains(&lemma)
                {
                    children.push(lemma);
                }
            }
            _ => {}
        }
    }
    // "ребёнок" next to "сын"/"дочь" is one of them, not another child.
    let specific = children.iter().filter(|&&l| l != "ребенок").count() as u32;
    let kids = if specific > 0 {
        specific
    } else {
        children.len() as u32
    };
    Named {
        companions: companions.iter().map(|&(_, p)| p).sum(),
        me,
        with: with_someone,
        kids,
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
    let mut child_words: Vec<usize> = Vec::new();
    let mut family_count = false;
    // Counts were written after their units ("взрослых 2, ребенка 1"): a number after a child
    // word is then a count too, not an age.
    let mut unit_first = false;

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
        // "any 5 star … for 2?": a head count on its own after "for".
        if t.is(i.wrapping_sub(1), &["for"])
            && let Some((v, nx, false)) = count(t, i, used)
            && t.is_num(i)
            && v <= 10
            // "for 2, jan", "for 2 from almaty": not "for 2 nights" or "for 2 weeks".
            && (nx >= n
                || !t.gap(nx).punct.is_empty()
                || t.is(nx, &["from", "frm", "fr", "to", "in", "on", "at", "with", "and"]))
        {
            persons = Some(v);
            used[i] = true;
            i = nx;
            continue;
        }
        if let Some((v, nx, coll)) = count(t, i, used) {
            let unit = t.w(nx);
            let bound = unit_follows(t, nx);
            let take = |used: &mut [bool]| {
                for u in used.iter_mut().take(nx + 1).skip(i) {
                    *u = true;
                }
            };
            // "2ad+2ch": Latin shorthand only glued to its number.
            let glued_only = matches!(unit, "ad" | "ch") && !t.glued(nx);
            if bound && !glued_only && adult_unit(unit) {
                adults_explicit.add(v);
                take(used);
                i = nx + 1;
                continue;
            }
            let child = child_unit(unit);
            // "трое детей", "2 ребёнка", not "трое ребёнку" or "двое ребёнок".
            let agrees = match child {
                Some(Child::Many) => true,
                Some(Child::One) => !coll && !dative_child(unit),
                None => false,
            };
            if bound && !glued_only && agrees {
                kids_explicit.add(v);
                take(used);
                child_words.push(nx);
                i = nx + 1;
                continue;
            }
            if bound && person_unit(unit) {
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
        // "family of 3", "семья из 4": a head count with no unit.
        let of = usize::from(t.is(i + 1, &["of", "из"]));
        if t.is(i, &["family", "семья", "семьи", "семьей"])
            && let Some((v, nx, _)) = count(t, i + 1 + of, used)
            && !is_unit(t.w(nx))
        {
            persons = Some(v);
            family_count = true;
            for u in used.iter_mut().take(nx).skip(i + 1) {
                *u = true;
            }
            i = nx;
            continue;
        }
        // The unit before the count: "нас 3", "взрослых: 2", "ересек екеу", "детей - 1",
        // "бала 1 (4 жаста)". After a child word a number is usually an age ("дети 3 и 8
        // лет"); it is a count when labelled ("детей: 2"), spelt as a word ("детей двое"),
        // or followed by the ages in brackets.
        if let Some((v, nx, _)) = count(t, i + 1, used) {
            let labelled = t.gap(i + 1).punct.contains([':', '-', '–']);
            let spelt = !t.is_num(i + 1);
            let bracket = t.gap(nx).punct.starts_with('(');
            let child = child_unit(w);
            let next_is_unit = is_unit(t.w(nx)) && t.gap(nx).punct.is_empty();
            // "взрослых 2 детей 2": the second unit has its own count.
            let next_labelled = next_is_unit && count(t, nx + 1, used).is_some();
            let adult_ok = adult_unit(w) && (!next_is_unit || next_labelled);
            // "с детьми двое взрослых": the count is the next unit's, not the children's.
            let child_ok = child.is_some()
                && !dative_child(w)
                && (!next_is_unit || next_labelled)
                && age_unit_at(t, nx).is_none()
                && ((child == Some(Child::Many) && (labelled || spelt || next_labelled))
                    || bracket
                    || (unit_first && (nx >= t.len() || !t.gap(nx).punct.is_empty()))
                    || (spelt && !t.is(i + 1, &["a", "an"])));
            if (w == "нас" && !next_is_unit) || adult_ok || child_ok {
                if w == "нас" {
                    collective = Some((v, adds_more(t, nx)));
                } else if adult_unit(w) {
                    adults_explicit.add(v);
                    unit_first = true;
                } else {
                    kids_explicit.add(v);
                    child_words.push(i);
                }
                for u in used.iter_mut().take(nx).skip(i) {
                    *u = true;
                }
                i = nx;
                continue;
            }
        }
        if child_unit(w).is_some() && t.skip_num_suffix(i) == i {
            child_words.push(i);
        }
        i += 1;
    }

    let (adults_explicit, kids_explicit) = (adults_explicit.total(), kids_explicit.total());

    // Ages, only when the message is about children.
    let mut ages: Vec<(usize, u32)> = Vec::new();
    // "ей 10", "им 5 и 8": ages said of the children with a pronoun.
    let pronoun = (0..n).find(|&k| t.is(k, &["ему", "ей", "им"]) && t.is_num(k + 1));
    let aged = t.any_starts(&["aged", "возраст"]) || pronoun.is_some();
    if !child_words.is_empty() || kids_explicit > 0 || aged {
        for u in 0..n {
            let Some(months) = age_unit_at(t, u) else {
                continue;
            };
            if !free(used, u) {
                continue;
            }
            let items = ages_before(t, u, used);
            if items.is_empty() {
                continue;
            }
            // "2 года и 10 месяцев": the months are part of the same child's age.
            let first = items[0].0;
            let joined = t.is(first.wrapping_sub(1), AND)
                && age_unit_at(t, first.wrapping_sub(2)) == Some(false);
            if months && joined {
                for &(j, _) in &items {
                    used[j] = true;
                }
                used[u] = true;
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
            .chain((0..n).filter(|&k| {
                t.is(k, &["aged", "age", "возрастом", "возраст", "ages"])
                    || (t.is(k, &["ему", "ей", "им"]) && t.is_num(k + 1))
            }))
            .collect();
        for c in starts {
            for (j, v) in ages_after(t, c, used) {
                used[j] = true;
                ages.push((j, v));
            }
        }
        ages.sort_by_key(|&(j, _)| j);
    }

    // Collective phrases, and who is named.
    let (mut alone, mut family) = (false, family_count);
    let mut together: Option<(u32, bool)> = None;
    let mut ignored = vec![false; n];
    for h in CUES.scan(t) {
        if (h.start..h.end).any(|k| !free(used, k)) {
            continue;
        }
        match h.val {
            Cue::Alone | Cue::AloneWithChild => alone = true,
            Cue::Family => family = true,
            Cue::Ignore => ignored[h.start..h.end].fill(true),
            Cue::Together(v) => {
                together.get_or_insert((v, adds_more(t, h.end)));
            }
        }
    }
    let named = named(t, &ignored);

    let children = if kids_explicit > 0 {
        Some(kids_explicit.max(ages.len() as u32))
    } else if !ages.is_empty() || named.kids > 0 {
        Some(named.kids.max(ages.len() as u32))
    } else {
        None
    };
    let including = (1..n).any(|k| t.w(k) == "них" && t.w(k - 1) == "из")
        || t.any_starts(&["including", "включая"]);
    let named_adults = named.companions + u32::from(named.me || named.with);
    // A head count with the children in it, unless they are added to it or the adults
    // named make it up on their own.
    let total = |c: u32, plus: bool| match children {
        Some(k) if c > k && !plus && named_adults != c => c - k,
        _ => c,
    };
    let adults = if adults_explicit > 0 {
        Some(adults_explicit)
    } else if let Some(p) = persons {
        match children {
            // "семья из трёх человек (я, муж и сын)", "4 человека, из них 2 ребёнка",
            // "3 адамбыз: мен, әйелім және балам" (the people named make up the count)
            Some(k) if (including || family || named_adults + k == p) && p > k => Some(p - k),
            _ if family && children.is_none() => None,
            _ => Some(p),
        }
    } else if let Some((c, plus)) = collective {
        Some(total(c, plus))
    } else if let Some((v, plus)) = together {
        Some(total(v, plus))
    } else if named.companions > 0 {
        Some(named_adults)
    } else if alone || (named.me && children.is_some()) {
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
    fn everyday_party_forms() {
        for (s, want) in [
            ("2 ppl", (Some(2), None, vec![])),
            (
                "nha trang for 2 from almaty, march",
                (Some(2), None, vec![]),
            ),
            // The children named first, then counted with the adults.
            (
                "хотим с детьми\nдвое взрослых и двое детей",
                (Some(2), Some(2), vec![]),
            ),
            ("с детьми двое взрослых", (Some(2), None, vec![])),
            ("2 adlts", (Some(2), None, vec![])),
            ("2 pax", (Some(2), None, vec![])),
            ("me and my wife", (Some(2), None, vec![])),
            ("me, my mom and my sister", (Some(3), None, vec![])),
            ("я и ребенок", (Some(1), Some(1), vec![])),
            ("салем мен и ребенок 6 лет", (Some(1), Some(1), vec![6])),
            ("сын 12 лет и я", (Some(1), Some(1), vec![12])),
            ("нас будет трое, ребенку 5 лет", (Some(2), Some(1), vec![5])),
            ("мы с мужем и сыном", (Some(2), Some(1), vec![])),
            (
                "с мужем и двумя детьми 3 и 7",
                (Some(2), Some(2), vec![3, 7]),
            ),
            ("едем я муж и мама", (Some(3), None, vec![])),
            ("едем с женой и тещей", (Some(3), None, vec![])),
            ("мама с ребенком 5 лет", (Some(1), Some(1), vec![5])),
            (
                "дочке 4 годика, нас с мужем двое",
                (Some(2), Some(1), vec![4]),
            ),
            ("3 адамбыз", (Some(3), None, vec![])),
            ("екеуміз", (Some(2), None, vec![])),
            ("анаммен барамыз", (Some(2), None, vec![])),
            ("ересек 2, бала 1 (4 жаста)", (Some(2), Some(1), vec![4])),
            (
                "бізде екі бала бар 4 және 8 жаста, ересек екеу",
                (Some(2), Some(2), vec![4, 8]),
            ),
            ("бесеуміз, 2 бала бар", (Some(3), Some(2), vec![])),
            (
                "балам екеуміз барамыз, балам 6 жаста",
                (Some(1), Some(1), vec![6]),
            ),
            ("я одна", (Some(1), None, vec![])),
            ("с подругой", (Some(2), None, vec![])),
            ("семья 4 человека", (None, None, vec![])),
            ("family of 3, kid is 4", (Some(2), Some(1), vec![4])),
            ("two adults + kid 6yo", (Some(2), Some(1), vec![6])),
            ("a couple + 1 child 4 y.o.", (Some(2), Some(1), vec![4])),
            ("2 взраслых 1 ребёнок", (Some(2), Some(1), vec![])),
            ("взрослыйх 2, ребенка 1", (Some(2), Some(1), vec![])),
            (
                "взрослых 2 детей 2 (5 и 11 лет)",
                (Some(2), Some(2), vec![5, 11]),
            ),
            ("ребёнок 3г, взр 2", (Some(2), Some(1), vec![3])),
            ("2взр+1реб(5л)", (Some(2), Some(1), vec![5])),
            ("2ad+2ch", (Some(2), Some(2), vec![])),
            ("сыну 3, дочке 6", (None, Some(2), vec![3, 6])),
            ("kids are 5 and 8", (None, Some(2), vec![5, 8])),
            ("ребенку 4, второму 9", (None, Some(2), vec![4, 9])),
            ("мы пара", (Some(2), None, vec![])),
            ("We are two couples", (Some(4), None, vec![])),
            (
                "all inclusive in nha trang for 2? jan",
                (Some(2), None, vec![]),
            ),
            (
                "3 адамбыз: мен, әйелім және балам 4 жаста",
                (Some(2), Some(1), vec![4]),
            ),
            ("мы вдвоем с дочкой, ей 10", (Some(1), Some(1), vec![10])),
            ("one child she is five", (None, Some(1), vec![5])),
            ("2 adam, almatydan, 7 tun", (Some(2), None, vec![])),
            ("қаңтардың 10-нан 20-сына дейін", (None, None, vec![])),
            (
                "travelling with my 2 kids, 4 and 6, no partner",
                (Some(1), Some(2), vec![4, 6]),
            ),
        ] {
            assert_eq!(run(s), want, "{s}");
        }
        // A companion not said to travel, and a test message, are no party.
        assert_eq!(run("мой муж спрашивает про визу").0, None);
        assert_eq!(run("посоветуюсь с мужем").0, None);
        assert_eq!(run("Тест").0, None);
        assert_eq!(run("ребенок летит с бабушкой").0, None);
        assert_eq!(run("а по второму варианту места есть?").1, None);
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
            run("2 adults 2 kids 4 and 9 from astana to nha trang"),
            (Some(2), Some(2), vec![4, 9])
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
