//! Phrase lexicons: small patterns over folded words, compiled once.
//!
//! A pattern is a space-separated list of pieces; alternatives of one entry are separated
//! by `|`. A piece is either an exact word (`завтра`) or a stem with a bounded ending:
//! `нячанг*3` matches "нячанг", "нячанге", "нячангка" (at most 3 more letters), `виз*` allows
//! up to 4. Bounded endings cover Russian and Kazakh case suffixes without letting a short
//! stem swallow unrelated long words. Patterns are folded like the text, so they may be
//! written with Kazakh letters or `ё`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::text::{Text, fold_str};

#[derive(Debug)]
enum Piece {
    Exact(String),
    Prefix(String, usize),
}

impl Piece {
    fn matches(&self, w: &str) -> bool {
        match self {
            Piece::Exact(s) => w == s,
            Piece::Prefix(s, extra) => {
                w.starts_with(s.as_str()) && w[s.len()..].chars().count() <= *extra
            }
        }
    }

    fn weight(&self) -> usize {
        match self {
            Piece::Exact(s) | Piece::Prefix(s, _) => s.chars().count(),
        }
    }
}

/// One match: words `start..end` carry `val`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<T> {
    pub start: usize,
    pub end: usize,
    pub val: T,
}

struct Pattern<T> {
    pieces: Vec<Piece>,
    val: T,
    /// Letters in the pattern: among equally long matches the more specific one wins.
    weight: usize,
}

/// One-word patterns at least this long are also matched with one typo (by default).
const FUZZY_MIN: usize = 6;

/// A compiled set of phrase patterns, indexed by the first two letters of their first
/// piece so that a word is compared with a handful of candidates only.
pub(crate) struct Lexicon<T> {
    pats: Vec<Pattern<T>>,
    index: HashMap<u64, Vec<usize>, BuildFx>,
    /// One-word patterns of `fuzzy_min`+ letters, by first letter.
    fuzzy: HashMap<char, Vec<FuzzyStem>, BuildFx>,
    fuzzy_min: usize,
}

/// A one-word pattern prepared for typo-tolerant matching.
struct FuzzyStem {
    pat: usize,
    letters: Vec<char>,
    /// Letters allowed after the stem.
    extra: usize,
}

/// Index key of a word or stem: its first two letters (the second 0 for one-letter stems).
fn key(first: char, second: Option<char>) -> u64 {
    (u64::from(first) << 32) | second.map_or(0, u64::from)
}

impl<T: Copy> Lexicon<T> {
    pub fn new(entries: &[(&str, T)]) -> Self {
        Self::with_fuzzy_min(entries, FUZZY_MIN)
    }

    /// Like [`Lexicon::new`]; one-word stems of `fuzzy_min` or more letters may match with a typo.
    pub fn with_fuzzy_min(entries: &[(&str, T)], fuzzy_min: usize) -> Self {
        let mut pats = Vec::new();
        let mut index: HashMap<u64, Vec<usize>, BuildFx> = HashMap::default();
        let mut fuzzy: HashMap<char, Vec<FuzzyStem>, BuildFx> = HashMap::default();
        for &(spec, val) in entries {
            for alt in spec.split('|') {
                let pieces: Vec<Piece> = alt.split_whitespace().map(parse_piece).collect();
                let Some(first) = pieces.first() else {
                    continue;
                };
                let (Piece::Exact(stem) | Piece::Prefix(stem, _)) = first;
                let mut chars = stem.chars();
                let Some(c1) = chars.next() else { continue };
                index
                    .entry(key(c1, chars.next()))
                    .or_default()
                    .push(pats.len());
                if let [piece] = pieces.as_slice() {
                    let (stem, extra) = match piece {
                        Piece::Exact(s) => (s, 0),
                        Piece::Prefix(s, e) => (s, *e),
                    };
                    let letters: Vec<char> = stem.chars().collect();
                    if letters.len() >= fuzzy_min {
                        fuzzy.entry(c1).or_default().push(FuzzyStem {
                            pat: pats.len(),
                            letters,
                            extra,
                        });
                    }
                }
                let weight = pieces.iter().map(Piece::weight).sum();
                pats.push(Pattern {
                    pieces,
                    val,
                    weight,
                });
            }
        }
        Lexicon {
            pats,
            index,
            fuzzy,
            fuzzy_min,
        }
    }

    /// The longest pattern starting at word `i`: `(end, value)`.
    pub fn at(&self, t: &Text, i: usize) -> Option<(usize, T)> {
        let mut chars = t.w(i).chars();
        let c1 = chars.next()?;
        let c2 = chars.next();
        let mut best: Option<(usize, usize, T)> = None;
        let lists = [
            self.index.get(&key(c1, c2)),
            if c2.is_some() {
                self.index.get(&key(c1, None))
            } else {
                None
            },
        ];
        for &p in lists.into_iter().flatten().flatten() {
            let pat = &self.pats[p];
            let end = i + pat.pieces.len();
            if end > t.len() {
                continue;
            }
            if pat
                .pieces
                .iter()
                .enumerate()
                .all(|(k, pc)| pc.matches(t.w(i + k)))
                && best.is_none_or(|(e, wt, _)| (end, pat.weight) > (e, wt))
            {
                best = Some((end, pat.weight, pat.val));
            }
        }
        best.map(|(e, _, v)| (e, v))
    }

    /// The value of a one-word pattern that matches the folded word `w` exactly (the longest
    /// such pattern): a lexicon used as a dictionary of words and stems.
    pub fn word(&self, w: &str) -> Option<T> {
        let mut chars = w.chars();
        let c1 = chars.next()?;
        let c2 = chars.next();
        let lists = [
            self.index.get(&key(c1, c2)),
            if c2.is_some() {
                self.index.get(&key(c1, None))
            } else {
                None
            },
        ];
        let mut best: Option<(usize, T)> = None;
        for &p in lists.into_iter().flatten().flatten() {
            let pat = &self.pats[p];
            if let [piece] = pat.pieces.as_slice()
                && piece.matches(w)
                && best.is_none_or(|(wt, _)| pat.weight > wt)
            {
                best = Some((pat.weight, pat.val));
            }
        }
        best.map(|(_, v)| v)
    }

    /// A one-word pattern of at least `fuzzy_min` letters matched with one typo (a wrong, missing,
    /// extra or swapped letter) in the stem: "Турцыя", "Вьтнам", "Нячнаг". Only patterns
    /// sharing the first letter are tried, which keeps it cheap; shorter stems never go
    /// fuzzy, as too many ordinary words are one letter away from them ("делать"/"Далат").
    pub fn fuzzy_at(&self, t: &Text, i: usize) -> Option<(usize, T)> {
        let word = t.w(i);
        if let Some(val) = self.fuzzy_word(word) {
            return Some((i + 1, val));
        }
        // A name written in two words with a typo in one ("nha trnag", "фу куох"): the two
        // words joined are tried against the one-word spellings ("nhatrang", "фукуок").
        if i + 1 < t.len() && word.chars().count() >= 2 && t.gap(i + 1).punct.is_empty() {
            let next = t.w(i + 1);
            if next.chars().count() >= 2 && next.chars().all(char::is_alphabetic) {
                return self
                    .fuzzy_word(&format!("{word}{next}"))
                    .map(|val| (i + 2, val));
            }
        }
        None
    }

    /// [`Lexicon::fuzzy_at`] for one word.
    fn fuzzy_word(&self, word: &str) -> Option<T> {
        let first = word.chars().next()?;
        let cands = self.fuzzy.get(&first)?;
        let w: Vec<char> = word.chars().collect();
        if w.len() + 1 < self.fuzzy_min {
            return None;
        }
        for FuzzyStem {
            pat: p,
            letters: stem,
            extra,
        } in cands
        {
            for cut in stem.len() - 1..=stem.len() + 1 {
                // A stem cut short or run on by a letter is a different word ("ограничен"
                // is not "ограничени…"), not a typo inside the stem.
                let Some(head) = w.get(..cut) else { break };
                let prefix_only =
                    cut != stem.len() && (head.starts_with(stem) || stem.starts_with(head));
                if w.len() - cut <= *extra && !prefix_only && within_one(head, stem) {
                    return Some(self.pats[*p].val);
                }
            }
        }
        None
    }

    /// Like [`Lexicon::scan`], falling back to [`Lexicon::fuzzy_at`] for unmatched words.
    pub fn scan_fuzzy(&self, t: &Text) -> Vec<Hit<T>> {
        let mut hits = Vec::new();
        let mut i = 0;
        while i < t.len() {
            if let Some((end, val)) = self.at(t, i).or_else(|| self.fuzzy_at(t, i)) {
                hits.push(Hit { start: i, end, val });
                i = end;
            } else {
                i += 1;
            }
        }
        hits
    }

    /// All leftmost-longest, non-overlapping matches in order.
    pub fn scan(&self, t: &Text) -> Vec<Hit<T>> {
        let mut hits = Vec::new();
        let mut i = 0;
        while i < t.len() {
            if let Some((end, val)) = self.at(t, i) {
                hits.push(Hit { start: i, end, val });
                i = end;
            } else {
                i += 1;
            }
        }
        hits
    }
}

/// Word `w` is `stem` (with at most one typo: a wrong, missing, extra or swapped letter)
/// followed by at most `extra` more letters: "взраслых" for `взросл`. Stems shorter than
/// five letters must match exactly.
pub(crate) fn near_stem(w: &str, stem: &str, extra: usize) -> bool {
    if let Some(rest) = w.strip_prefix(stem) {
        return rest.chars().count() <= extra;
    }
    // A typo rarely hits the first letter; checking it first keeps this cheap.
    if w.chars().next() != stem.chars().next() {
        return false;
    }
    let stem: Vec<char> = stem.chars().collect();
    if stem.len() < 5 {
        return false;
    }
    let w: Vec<char> = w.chars().collect();
    (stem.len() - 1..=stem.len() + 1).any(|cut| {
        w.get(..cut).is_some_and(|head| {
            w.len() - cut <= extra
                && !(cut != stem.len() && (head.starts_with(&stem) || stem.starts_with(head)))
                && within_one(head, &stem)
        })
    })
}

/// Optimal-string-alignment distance of at most one.
pub(crate) fn within_one(a: &[char], b: &[char]) -> bool {
    let k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    match a.len() as isize - b.len() as isize {
        0 => {
            k == a.len()
                || a[k + 1..] == b[k + 1..]
                || (k + 1 < a.len()
                    && a[k] == b[k + 1]
                    && a[k + 1] == b[k]
                    && a[k + 2..] == b[k + 2..])
        }
        1 => a[k + 1..] == b[k..],
        -1 => a[k..] == b[k + 1..],
        _ => false,
    }
}

/// A multiply-rotate hasher for the small integer keys of the index (the default SipHash
/// is several times slower and its DoS resistance buys nothing for built-in keys).
#[derive(Default)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
}

/// The hasher of the lexicon index, also for other sets of words looked up per word.
pub(crate) type BuildFx = BuildHasherDefault<Fx>;

fn parse_piece(p: &str) -> Piece {
    match p.split_once('*') {
        Some((stem, extra)) => Piece::Prefix(fold_str(stem), extra.parse().unwrap_or(4)),
        None => Piece::Exact(fold_str(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_stems_and_prefers_longest() {
        let lex = Lexicon::new(&[("завтрак*3", 1), ("завтрак* и ужин*", 2), ("қаңтар*4", 3)]);
        let t = Text::new("завтраки и ужины, завтраком; Қаңтарда");
        let hits: Vec<(usize, usize, i32)> = lex
            .scan(&t)
            .iter()
            .map(|h| (h.start, h.end, h.val))
            .collect();
        assert_eq!(hits, [(0, 3, 2), (3, 4, 1), (4, 5, 3)]);
        let t = Text::new("завтраками-ужинами завтракающий");
        assert_eq!(lex.scan(&t).len(), 1);
    }

    #[test]
    fn a_name_split_in_two_words_with_a_typo_is_found() {
        let lex = Lexicon::new(&[("nhatrang", 1), ("nha trang", 1), ("фукуок*3", 2)]);
        for (s, v, end) in [("nha trnag", 1, 2), ("фу куох", 2, 2)] {
            let t = Text::new(s);
            assert_eq!(lex.fuzzy_at(&t, 0), Some((end, v)), "{s}");
        }
        // Two ordinary words are not joined into a name, nor across punctuation.
        assert_eq!(lex.fuzzy_at(&Text::new("nha, trnag"), 0), None);
        assert_eq!(lex.fuzzy_at(&Text::new("на траве"), 0), None);
    }

    #[test]
    fn one_typo_is_forgiven_in_long_stems() {
        let lex = Lexicon::new(&[("вьетнам*5", 1), ("нячанг*3", 2), ("далат*3", 3)]);
        for (s, v) in [
            ("Вьтнам", 1),
            ("вьетанм", 1),
            ("Вьетнамм", 1),
            ("нячнаг", 2),
            ("нячангке", 2),
        ] {
            let t = Text::new(s);
            assert_eq!(lex.scan_fuzzy(&t).first().map(|h| h.val), Some(v), "{s}");
        }
        // Short stems never go fuzzy: "делать" is not "Далат".
        assert!(lex.scan_fuzzy(&Text::new("делать")).is_empty());
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(within_one(&chars("abc"), &chars("abc")));
        assert!(within_one(&chars("acb"), &chars("abc")));
        assert!(within_one(&chars("ab"), &chars("abc")));
        assert!(!within_one(&chars("a"), &chars("abc")));
        assert!(!within_one(&chars("bca"), &chars("abc")));
    }
}
