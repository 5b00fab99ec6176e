//! Finding the operator's hotels a customer names ("хотим в galina", "Red Dune",
//! "сансрайз", "галину", "Vinpearl Da Nang 5*") in a message. Pure: the hotel list comes from
//! the cached `SearchTour_HOTELS` dictionaries.
//!
//! Words are compared in Latin letters (Cyrillic transliterated), exactly, by a rough sound
//! key that forgives the usual English ↔ Russian spellings ("sunrise" / "санрайз",
//! "vinpearl" / "винперл"), or with one typo (two in long words), the first letter kept.
//!
//! Only **distinctive** words count: words every other hotel name has ("hotel", "resort",
//! "spa", "beach", "sea", "view", "inn", …), place names ("Nha Trang", "Da Nang", the
//! operator's towns) and the category ("4*") never make a match on their own, so "sea view"
//! or "море" never finds a hotel called "Sea Hotel". A hotel matches when one of its
//! distinctive words of four or more sounds is in the message, or when all of them are
//! (short ones such as "Red Dune" need both words). A name made only of such everyday words
//! matches only when the message holds it whole ("Sea Hotel").
//!
//! When several hotels match, those that explain more of their name come first, and a hotel
//! whose matched words are all explained better by another is dropped ("fusion cam ranh" is
//! Fusion Resort Cam Ranh, not Fusion Suites Da Nang; "fusion" alone is either).

use super::names;
use std::collections::HashSet;

/// Everyday words of hotel names (Latin, lower case): never distinctive.
const GENERIC: &[&str] = &[
    "hotel",
    "hotels",
    "resort",
    "resorts",
    "spa",
    "inn",
    "villa",
    "villas",
    "suites",
    "suite",
    "apartment",
    "apartments",
    "apart",
    "residence",
    "residences",
    "boutique",
    "beach",
    "sea",
    "seaside",
    "ocean",
    "oceanfront",
    "bay",
    "view",
    "city",
    "central",
    "centre",
    "center",
    "garden",
    "gardens",
    "park",
    "palace",
    "grand",
    "royal",
    "premier",
    "premium",
    "luxury",
    "deluxe",
    "golden",
    "gold",
    "blue",
    "green",
    "white",
    "sun",
    "sunny",
    "star",
    "stars",
    "island",
    "river",
    "riverside",
    "lake",
    "hill",
    "hills",
    "mountain",
    "house",
    "home",
    "homestay",
    "hostel",
    "lodge",
    "club",
    "plaza",
    "tower",
    "towers",
    "collection",
    "by",
    "the",
    "and",
    "of",
    "at",
    "de",
    "la",
    "le",
    "les",
    "el",
    "new",
    "old",
    "international",
    "family",
    "holiday",
    "holidays",
    "paradise",
    "dream",
    "dreams",
    "diamond",
    "pearl",
    "boutique",
    "art",
    "style",
    "hotel&spa",
    "and",
    "bungalow",
    "bungalows",
    "cottage",
    "motel",
    "guesthouse",
    "guest",
    "retreat",
    "sands",
    "sand",
    "coast",
    "bay",
    "marina",
    "harbour",
    "harbor",
    "airport",
    "downtown",
    "wellness",
    "kids",
    "adults",
    "only",
    "all",
    "inclusive",
    "otel",
    "otel'",
    "gostinitsa",
    "rezort",
    "vid",
    "more",
    "plyazh",
    "zvezdy",
    "zvezd",
    "zvezdochnyy",
    "zvezdochnyi",
];

/// An index of hotel names, built once per hotel list.
#[derive(Debug, Clone, Default)]
pub struct HotelIndex {
    hotels: Vec<Name>,
}

#[derive(Debug, Clone)]
struct Name {
    words: Vec<Word>,
    /// Indices of the distinctive words.
    distinctive: Vec<usize>,
    /// The distinctive words, and each pair of adjacent words with one of them run together.
    units: Vec<Unit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    latin: String,
    key: String,
}

impl Word {
    fn new(latin: String) -> Word {
        let key = sound_key(&latin);
        Word { latin, key }
    }
}

/// A word or two adjacent words of a name run together ("Sea Links" → "sealinks"), and which
/// of the name's words it stands for.
#[derive(Debug, Clone)]
struct Unit {
    word: Word,
    covers: Vec<usize>,
}

impl HotelIndex {
    /// An index of `names` (in the order given; [`HotelIndex::find`] answers positions in it).
    /// `places` are more place names that are not distinctive (the operator's towns).
    pub fn new<'a>(
        names: impl IntoIterator<Item = &'a str>,
        places: impl IntoIterator<Item = &'a str>,
    ) -> HotelIndex {
        let mut generic: HashSet<String> = GENERIC.iter().map(|w| (*w).to_owned()).collect();
        for place in names::place_spellings() {
            generic.extend(words(place));
        }
        for place in places {
            generic.extend(words(place));
        }
        let hotels = names
            .into_iter()
            .map(|name| {
                let words: Vec<Word> = words(name).into_iter().map(Word::new).collect();
                let distinctive: Vec<usize> = words
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.latin.len() >= 2 && !generic.contains(&w.latin))
                    .map(|(i, _)| i)
                    .collect();
                let units = units(&words, |i| distinctive.contains(&i));
                Name {
                    words,
                    distinctive,
                    units,
                }
            })
            .collect();
        HotelIndex { hotels }
    }

    /// The positions of the hotels `text` names, best match first; empty when it names none.
    pub fn find(&self, text: &str) -> Vec<usize> {
        let said: Vec<Word> = words(text).into_iter().map(Word::new).collect();
        if said.is_empty() {
            return Vec::new();
        }
        let said_units = units(&said, |_| true);
        let mut found: Vec<(usize, f64, HashSet<usize>)> = self
            .hotels
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let (score, positions) = name.matched_by(&said, &said_units)?;
                Some((i, score, positions))
            })
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut kept: Vec<(usize, f64, HashSet<usize>)> = Vec::new();
        for (i, score, positions) in found {
            let explained_better = {
                let better: HashSet<usize> = kept
                    .iter()
                    .filter(|(_, s, _)| *s > score)
                    .flat_map(|(_, _, p)| p.iter().copied())
                    .collect();
                positions.is_subset(&better)
            };
            if !explained_better {
                kept.push((i, score, positions));
            }
        }
        kept.into_iter().map(|(i, ..)| i).collect()
    }
}

impl Name {
    /// How well the words `said` name this hotel (the share of its distinctive words found,
    /// a little more for each of its other words found) and which of the said words did;
    /// `None` when they do not name it.
    fn matched_by(&self, said: &[Word], said_units: &[Unit]) -> Option<(f64, HashSet<usize>)> {
        let mut positions = HashSet::new();
        if self.distinctive.is_empty() {
            // Only everyday words: the whole name, word for word, or nothing.
            let name: Vec<&str> = self
                .words
                .iter()
                .map(|w| w.latin.as_str())
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
                .collect();
            if name.len() < 2 {
                return None;
            }
            let at = said.windows(name.len()).position(|window| {
                window
                    .iter()
                    .map(|w| w.latin.as_str())
                    .eq(name.iter().copied())
            })?;
            positions.extend(at..at + name.len());
            return Some((1.0, positions));
        }
        let mut matched: HashSet<usize> = HashSet::new();
        let mut strong = false;
        for unit in &self.units {
            for theirs in said_units {
                if !same(&unit.word, &theirs.word) {
                    continue;
                }
                matched.extend(unit.covers.iter().filter(|i| self.distinctive.contains(i)));
                positions.extend(theirs.covers.iter().copied());
                strong |= unit.word.key.len() >= 4;
            }
        }
        let all = self.distinctive.iter().all(|i| matched.contains(i));
        if matched.is_empty() || !(strong || all) {
            return None;
        }
        let others = self
            .words
            .iter()
            .enumerate()
            .filter(|(i, w)| {
                !self.distinctive.contains(i) && said.iter().any(|s| s.latin == w.latin)
            })
            .count();
        let score = matched.len() as f64 / self.distinctive.len() as f64 + 0.01 * others as f64;
        Some((score, positions))
    }
}

/// Each word whose index passes `keep`, and each two adjacent words run together when one of
/// them does.
fn units(words: &[Word], keep: impl Fn(usize) -> bool) -> Vec<Unit> {
    let mut all: Vec<Unit> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(i, w)| Unit {
            word: w.clone(),
            covers: vec![i],
        })
        .collect();
    for (i, pair) in words.windows(2).enumerate() {
        if keep(i) || keep(i + 1) {
            all.push(Unit {
                word: Word::new(format!("{}{}", pair[0].latin, pair[1].latin)),
                covers: vec![i, i + 1],
            });
        }
    }
    all
}

/// Whether two words are the same name: equal in Latin letters or by sound, or one typo
/// apart (two in long words) with the same first letter.
fn same(a: &Word, b: &Word) -> bool {
    if a.latin == b.latin || a.key == b.key {
        return true;
    }
    let near = |x: &str, y: &str, shortest: usize| {
        let len = x.len().min(y.len());
        len >= shortest
            && x.as_bytes().first() == y.as_bytes().first()
            && distance(x, y) <= if len >= 8 { 2 } else { 1 }
    };
    near(&a.latin, &b.latin, 5) || near(&a.key, &b.key, 6)
}

/// The words of `text` in Latin lower case (Cyrillic transliterated), digits-only words
/// (categories, dates) left out.
fn words(text: &str) -> Vec<String> {
    names::normalise(text)
        .split(' ')
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .map(latin)
        .filter(|w| !w.is_empty())
        .collect()
}

/// A normalised word in Latin letters: Russian letters transliterated (Kazakh ones are folded
/// to Russian by [`names::normalise`]); other letters kept.
fn latin(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        let s = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' | 'ы' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "sch",
            'ъ' | 'ь' => "",
            'ю' => "yu",
            'я' => "ya",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            // Letters with accents and other scripts: kept as they are.
            c => {
                out.push(c);
                continue;
            }
        };
        out.push_str(s);
    }
    out
}

/// A rough sound key of a Latin word, the same for the usual English and Russian spellings
/// of one name: consonant digraphs folded ("ph" → f, "sh"/"zh"/"z"/"ts" → s, "ch" → c,
/// "kh" → h), `c` → k or s, `w` → v, a final silent `e` dropped, every run of vowels as one
/// `a`, doubled consonants as one.
fn sound_key(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut folded = String::with_capacity(word.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    while i < chars.len() {
        let (sound, len) = match (at(i), at(i + 1), at(i + 2)) {
            ('s', 'c', 'h') => ("s", 3),
            ('t', 'c', 'h') => ("c", 3),
            ('d', 'z', 'h') => ("j", 3),
            ('c', 'h', _) => ("c", 2),
            ('s' | 'z', 'h', _) => ("s", 2),
            ('k', 'h', _) => ("h", 2),
            ('p', 'h', _) => ("f", 2),
            ('t', 'h', _) => ("t", 2),
            ('g', 'h', _) => ("g", 2),
            ('c', 'k', _) => ("k", 2),
            ('q', 'u', _) => ("kv", 2),
            ('d', 'j', _) => ("j", 2),
            ('t', 's' | 'z', _) => ("s", 2),
            ('c', 'e' | 'i' | 'y', _) => ("s", 1),
            ('c' | 'q', _, _) => ("k", 1),
            ('x', _, _) => ("ks", 1),
            ('w', _, _) => ("v", 1),
            ('z', _, _) => ("s", 1),
            (c, _, _) => {
                folded.push(c);
                i += 1;
                continue;
            }
        };
        folded.push_str(sound);
        i += len;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut chars: Vec<char> = folded.chars().collect();
    if chars.len() > 3 && chars.last() == Some(&'e') && !vowel(chars[chars.len() - 2]) {
        chars.pop();
    }
    let mut key = String::with_capacity(chars.len());
    for c in chars {
        let c = if vowel(c) { 'a' } else { c };
        if key.ends_with(c) {
            continue;
        }
        key.push(c);
    }
    key
}

/// Edit distance (insertions, deletions, substitutions) between two short words.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOTELS: &[&str] = &[
        "Sunrise Nha Trang Beach Hotel & Spa",
        "Galina Hotel & Spa",
        "Nesta Hotel",
        "Havana Nha Trang",
        "Fusion Resort Cam Ranh",
        "Novotel Phu Quoc Resort",
        "Seahorse Resort & Spa",
        "Sea Links Beach Hotel",
        "Fusion Suites Da Nang",
        "Rex Hotel Saigon",
        "Anya Premier Quy Nhon",
        "Jade Heron Seaside Inn 3*",
        "Red Dune Beach Resort 4*",
        "Sea Hotel 2*",
        "Vinpearl Resort & Spa Da Nang 5*",
        "Liberty Central Saigon Riverside 4*",
    ];

    fn named(text: &str) -> Vec<&'static str> {
        let index = HotelIndex::new(HOTELS.iter().copied(), ["Нячанг", "Камрань", "Куинён"]);
        index.find(text).into_iter().map(|i| HOTELS[i]).collect()
    }

    #[test]
    fn hotels_named_in_latin_or_cyrillic_with_or_without_their_category() {
        assert_eq!(named("хотим в galina"), ["Galina Hotel & Spa"]);
        assert_eq!(named("Galina Hotel 4*"), ["Galina Hotel & Spa"]);
        assert_eq!(named("а в галине какой пляж?"), ["Galina Hotel & Spa"]);
        assert_eq!(named("берем Red Dune"), ["Red Dune Beach Resort 4*"]);
        assert_eq!(named("ред дюн"), ["Red Dune Beach Resort 4*"]);
        assert_eq!(named("сансрайз"), ["Sunrise Nha Trang Beach Hotel & Spa"]);
        assert_eq!(
            named("санрайз нячанг"),
            ["Sunrise Nha Trang Beach Hotel & Spa"]
        );
        assert_eq!(named("винперл"), ["Vinpearl Resort & Spa Da Nang 5*"]);
        assert_eq!(
            named("Jade Heron Seaside Inn 3*"),
            ["Jade Heron Seaside Inn 3*"]
        );
        assert_eq!(named("новотел на фукуоке"), ["Novotel Phu Quoc Resort"]);
        assert_eq!(named("rex hotel"), ["Rex Hotel Saigon"]);
        assert_eq!(named("хочу в Sea Hotel"), ["Sea Hotel 2*"]);
        assert_eq!(named("sealinks"), ["Sea Links Beach Hotel"]);
    }

    #[test]
    fn typos_are_forgiven_but_not_in_the_first_letter() {
        assert_eq!(named("galna"), ["Galina Hotel & Spa"]);
        assert_eq!(
            named("vinperl resort"),
            ["Vinpearl Resort & Spa Da Nang 5*"]
        );
        assert_eq!(named("sunrize"), ["Sunrise Nha Trang Beach Hotel & Spa"]);
        assert!(
            named("есть места на эти даты?").is_empty(),
            "места is not Nesta"
        );
    }

    #[test]
    fn several_hotels_named_or_one_name_for_two() {
        assert_eq!(
            named("galina или sunrise"),
            ["Sunrise Nha Trang Beach Hotel & Spa", "Galina Hotel & Spa"]
        );
        assert_eq!(
            named("fusion"),
            ["Fusion Resort Cam Ranh", "Fusion Suites Da Nang"]
        );
        assert_eq!(named("fusion cam ranh"), ["Fusion Resort Cam Ranh"]);
        assert_eq!(named("fusion suites"), ["Fusion Suites Da Nang"]);
    }

    #[test]
    fn everyday_words_name_no_hotel() {
        for text in [
            "хотим у моря",
            "номер с видом на море, sea view",
            "first line, sea beach",
            "отель 4 звезды в Нячанге, всё включено",
            "Nha Trang hotel with spa",
            "resort in Da Nang",
            "10 дней, вылет 12 января, 2 взрослых",
            "дан ответ",
            "",
        ] {
            assert!(named(text).is_empty(), "{text}: {:?}", named(text));
        }
    }

    #[test]
    fn sound_keys_fold_english_and_russian_spellings() {
        let key = |w: &str| sound_key(&latin(&names::normalise(w)));
        assert_eq!(key("sunrise"), key("санрайз"));
        assert_eq!(key("vinpearl"), key("винперл"));
        assert_eq!(key("novotel"), key("новотел"));
        assert_eq!(key("rex"), key("рекс"));
        assert_eq!(key("galina"), key("галину"));
        assert_ne!(key("dune"), key("дня"));
        assert_eq!(distance("galna", "galina"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
