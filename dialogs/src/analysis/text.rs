//! Normalisation and tokenising.
//!
//! A message becomes a list of [`Word`]s (runs of letters or of ASCII digits) and the
//! punctuation between them, kept as [`Gap`]s. Extractors match the folded form of words
//! (lower case, `ё`→`е`, Kazakh letters and Latin diacritics folded to their nearest
//! Russian/ASCII letter) and look at gaps for separators such as `-`, `,`, `*` or `$`.
//! Folding lets one lexicon entry match "Қарағанды" and "Караганды", "Türkiye" and "Turkiye".

/// What a word is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters (any script), possibly with an inner apostrophe ("i'd").
    Word,
    /// ASCII digits only; decimals and groups are rebuilt from the gaps.
    Num,
}

/// One word of the message.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub kind: Kind,
    /// Folded form used for all matching; the digits themselves for numbers.
    pub fold: String,
    /// Byte range in the original message (to report names "as written").
    pub start: usize,
    pub end: usize,
    /// The first letter is upper case in the original.
    pub cap: bool,
    /// Contains a letter found in Kazakh but not in Russian (ә ғ қ ң ө ұ ү һ і).
    pub kk: bool,
    /// Letter counts per script, for language detection.
    pub latin: bool,
    pub cyr: bool,
    /// The value of a number word ("двое", "five", "екі"), computed once: see [`number_word`].
    pub count: Option<(u32, bool)>,
}

/// What separates two words: punctuation characters (in order) and whether any
/// whitespace occurred.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gap {
    pub punct: String,
    pub space: bool,
}

impl Gap {
    /// A range dash between two numbers ("7-10", "7 – 10").
    pub fn is_dash(&self) -> bool {
        !self.punct.is_empty()
            && self
                .punct
                .chars()
                .all(|c| matches!(c, '-' | '–' | '—' | '‒'))
    }
}

static EMPTY_GAP: Gap = Gap {
    punct: String::new(),
    space: false,
};

/// The tokenised message. Out-of-range indices are answered with empty values, so callers
/// can look at `i - 1` or `i + 2` (with `wrapping_sub`) without bounds checks or panics.
pub(crate) struct Text<'a> {
    pub raw: &'a str,
    pub words: Vec<Word>,
    /// `gaps[i]` precedes `words[i]`; `gaps[len]` trails the last word.
    gaps: Vec<Gap>,
}

/// Longest message analysed; the rest is ignored so that pathological input stays cheap.
const MAX_BYTES: usize = 16 * 1024;

impl<'a> Text<'a> {
    pub fn new(raw: &'a str) -> Self {
        let mut cut = raw.len().min(MAX_BYTES);
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        let raw = &raw[..cut];
        let chars: Vec<(usize, char)> = raw.char_indices().collect();
        let mut words = Vec::with_capacity(chars.len() / 4 + 1);
        let mut gaps = vec![Gap::default()];
        let mut k = 0;
        while let Some(&(start, c)) = chars.get(k) {
            if is_letter(c) {
                let mut j = k;
                let mut lower = String::with_capacity(16);
                while let Some(&(_, d)) = chars.get(j) {
                    if is_letter(d) {
                        push_lower(&mut lower, d);
                    } else if is_combining(d) {
                        // Decomposed accents ("е" + U+0308): dropped, the base letter is kept.
                    } else if is_apostrophe(d)
                        && chars.get(j + 1).is_some_and(|&(_, n)| is_letter(n))
                    {
                        lower.push('\'');
                    } else {
                        break;
                    }
                    j += 1;
                }
                let end = chars.get(j).map_or(raw.len(), |&(b, _)| b);
                words.push(make_word(lower, start, end, c.is_uppercase()));
                gaps.push(Gap::default());
                k = j;
            } else if c.is_ascii_digit() {
                let mut j = k;
                while chars.get(j).is_some_and(|&(_, d)| d.is_ascii_digit()) {
                    j += 1;
                }
                let end = chars.get(j).map_or(raw.len(), |&(b, _)| b);
                words.push(Word {
                    kind: Kind::Num,
                    fold: raw[start..end].to_string(),
                    start,
                    end,
                    cap: false,
                    kk: false,
                    latin: false,
                    cyr: false,
                    count: None,
                });
                gaps.push(Gap::default());
                k = j;
            } else {
                if let Some(gap) = gaps.last_mut() {
                    if c.is_whitespace() || is_invisible(c) {
                        gap.space |= c.is_whitespace();
                    } else if gap.punct.len() < 64 {
                        gap.punct.push(c);
                    }
                }
                k += 1;
            }
        }
        Text { raw, words, gaps }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Folded form of word `i`, or "" when out of range.
    pub fn w(&self, i: usize) -> &str {
        self.words.get(i).map_or("", |w| w.fold.as_str())
    }

    pub fn is_num(&self, i: usize) -> bool {
        self.words.get(i).is_some_and(|w| w.kind == Kind::Num)
    }

    /// Value of number word `i` (digits only, at most 12 of them).
    pub fn num(&self, i: usize) -> Option<u64> {
        let w = self.words.get(i)?;
        if w.kind != Kind::Num || w.fold.len() > 12 {
            return None;
        }
        w.fold.parse().ok()
    }

    /// The value of word `i` as a number word (`(value, collective)`).
    pub fn number_word(&self, i: usize) -> Option<(u32, bool)> {
        self.words.get(i).and_then(|w| w.count)
    }

    /// A number starting at word `i`, digits or words, with the index after it: "7",
    /// "семь", "двадцать один", "twenty-one", "жиырма бес", Kazakh "он" before a Kazakh
    /// unit or number ("он түн", "он бес"). `unit` tells whether a word is a unit that may
    /// follow a bare Kazakh "он". Collective forms ("двое") are `None`: see [`Text::number_word`].
    pub fn number_at(&self, i: usize, unit: &dyn Fn(&str) -> bool) -> Option<(u32, usize)> {
        if self.is_num(i) {
            let v = self.num(i)?;
            return Some((u32::try_from(v).ok()?, i + 1));
        }
        let w = self.w(i);
        let ten = if w == "он" { Some(10) } else { tens(w) };
        if let Some(t) = ten {
            let kk_unit = matches!(
                self.w(i + 1),
                "бир" | "еки" | "уш" | "торт" | "бес" | "алты" | "жети" | "сегиз" | "тогыз"
            );
            if let Some((u, false)) = self.number_word(i + 1)
                && (1..=9).contains(&u)
                && (w != "он" || kk_unit)
                && self.gap(i + 1).punct.chars().all(|c| c == '-')
            {
                return Some((t + u, i + 2));
            }
            if w == "он" {
                return unit(self.w(i + 1)).then_some((10, i + 1));
            }
        }
        match self.number_word(i)? {
            (v, false) => Some((v, i + 1)),
            _ => None,
        }
    }

    /// Digits of number word `i`.
    pub fn digits(&self, i: usize) -> usize {
        self.words
            .get(i)
            .filter(|w| w.kind == Kind::Num)
            .map_or(0, |w| w.fold.len())
    }

    /// The gap before word `i` (`i == len()` is the trailing gap).
    pub fn gap(&self, i: usize) -> &Gap {
        self.gaps.get(i).unwrap_or(&EMPTY_GAP)
    }

    /// Word `i` follows word `i - 1` with nothing between them ("800к", "4х").
    pub fn glued(&self, i: usize) -> bool {
        let g = self.gap(i);
        i > 0 && !g.space && g.punct.is_empty()
    }

    /// Word `i` is exactly one of `list`.
    pub fn is(&self, i: usize, list: &[&str]) -> bool {
        let w = self.w(i);
        !w.is_empty() && list.contains(&w)
    }

    /// Word `i` starts with one of `stems`.
    pub fn starts(&self, i: usize, stems: &[&str]) -> bool {
        let w = self.w(i);
        !w.is_empty() && stems.iter().any(|s| w.starts_with(s))
    }

    /// Some word of the message starts with one of `stems`.
    pub fn any_starts(&self, stems: &[&str]) -> bool {
        (0..self.len()).any(|i| self.starts(i, stems))
    }

    /// The number a case ending at word `j` belongs to ("10-ти", "2-х", "5-го", "5th"),
    /// or `j` itself.
    pub fn skip_num_suffix(&self, j: usize) -> usize {
        const ENDINGS: &[&str] = &[
            "ти", "х", "x", "ми", "и", "го", "ого", "ех", "ух", "th", "st", "nd", "rd", "ый", "ой",
            "е", "ю",
        ];
        if self.is(j, ENDINGS)
            && self.is_num(j.wrapping_sub(1))
            && (self.glued(j) || self.gap(j).is_dash())
        {
            j - 1
        } else {
            j
        }
    }

    /// Word `i` as written in the message.
    pub fn raw_word(&self, i: usize) -> &'a str {
        self.words
            .get(i)
            .and_then(|w| self.raw.get(w.start..w.end))
            .unwrap_or("")
    }

    /// The message text spanning words `a..=b` as written.
    pub fn raw_span(&self, a: usize, b: usize) -> &'a str {
        match (self.words.get(a), self.words.get(b)) {
            (Some(x), Some(y)) if x.start <= y.end => self.raw.get(x.start..y.end).unwrap_or(""),
            _ => "",
        }
    }
}

fn make_word(lower: String, start: usize, end: usize, cap: bool) -> Word {
    let lower = collapse_repeats(lower);
    let mut kk = false;
    let (mut lat, mut cyr) = (0usize, 0usize);
    for c in lower.chars() {
        if is_kk_letter(c) {
            kk = true;
        }
        if c.is_ascii_alphabetic()
            || ('\u{00C0}'..='\u{024F}').contains(&c)
            || ('\u{1E00}'..='\u{1EFF}').contains(&c)
        {
            lat += 1;
        } else if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyr += 1;
        }
    }
    // Most words need no folding at all: reuse their buffer.
    let plain = (lat == 0 || cyr == 0) && lower.chars().all(|c| fold_char(c) == c);
    let fold = if plain {
        lower
    } else {
        fold_word(&lower, lat, cyr)
    };
    Word {
        kind: Kind::Word,
        count: number_word(&fold),
        fold,
        start,
        end,
        cap,
        kk,
        latin: lat > cyr,
        cyr: cyr > 0 && cyr >= lat,
    }
}

/// "приииивет", "спасибоооо", "helloooo": a letter typed three or more times in a row is one
/// letter (no Russian, Kazakh or English word has a tripled letter). A word of one repeated
/// letter ("www", "ммм") is kept as it is.
fn collapse_repeats(lower: String) -> String {
    let mut run = 0;
    let mut prev = None;
    let mut tripled = false;
    for c in lower.chars() {
        run = if Some(c) == prev { run + 1 } else { 1 };
        prev = Some(c);
        tripled |= run >= 3;
    }
    if !tripled || lower.chars().all(|c| Some(c) == prev) {
        return lower;
    }
    let chars: Vec<char> = lower.chars().collect();
    let mut out = String::with_capacity(lower.len());
    let mut k = 0;
    while let Some(&c) = chars.get(k) {
        let mut j = k;
        while chars.get(j) == Some(&c) {
            j += 1;
        }
        let n = if j - k >= 3 { 1 } else { j - k };
        out.extend(std::iter::repeat_n(c, n));
        k = j;
    }
    out
}

/// Folds an already lower-cased word; look-alike letters are unified towards the word's
/// majority script ("Нячанг" typed with a Latin "H" still matches).
fn fold_word(lower: &str, lat: usize, cyr: usize) -> String {
    let mixed = lat > 0 && cyr > 0;
    lower
        .chars()
        .map(|c| {
            let c = fold_char(c);
            if !mixed {
                c
            } else if cyr >= lat {
                to_cyrillic(c)
            } else {
                to_latin(c)
            }
        })
        .collect()
}

/// Folds a free-form string the same way words are folded (used for lexicon patterns).
pub(crate) fn fold_str(s: &str) -> String {
    let lower: String = s.chars().flat_map(char::to_lowercase).collect();
    fold_word(&lower, 0, 0)
}

/// `char::is_alphabetic` with a fast path for ASCII and basic Cyrillic, which is almost
/// every letter we see (the general lookup is a measurable part of the analysis time).
fn is_letter(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{0410}'..='\u{044F}' | 'ё' | 'Ё' => true,
        _ if c.is_ascii() => false,
        _ => c.is_alphabetic(),
    }
}

/// Appends the lower case of `c`, with the same fast path as [`is_letter`].
fn push_lower(out: &mut String, c: char) {
    match c {
        'A'..='Z' => out.push(c.to_ascii_lowercase()),
        'a'..='z' | 'а'..='я' => out.push(c),
        // А..Я → а..я
        '\u{0410}'..='\u{042F}' => out.push(char::from_u32(u32::from(c) + 0x20).unwrap_or(c)),
        _ => out.extend(c.to_lowercase()),
    }
}

fn is_kk_letter(c: char) -> bool {
    matches!(c, 'ә' | 'ғ' | 'қ' | 'ң' | 'ө' | 'ұ' | 'ү' | 'һ' | 'і')
}

fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`')
}

/// Zero-width and formatting characters (ZWJ in emoji, RTL marks, BOM): ignored.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}')
}

fn fold_char(c: char) -> char {
    match c {
        'ё' => 'е',
        'ә' => 'а',
        'ғ' => 'г',
        'қ' => 'к',
        'ң' => 'н',
        'ө' => 'о',
        'ұ' | 'ү' => 'у',
        'һ' => 'х',
        'і' => 'и',
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ'
        | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => 'a',
        'ç' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => {
            'e'
        }
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ĩ' | 'ỉ' | 'ị' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ơ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ' | 'ớ'
        | 'ờ' | 'ở' | 'ỡ' | 'ợ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ư' | 'ũ' | 'ụ' | 'ủ' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => {
            'u'
        }
        'ý' | 'ÿ' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => 'y',
        'ş' | 'š' => 's',
        'ğ' => 'g',
        'đ' => 'd',
        _ => c,
    }
}

fn to_cyrillic(c: char) -> char {
    match c {
        'a' => 'а',
        'b' => 'в',
        'c' => 'с',
        'e' => 'е',
        'h' => 'н',
        'i' => 'и',
        'k' => 'к',
        'm' => 'м',
        'o' => 'о',
        'p' => 'р',
        't' => 'т',
        'x' => 'х',
        'y' => 'у',
        _ => c,
    }
}

fn to_latin(c: char) -> char {
    match c {
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'е' => 'e',
        'к' => 'k',
        'м' => 'm',
        'о' => 'o',
        'р' => 'p',
        'т' => 't',
        'х' => 'x',
        'у' => 'y',
        _ => c,
    }
}

/// Cardinal, collective and Kazakh number words up to twenty (plus tens), as used for
/// people, nights, weeks and stars. Returns `(value, collective)`; collective forms
/// ("двое", "вдвоём" is handled elsewhere) count people.
pub(crate) fn number_word(w: &str) -> Option<(u32, bool)> {
    let v = match w {
        "один" | "одна" | "одно" | "одного" | "одну" | "одним" | "одной" | "one" | "бир" | "a"
        | "an" => 1,
        "два" | "две" | "двух" | "двум" | "двумя" | "two" | "еки" => 2,
        "три" | "трех" | "трем" | "тремя" | "three" | "уш" => 3,
        "четыре" | "четырех" | "четырем" | "четырьмя" | "four" | "торт" => {
            4
        }
        "пять" | "пяти" | "пятью" | "five" | "бес" => 5,
        "шесть" | "шести" | "six" | "алты" => 6,
        "семь" | "семи" | "seven" | "жети" => 7,
        "восемь" | "восьми" | "eight" | "сегиз" => 8,
        "девять" | "девяти" | "nine" | "тогыз" => 9,
        "десять" | "десяти" | "ten" => 10,
        "одиннадцать" | "одиннадцати" | "eleven" => 11,
        "двенадцать" | "двенадцати" | "twelve" => 12,
        "тринадцать" | "тринадцати" | "thirteen" => 13,
        "четырнадцать" | "четырнадцати" | "fourteen" => 14,
        "пятнадцать" | "пятнадцати" | "fifteen" => 15,
        "шестнадцать" | "шестнадцати" | "sixteen" => 16,
        "семнадцать" | "семнадцати" | "seventeen" => 17,
        "восемнадцать" | "восемнадцати" | "eighteen" => 18,
        "девятнадцать" | "девятнадцати" | "nineteen" => 19,
        "двадцать" | "двадцати" | "twenty" | "жиырма" => 20,
        "тридцать" | "тридцати" | "thirty" | "отыз" => 30,
        // "на пару недель", "пару дней": two.
        "пару" | "пары" => 2,
        _ => {
            return match w {
                "двое" | "двоих" | "двоем" | "екеу" | "екеуи" => {
                    Some((2, true))
                }
                "трое" | "троих" | "троем" | "ушеу" | "ушеуи" => {
                    Some((3, true))
                }
                "четверо" | "четверых" | "тортеу" => Some((4, true)),
                "пятеро" | "пятерых" | "бесеу" => Some((5, true)),
                "шестеро" | "шестерых" | "алтау" => Some((6, true)),
                _ => None,
            };
        }
    };
    Some((v, false))
}

/// Tens that take a unit after them: "двадцать один", "twenty-one", "жиырма бес", and the
/// Kazakh "он бес" (15). Kazakh "он" (ten) is also the Russian "он" (he), so it is read as a
/// number only before another Kazakh number word or a unit (see [`Text::number_at`]).
fn tens(w: &str) -> Option<u32> {
    match w {
        "двадцать" | "twenty" | "жиырма" => Some(20),
        "тридцать" | "thirty" | "отыз" => Some(30),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenises_words_numbers_and_gaps() {
        let t = Text::new("Нур-Султан, 1,5 млн! 800к I'd Қарағанды 4*");
        let folds: Vec<&str> = t.words.iter().map(|w| w.fold.as_str()).collect();
        assert_eq!(
            folds,
            [
                "нур",
                "султан",
                "1",
                "5",
                "млн",
                "800",
                "к",
                "i'd",
                "караганды",
                "4"
            ]
        );
        assert!(t.gap(1).is_dash());
        assert_eq!(t.gap(3).punct, ",");
        assert!(t.glued(6));
        assert!(t.words[8].kk);
        assert_eq!(t.gap(10).punct, "*");
        assert_eq!(t.w(99), "");
        assert_eq!(t.w(usize::MAX), "");
    }

    #[test]
    fn folds_mixed_scripts_and_diacritics() {
        let t = Text::new("Hячанг Phú Quốc Türkiye ёлка");
        let folds: Vec<&str> = t.words.iter().map(|w| w.fold.as_str()).collect();
        assert_eq!(folds, ["нячанг", "phu", "quoc", "turkiye", "елка"]);
    }

    #[test]
    fn repeated_letters_and_number_phrases() {
        let folds =
            |s: &str| -> Vec<String> { Text::new(s).words.into_iter().map(|w| w.fold).collect() };
        assert_eq!(
            folds("Приииивет helloooo ванна www"),
            ["привет", "hello", "ванна", "www"]
        );
        let t = Text::new("двадцать один день, twenty-five, он бес, он түн, он хочет, 7");
        let any = |_: &str| false;
        let night = |w: &str| w.starts_with("тун");
        assert_eq!(t.number_at(0, &any), Some((21, 2)));
        assert_eq!(t.number_at(3, &any), Some((25, 5)));
        assert_eq!(t.number_at(5, &any), Some((15, 7)));
        assert_eq!(t.number_at(7, &night), Some((10, 8)));
        assert_eq!(t.number_at(9, &night), None);
        assert_eq!(t.number_at(11, &any), Some((7, 12)));
    }

    #[test]
    fn fast_paths_agree_with_std() {
        for c in (0u32..0x2000).filter_map(char::from_u32) {
            assert_eq!(is_letter(c), c.is_alphabetic(), "{c:?}");
            let mut fast = String::new();
            push_lower(&mut fast, c);
            assert_eq!(fast, c.to_lowercase().collect::<String>(), "{c:?}");
        }
        assert_eq!(Text::new("ҚАРАҒАНДЫ").w(0), "караганды");
    }

    #[test]
    fn survives_odd_input() {
        for s in [
            "",
            "🙂🙂",
            "\u{202E}שלום",
            "a\u{0308}",
            &"x".repeat(50_000),
            "ё́",
        ] {
            let t = Text::new(s);
            let _ = t.raw_span(0, t.len());
        }
    }
}
