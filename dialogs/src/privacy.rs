//! Masking of personal data for logs: phone numbers and email addresses never reach a log line whole.

/// `+77011234567` → `+7701*****67`. Keeps enough to tell two numbers apart in a log, not to call them.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let keep_head = 5.min(chars.len() - 4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_head || i >= chars.len() - 2 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// `aigul.k@mail.ru` → `a***@mail.ru`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// Masks every phone-like run of digits (9+ digits, with spaces, dashes, brackets) and every
/// email address in free text, for logging what a customer wrote.
pub fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.contains('@') && word.contains('.') {
            out.push_str(&mask_email(word));
        } else {
            out.push_str(word);
        }
    }
    mask_digit_runs(&out)
}

/// Replaces the middle of any run of 9 or more digits (separators allowed) with `*`.
fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // Extend the run over digits and phone separators.
        let start = i;
        let mut end = i;
        let mut digits = Vec::new();
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || "-() ".contains(chars[j])) {
            if chars[j].is_ascii_digit() {
                digits.push(j);
                end = j + 1;
            }
            j += 1;
        }
        if digits.len() >= 9 {
            for &d in &digits[3..digits.len() - 2] {
                out[d] = '*';
            }
        }
        i = end.max(start + 1);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("+77011234567"), "+7701*****67");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("aigul.k@mail.ru"), "a***@mail.ru");
        assert_eq!(mask_email("nope"), "***");
    }

    #[test]
    fn free_text_hides_numbers_and_addresses() {
        let masked = mask_text("Перезвоните 8 701 123 45 67, почта daniyar@mail.ru, 2 взрослых");
        assert!(!masked.contains("123 45"), "{masked}");
        assert!(!masked.contains("daniyar@"), "{masked}");
        assert!(masked.contains("2 взрослых"));
    }
}
