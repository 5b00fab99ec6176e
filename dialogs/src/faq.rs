//! FAQ: answers to the questions travellers really ask (visa, passports, documents for
//! children, payment, baggage, insurance, office…), kept in the editable `prompts/faq.toml`
//! together with the question patterns each answers. The header of that file is the
//! admin's manual; in short:
//!
//! - An entry has an `id`, patterns per language and an answer per language (`ru` required;
//!   a missing `kk`/`en` answer falls back to `ru`).
//! - The message is folded once, exactly as the analyser folds it (case, `ё`, Kazakh letters,
//!   diacritics; punctuation and emoji dropped). Patterns are folded alike when parsed.
//! - A pattern is a word prefix ("виз"); stems of one or two letters and stems ending in `$`
//!   match whole words only; `a|b` are alternatives for one word; words separated by spaces
//!   are a phrase of consecutive words in that order; a leading `~` makes it weak.
//! - A pattern found scores 2 (weak: 1); each pattern and each message word count once per
//!   entry, strong patterns first. An entry answers from 2 points; the highest score wins
//!   and ties go to the entry higher in the file.
//!
//! [`Faq::defaults`] parses the shipped file once; [`Faq::parse`] checks an edited one and
//! names the line and entry of any mistake ([`FaqError`]). Matching folds the message once
//! and allocates nothing per entry.
//!
//! Patterns of all languages apply to every message (a Kazakh question may be detected as
//! Russian); the language only picks the answer text.

use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use crate::analysis::{Language, folded_words};

/// The FAQ shipped with the binary.
const SHIPPED: &str = include_str!("../../prompts/faq.toml");

static DEFAULTS: LazyLock<Faq> =
    LazyLock::new(|| Faq::parse(SHIPPED).unwrap_or_else(|e| panic!("shipped {e}")));

/// Points of a pattern found in the message.
const STRONG: u32 = 2;
const WEAK: u32 = 1;
/// Points an entry needs to answer: one strong pattern or two weak ones.
const MIN_SCORE: u32 = 2;

/// The FAQ in force. Cheap to clone; the default is empty and answers nothing.
#[derive(Debug, Clone, Default)]
pub struct Faq {
    entries: Arc<[Entry]>,
}

/// The answer to one question, in the language asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqAnswer<'a> {
    /// The entry's id in the file ("visa").
    pub topic: &'a str,
    pub text: &'a str,
}

/// Why a FAQ file was refused. Every variant says where: the line and/or the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaqError {
    /// Not valid TOML, or a key the file format does not know.
    #[error("faq.toml line {line}, entry {entry}: {message}")]
    Syntax {
        line: usize,
        /// `'visa'`, or `#3` when the entry has no id yet, or `-` before the first entry.
        entry: String,
        message: String,
    },
    /// Valid TOML, but an entry is incomplete or a pattern cannot be used.
    #[error("faq.toml entry '{entry}': {problem}")]
    Entry { entry: String, problem: String },
}

#[derive(Debug)]
struct Entry {
    id: String,
    confirm: bool,
    /// Strong patterns first, so a word found by both kinds scores as strong.
    patterns: Vec<Pattern>,
    ru: String,
    kk: Option<String>,
    en: Option<String>,
}

#[derive(Debug)]
struct Pattern {
    weak: bool,
    /// Consecutive words; each is a list of alternatives.
    words: Vec<Vec<Stem>>,
}

#[derive(Debug)]
struct Stem {
    fold: String,
    whole: bool,
}

impl Faq {
    /// The FAQ shipped with the binary (`prompts/faq.toml`), parsed once.
    pub fn defaults() -> Self {
        DEFAULTS.clone()
    }

    /// Parses and checks a FAQ file in the format of `prompts/faq.toml`.
    pub fn parse(source: &str) -> Result<Self, FaqError> {
        let file: RawFile = toml::from_str(source).map_err(|e| syntax_error(source, &e))?;
        if file.entry.is_empty() {
            return Err(FaqError::Entry {
                entry: "-".into(),
                problem: "the file has no [[entry]]".into(),
            });
        }
        let mut entries: Vec<Entry> = Vec::with_capacity(file.entry.len());
        for (n, raw) in file.entry.into_iter().enumerate() {
            let entry = Entry::from_raw(raw, n + 1)?;
            if entries.iter().any(|e| e.id == entry.id) {
                return Err(FaqError::Entry {
                    entry: entry.id,
                    problem: "this id is used by an earlier entry too".into(),
                });
            }
            entries.push(entry);
        }
        Ok(Self {
            entries: entries.into(),
        })
    }

    /// The entry whose patterns match `text` best, answered in `language` (or in Russian
    /// when the entry has no text in that language); `None` when no entry reaches the
    /// minimum score.
    pub fn answer(&self, text: &str, language: Language) -> Option<FaqAnswer<'_>> {
        if self.entries.is_empty() {
            return None;
        }
        let words = folded_words(text);
        if words.is_empty() {
            return None;
        }
        let mut counted = vec![false; words.len()];
        let mut best: Option<(u32, &Entry)> = None;
        for entry in self.entries.iter() {
            let score = entry.score(&words, &mut counted);
            if score >= MIN_SCORE && best.is_none_or(|(top, _)| score > top) {
                best = Some((score, entry));
            }
        }
        best.map(|(_, entry)| FaqAnswer {
            topic: &entry.id,
            text: entry.text(language),
        })
    }

    /// The answer of entry `id` ("prepayment"), in `language`; `None` when there is none.
    pub fn topic(&self, id: &str, language: Language) -> Option<FaqAnswer<'_>> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .map(|entry| FaqAnswer {
                topic: &entry.id,
                text: entry.text(language),
            })
    }

    /// Ids of the entries, in file order.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.id.as_str())
    }

    /// Ids of the entries still marked `confirm = true`: facts an admin must verify.
    pub fn unconfirmed(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.confirm)
            .map(|e| e.id.as_str())
    }
}

impl Entry {
    fn from_raw(raw: RawEntry, number: usize) -> Result<Self, FaqError> {
        let id = raw.id.trim().to_string();
        let problem = |entry: &str, problem: String| FaqError::Entry {
            entry: entry.to_string(),
            problem,
        };
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(problem(
                &format!("#{number}"),
                format!("id \"{}\" must be one word, not empty", raw.id),
            ));
        }
        let text = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let ru = text(raw.answer.ru)
            .ok_or_else(|| problem(&id, "answer.ru is missing or empty".into()))?;
        let mut patterns = Vec::new();
        for source in [raw.patterns.ru, raw.patterns.kk, raw.patterns.en]
            .into_iter()
            .flatten()
            .flatten()
        {
            patterns.push(Pattern::parse(&source).map_err(|p| problem(&id, p))?);
        }
        if patterns.is_empty() {
            return Err(problem(&id, "no patterns: it would never answer".into()));
        }
        patterns.sort_by_key(|p| p.weak);
        Ok(Self {
            id,
            confirm: raw.confirm,
            patterns,
            ru,
            kk: text(raw.answer.kk),
            en: text(raw.answer.en),
        })
    }

    /// Points of this entry for the folded message `words`; `counted` is scratch space of
    /// the same length.
    fn score(&self, words: &[String], counted: &mut [bool]) -> u32 {
        counted.fill(false);
        let mut score = 0;
        for pattern in &self.patterns {
            if let Some(at) = pattern.find(words, counted) {
                counted[at..at + pattern.words.len()].fill(true);
                score += if pattern.weak { WEAK } else { STRONG };
            }
        }
        score
    }

    fn text(&self, language: Language) -> &str {
        let own = match language {
            Language::Ru => None,
            Language::Kk => self.kk.as_deref(),
            Language::En => self.en.as_deref(),
        };
        own.unwrap_or(&self.ru)
    }
}

impl Pattern {
    /// `"~ребен|дет"`, `"часы работ"`, `"кот$"` → a pattern, or what is wrong with it.
    fn parse(source: &str) -> Result<Self, String> {
        let trimmed = source.trim();
        let (weak, body) = match trimmed.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut words = Vec::new();
        for word in body.split_whitespace() {
            let mut alternatives = Vec::new();
            for alternative in word.split('|') {
                let (stem, dollar) = match alternative.strip_suffix('$') {
                    Some(stem) => (stem, true),
                    None => (alternative, false),
                };
                let folded = folded_words(stem);
                let [fold] = <[String; 1]>::try_from(folded).map_err(|_| {
                    format!(
                        "pattern \"{source}\": \"{alternative}\" must be one word of letters or \
                         digits (write the parts of \"wi-fi\" as \"wi fi\", with no empty \
                         alternative between |)"
                    )
                })?;
                let whole = dollar || fold.chars().count() <= 2;
                alternatives.push(Stem { fold, whole });
            }
            words.push(alternatives);
        }
        if words.is_empty() {
            return Err(format!("pattern \"{source}\" is empty"));
        }
        Ok(Self { weak, words })
    }

    /// Where the pattern's words first occur in `words`, one after another, covering at
    /// least one word not `counted` yet.
    fn find(&self, words: &[String], counted: &[bool]) -> Option<usize> {
        let len = self.words.len();
        let last_start = words.len().checked_sub(len)?;
        (0..=last_start).find(|&at| {
            counted[at..at + len].contains(&false)
                && self
                    .words
                    .iter()
                    .zip(&words[at..])
                    .all(|(alternatives, word)| alternatives.iter().any(|s| s.matches(word)))
        })
    }
}

impl Stem {
    fn matches(&self, word: &str) -> bool {
        if self.whole {
            word == self.fold
        } else {
            word.starts_with(&self.fold)
        }
    }
}

/// A TOML or format error, located by line and by the entry it falls in.
fn syntax_error(source: &str, error: &toml::de::Error) -> FaqError {
    let offset = error.span().map_or(0, |s| s.start).min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    // The entry is the last `[[entry]]` header at or before the error, named by its id
    // (which may follow the error, so look up to the next header).
    let header = |l: &str| l.trim_start().starts_with("[[entry]]");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut number = 0;
    let mut entry_start = None;
    for (at, l) in line_start_offsets(source) {
        if at > line_start {
            break;
        }
        if header(l) {
            number += 1;
            entry_start = Some(at);
        }
    }
    let entry = match entry_start {
        None => "-".to_string(),
        Some(start) => source[start..]
            .lines()
            .skip(1)
            .take_while(|l| !header(l))
            .find_map(entry_id)
            .map_or_else(|| format!("#{number}"), |id| format!("'{id}'")),
    };
    FaqError::Syntax {
        line,
        entry,
        message: error.message().trim().to_string(),
    }
}

/// Lines with the byte offset at which each starts.
fn line_start_offsets(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source.split_inclusive('\n').scan(0, |at, l| {
        let start = *at;
        *at += l.len();
        Some((start, l))
    })
}

/// The value of an `id = "..."` line.
fn entry_id(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("id")?.trim_start();
    let value = rest.strip_prefix('=')?.trim();
    let value = value.strip_prefix('"')?;
    value.split('"').next().filter(|id| !id.trim().is_empty())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    #[serde(default)]
    confirm: bool,
    #[serde(default)]
    patterns: RawLanguages<Vec<String>>,
    #[serde(default)]
    answer: RawLanguages<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanguages<T> {
    ru: Option<T>,
    kk: Option<T>,
    en: Option<T>,
}

impl<T> Default for RawLanguages<T> {
    fn default() -> Self {
        Self {
            ru: None,
            kk: None,
            en: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(faq: &Faq, text: &str) -> Option<String> {
        faq.answer(text, Language::Ru).map(|a| a.topic.to_string())
    }

    const SMALL: &str = r#"
[[entry]]
id = "kids"
patterns.ru = ["~ребен|дет", "~документ", "свидетельств рожден"]
answer.ru = "Детям нужен паспорт."
answer.kk = "Балаға паспорт керек."

[[entry]]
id = "docs"
patterns.ru = ["документ"]
answer.ru = "Нужен паспорт."

[[entry]]
id = "pets"
patterns.ru = ["кот$", "~ли"]
patterns.en = ["cat$"]
answer.ru = "Нельзя."
answer.en = "No."
"#;

    #[test]
    fn the_shipped_file_parses() {
        let faq = Faq::parse(SHIPPED).unwrap();
        assert!(faq.topics().count() >= 15);
        assert!(faq.unconfirmed().any(|id| id == "visa"));
        assert_eq!(Faq::defaults().topics().count(), faq.topics().count());
    }

    #[test]
    fn weak_patterns_need_company_and_ties_go_to_the_earlier_entry() {
        let faq = Faq::parse(SMALL).unwrap();
        // "документ" alone: kids has 1 (weak), docs has 2.
        assert_eq!(
            topic(&faq, "Какие документы нужны?").as_deref(),
            Some("docs")
        );
        // With a child: kids 2, docs 2 → the earlier entry.
        assert_eq!(
            topic(&faq, "какие ДОКУМЕНТЫ нужны ребёнку").as_deref(),
            Some("kids")
        );
        assert_eq!(topic(&faq, "летим с ребенком"), None);
        // A phrase: consecutive words in order.
        assert_eq!(
            topic(&faq, "Свидетельство о рождении нужно?"),
            None,
            "«о» stands between the words"
        );
        assert_eq!(
            topic(&faq, "свидетельства рождения хватит?").as_deref(),
            Some("kids")
        );
    }

    #[test]
    fn short_stems_and_dollar_stems_match_whole_words() {
        let faq = Faq::parse(SMALL).unwrap();
        assert_eq!(topic(&faq, "А кот?").as_deref(), Some("pets"));
        assert_eq!(topic(&faq, "который отель лучше"), None);
        assert_eq!(topic(&faq, "category 4 stars"), None);
        // "~ли" is whole-word only and weak: "лишь" and a lone "ли" do nothing.
        assert_eq!(topic(&faq, "лишь бы ли"), None);
    }

    #[test]
    fn a_word_counts_once_per_entry() {
        let faq = Faq::parse(
            r#"
[[entry]]
id = "a"
patterns.ru = ["~виз", "~виза"]
answer.ru = "A"
"#,
        )
        .unwrap();
        assert_eq!(topic(&faq, "виза"), None);
        assert_eq!(topic(&faq, "визу или виза?").as_deref(), Some("a"));
    }

    #[test]
    fn answers_in_the_language_asked_with_russian_as_fallback() {
        let faq = Faq::parse(SMALL).unwrap();
        let kids = "документы для детей";
        assert_eq!(
            faq.answer(kids, Language::Kk).unwrap().text,
            "Балаға паспорт керек."
        );
        assert_eq!(
            faq.answer(kids, Language::En).unwrap().text,
            "Детям нужен паспорт."
        );
        assert_eq!(faq.answer("cat?", Language::En).unwrap().text, "No.");
        assert_eq!(faq.answer("cat?", Language::Kk).unwrap().text, "Нельзя.");
    }

    #[test]
    fn empty_and_odd_messages_get_nothing() {
        let faq = Faq::defaults();
        for text in ["", "   ", "🙂🙂", "???", &"а ".repeat(10_000)] {
            assert_eq!(faq.answer(text, Language::Ru), None, "{text:?}");
        }
        assert_eq!(Faq::default().answer("виза", Language::Ru), None);
    }

    fn error(source: &str) -> String {
        Faq::parse(source).unwrap_err().to_string()
    }

    #[test]
    fn bad_files_are_refused_naming_the_entry() {
        let no_ru = "[[entry]]\nid = \"visa\"\npatterns.ru = [\"виз\"]\nanswer.en = \"No visa.\"\n";
        assert_eq!(
            error(no_ru),
            "faq.toml entry 'visa': answer.ru is missing or empty"
        );

        let no_patterns = "[[entry]]\nid = \"visa\"\nanswer.ru = \"Нет.\"\n";
        assert!(
            error(no_patterns).contains("'visa'"),
            "{}",
            error(no_patterns)
        );

        let bad_pattern =
            "[[entry]]\nid = \"sim\"\npatterns.en = [\"wi-fi\"]\nanswer.ru = \"Да.\"\n";
        let e = error(bad_pattern);
        assert!(e.contains("'sim'") && e.contains("wi-fi"), "{e}");

        let empty_alternative =
            "[[entry]]\nid = \"x\"\npatterns.ru = [\"виз|\"]\nanswer.ru = \"Да.\"\n";
        assert!(error(empty_alternative).contains("'x'"));

        let twice = "[[entry]]\nid = \"a\"\npatterns.ru = [\"a\"]\nanswer.ru = \"A\"\n\
                     [[entry]]\nid = \"a\"\npatterns.ru = [\"b\"]\nanswer.ru = \"B\"\n";
        assert!(error(twice).contains("'a'"));

        assert!(error("").contains("no [[entry]]"));
    }

    #[test]
    fn syntax_errors_give_the_line_and_the_entry() {
        // A pattern without quotes in the second entry.
        let source = "[[entry]]\nid = \"visa\"\npatterns.ru = [\"виз\"]\nanswer.ru = \"Нет.\"\n\n\
                      [[entry]]\nid = \"baggage\"\npatterns.ru = [багаж]\nanswer.ru = \"20 кг\"\n";
        match Faq::parse(source).unwrap_err() {
            FaqError::Syntax { line, entry, .. } => {
                assert_eq!(line, 8, "{}", Faq::parse(source).unwrap_err());
                assert_eq!(entry, "'baggage'");
            }
            other => panic!("{other:?}"),
        }
        // An unclosed string, before the entry's id is even read.
        let source = "[[entry]]\npatterns.ru = [\"виз]\nid = \"visa\"\nanswer.ru = \"Нет.\"\n";
        let e = error(source);
        assert!(e.contains("'visa'"), "{e}");
        // A misspelt key.
        let source = "[[entry]]\nid = \"visa\"\npatterns.ru = [\"виз\"]\nanswers.ru = \"Нет.\"\n";
        let e = error(source);
        assert!(e.contains("'visa'") && e.contains("answers"), "{e}");
        // A missing id: the entry is named by its number.
        let source = "[[entry]]\nid = \"a\"\npatterns.ru = [\"a\"]\nanswer.ru = \"A\"\n\
                      [[entry]]\npatterns.ru = [\"b\"]\nanswer.ru = \"B\"\n";
        let e = error(source);
        assert!(e.contains("#2") || e.contains("line 5"), "{e}");
    }
}
