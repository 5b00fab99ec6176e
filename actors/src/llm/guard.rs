//! The guard on a phrased answer before it may reach a customer. Offers, hotels and prices come
//! only from SAMO, so an answer that states an amount of money is refused; so is an empty or
//! over-long one, and one that repeats the system prompt (the classic goal of an injection).
//! A refused answer is [`LlmError::Malformed`]: the caller falls back to the rules path.

use super::LlmError;

/// The longest answer a chat reply may be (characters).
pub const MAX_ANSWER_CHARS: usize = 1200;

/// Lines of the system prompt at least this long must not appear verbatim in an answer.
const LEAK_LINE_CHARS: usize = 40;

/// Currency signs and words that may follow an amount ("500 $", "1 200 000 тенге").
/// Word stems cover case endings (рублей, долларов); short codes need a word boundary.
const AFTER: &[&str] = &[
    "₸",
    "$",
    "€",
    "₽",
    "тг",
    "тенге",
    "теңге",
    "kzt",
    "usd",
    "eur",
    "rub",
    "долл",
    "dollar",
    "евро",
    "euro",
    "руб",
    "rouble",
    "ruble",
    "у.е",
    "tenge",
];
/// Signs and codes that may precede an amount ("$500", "USD 1200").
const BEFORE: &[&str] = &["₸", "$", "€", "₽", "kzt", "usd", "eur", "rub"];
/// Words between an amount and its currency ("800 тыс. тенге", "2k $").
const MULTIPLIERS: &[&str] = &[
    "тысяч",
    "тыс",
    "млн",
    "миллион",
    "мың",
    "thousand",
    "million",
    "mln",
    "k",
    "к",
];

/// The answer, trimmed, when it may be sent; otherwise why not.
pub fn check_answer(answer: &str, system_prompt: &str) -> Result<String, LlmError> {
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(LlmError::Malformed("empty answer".into()));
    }
    let chars = answer.chars().count();
    if chars > MAX_ANSWER_CHARS {
        return Err(LlmError::Malformed(format!(
            "answer too long ({chars} characters, at most {MAX_ANSWER_CHARS})"
        )));
    }
    if states_money(answer) {
        return Err(LlmError::Malformed(
            "answer states an amount of money; prices come only from tour search".into(),
        ));
    }
    if repeats_prompt(answer, system_prompt) {
        return Err(LlmError::Malformed(
            "answer repeats the system prompt".into(),
        ));
    }
    Ok(answer.to_owned())
}

/// Whether `text` has a number next to a currency sign or word, either way round.
pub fn states_money(text: &str) -> bool {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        // The number, with thousands separators and decimals: "1 200 000", "1,5", "2.000".
        while end < chars.len()
            && (chars[end].is_ascii_digit()
                || (is_separator(chars[end])
                    && chars.get(end + 1).is_some_and(char::is_ascii_digit)))
        {
            end += 1;
        }
        let mut j = skip_spaces(&chars, end);
        if let Some(len) = MULTIPLIERS.iter().find_map(|m| word_at(&chars, j, m)) {
            j = skip_spaces(&chars, j + len);
            if chars.get(j) == Some(&'.') {
                j = skip_spaces(&chars, j + 1);
            }
        }
        if AFTER.iter().any(|c| currency_at(&chars, j, c)) {
            return true;
        }
        let before = skip_spaces_back(&chars, start);
        if BEFORE.iter().any(|c| currency_before(&chars, before, c)) {
            return true;
        }
        i = end.max(start + 1);
    }
    false
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '.' | ',' | '\'' | '\u{a0}' | '\u{202f}' | '\u{2009}'
    )
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// The index just after the last non-space before `i`.
fn skip_spaces_back(chars: &[char], mut i: usize) -> usize {
    while i > 0 && chars[i - 1].is_whitespace() {
        i -= 1;
    }
    i
}

fn starts_with_at(chars: &[char], i: usize, token: &str) -> bool {
    token
        .chars()
        .enumerate()
        .all(|(k, t)| chars.get(i + k) == Some(&t))
}

/// The length of `word` when it stands at `i` as a whole word.
fn word_at(chars: &[char], i: usize, word: &str) -> Option<usize> {
    let len = word.chars().count();
    (starts_with_at(chars, i, word) && !chars.get(i + len).is_some_and(|c| c.is_alphabetic()))
        .then_some(len)
}

/// A currency token at `i`: a sign anywhere, a three-letter code as a whole word, a word stem
/// at the start of a word.
fn currency_at(chars: &[char], i: usize, token: &str) -> bool {
    let is_code = token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic());
    if is_code {
        word_at(chars, i, token).is_some()
    } else {
        starts_with_at(chars, i, token)
    }
}

/// A currency token ending just before `end`.
fn currency_before(chars: &[char], end: usize, token: &str) -> bool {
    let len = token.chars().count();
    if end < len || !starts_with_at(chars, end - len, token) {
        return false;
    }
    let is_word = token.chars().all(char::is_alphabetic);
    !is_word || end == len || !chars[end - len - 1].is_alphabetic()
}

/// Whether the answer quotes a substantial line of the system prompt.
fn repeats_prompt(answer: &str, system_prompt: &str) -> bool {
    let answer = answer.to_lowercase();
    system_prompt
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches(['-', '*', '#', ' '])
                .to_lowercase()
        })
        .filter(|l| l.chars().count() >= LEAK_LINE_CHARS)
        .any(|l| answer.contains(&l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_of_money_are_found() {
        for text in [
            "Тур стоит 450 000 ₸ на двоих",
            "от 450000тг",
            "примерно 1,5 млн тенге",
            "около 800 тыс. тенге",
            "Price: $1200 per person",
            "USD 1 200",
            "about 900 USD",
            "всего 700 долларов",
            "1200€",
            "50 000 рублей",
            "2k $",
            "450 000 теңге",
        ] {
            assert!(states_money(text), "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_money_pass() {
        for text in [
            "Перелёт из Алматы в Нячанг длится около 6 часов.",
            "Виза не нужна для пребывания до 45 дней.",
            "Отели 4* и 5* — менеджер подберёт варианты.",
            "Офис работает с 9 до 18, тел. +7 701 123 45 67",
            "2 adults, 7 nights, in 2027",
            "Температура в декабре 27 °C, europe is far",
            "Багаж 23 кг, ручная кладь 7 кг",
        ] {
            assert!(!states_money(text), "{text}");
        }
    }

    #[test]
    fn empty_long_and_leaking_answers_are_refused() {
        let prompt = "You are the assistant of Crystal Bay travel agency.\nNever state prices, hotels or availability yourself.";
        assert!(matches!(
            check_answer("  \n ", prompt),
            Err(LlmError::Malformed(_))
        ));
        assert!(check_answer(&"а".repeat(MAX_ANSWER_CHARS + 1), prompt).is_err());
        assert!(check_answer("Конечно: 2 000 $ за тур", prompt).is_err());
        assert!(
            check_answer(
                "My instructions: never state prices, hotels or availability yourself.",
                prompt
            )
            .is_err()
        );
        assert_eq!(
            check_answer("  Виза во Вьетнам не нужна до 45 дней.  ", prompt).unwrap(),
            "Виза во Вьетнам не нужна до 45 дней."
        );
    }
}
