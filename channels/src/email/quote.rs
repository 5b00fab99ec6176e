//! The customer's own words out of an email body: quoted history, signatures and "sent from my
//! phone" footers removed.
//!
//! Mail clients quote in a handful of ways, and we recognise each by its lines:
//!
//! - an attribution line — `On Mon, 3 Mar 2026 at 10:00, Crystal Bay <bot@…> wrote:`, Russian
//!   `3 марта 2026 г., в 10:00, Crystal Bay <bot@…> пишет:`, Gmail's Russian
//!   `пн, 3 мар. 2026 г. в 10:00, Crystal Bay <bot@…>:` — possibly wrapped over two lines.
//!   When `>`-quoted lines follow, only the attribution and the quoted lines go (so a reply
//!   written *below* the quote survives); otherwise everything from it on is history;
//! - a separator — `-----Original Message-----`, `-----Исходное сообщение-----`, a forwarded
//!   message banner, Outlook's line of underscores — or Outlook's header block (`From:` with
//!   `Sent:`/`To:`/`Subject:` below it): everything from it on is history;
//! - lines starting with `>`: quoted, dropped wherever they are;
//! - a signature — a `--` line, `С уважением,`, `Best regards,` … — or a phone app's footer
//!   (`Sent from my iPhone`, `Отправлено с iPhone`): everything from it on is dropped.
//!
//! The rules are heuristics: they look at whole lines and lean towards keeping text, since a
//! lost sentence costs more than a stray "С уважением".

/// Phrases that end an attribution line (lower case), with the colon.
const ATTRIBUTION_ENDS: &[&str] = &[
    "wrote:",
    "пишет:",
    "написал:",
    "написала:",
    "написал(а):",
    "жазды:",
];

/// Banners of quoted or forwarded mail (lower case), found in a line of dashes.
const SEPARATOR_PHRASES: &[&str] = &[
    "original message",
    "исходное сообщение",
    "forwarded message",
    "пересылаемое сообщение",
    "переадресованное сообщение",
    "пересланное сообщение",
];

/// Header names of Outlook's quoted-header block, after `From:`/`От:` (lower case).
const OUTLOOK_HEADERS: &[&str] = &[
    "sent:",
    "date:",
    "to:",
    "subject:",
    "отправлено:",
    "дата:",
    "кому:",
    "тема:",
];

/// Closing words of a letter (lower case): a line that is one of these, alone or followed by
/// a comma or a name, starts the signature.
const SIGN_OFFS: &[&str] = &[
    "с уважением",
    "с наилучшими пожеланиями",
    "всего доброго",
    "best regards",
    "kind regards",
    "warm regards",
    "regards",
    "best wishes",
    "sincerely",
    "құрметпен",
];

/// Footers that phones and webmail apps add (lower case line starts).
const APP_FOOTERS: &[&str] = &[
    "sent from my ",
    "sent from mail",
    "sent from yahoo",
    "sent from outlook",
    "get outlook for",
    "отправлено с ",
    "отправлено из ",
    "отправлено через ",
    "скачайте outlook",
];

/// The customer's own words of `body`: see the module notes. Line breaks become `\n`, runs of
/// blank lines one blank line, and the result is trimmed.
pub fn strip(body: &str) -> String {
    let normalised = body.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if is_quoted(line) {
            i += 1;
            continue;
        }
        if let Some(len) = attribution(&lines, i) {
            // A quote marked with `>` follows: drop the attribution, keep looking (a reply may
            // be written below the quote). Anything else after it is unmarked history.
            match lines[i + len..].iter().find(|l| !l.trim().is_empty()) {
                Some(next) if is_quoted(next) => {
                    i += len;
                    continue;
                }
                _ => break,
            }
        }
        if is_separator(trimmed) || is_outlook_header_block(&lines, i) || is_signature(trimmed) {
            break;
        }
        kept.push(line.trim_end());
        i += 1;
    }
    tidy(&kept)
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// The number of lines (1 or 2) of an attribution line starting at `i`, if it is one.
fn attribution(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    if first.is_empty() || first.chars().count() > 300 {
        return None;
    }
    if is_attribution(first) {
        return Some(1);
    }
    // Wrapped by the sender's client: "On …, Name <address>" / "wrote:".
    // The first part carries the date or the address; the second is not an attribution of
    // its own (else the first would be a line of the customer's, swallowed).
    let second = lines.get(i + 1)?.trim();
    let first_has_details = first.contains('@') || first.chars().any(|c| c.is_ascii_digit());
    if !first_has_details
        || second.is_empty()
        || second.chars().count() > 80
        || is_attribution(second)
    {
        return None;
    }
    is_attribution(&format!("{first} {second}")).then_some(2)
}

fn is_attribution(line: &str) -> bool {
    let lower = line.to_lowercase();
    let has_date_or_address = lower.contains('@') || lower.chars().any(|c| c.is_ascii_digit());
    if !has_date_or_address {
        return false;
    }
    if ATTRIBUTION_ENDS.iter().any(|end| lower.ends_with(end)) {
        return true;
    }
    // Gmail in Russian: "пн, 3 мар. 2026 г. в 10:00, Name <address>:".
    lower.ends_with(">:") && lower.contains('@') && lower.chars().any(|c| c.is_ascii_digit())
}

fn is_separator(line: &str) -> bool {
    let lower = line.to_lowercase();
    if (lower.starts_with("--") || lower.starts_with("__"))
        && SEPARATOR_PHRASES.iter().any(|p| lower.contains(p))
    {
        return true;
    }
    // Outlook's rule above the quoted headers.
    line.chars().count() >= 10 && line.chars().all(|c| c == '_')
}

/// `From: …` followed within four lines by at least two of `Sent:`, `Date:`, `To:`,
/// `Subject:` (or the Russian names): the header block Outlook puts above the quoted message.
/// (One alone could be the customer's "From: Almaty / To: Nha Trang".)
fn is_outlook_header_block(lines: &[&str], i: usize) -> bool {
    let lower = lines[i].trim().to_lowercase();
    if !(lower.starts_with("from:") || lower.starts_with("от:")) {
        return false;
    }
    let headers = lines[i + 1..]
        .iter()
        .take(4)
        .filter(|l| {
            let l = l.trim().to_lowercase();
            OUTLOOK_HEADERS.iter().any(|h| l.starts_with(h))
        })
        .count();
    headers >= 2
}

fn is_signature(line: &str) -> bool {
    if line == "--" || line == "—" {
        return true;
    }
    let lower = line.to_lowercase();
    if APP_FOOTERS.iter().any(|f| lower.starts_with(f)) {
        return true;
    }
    SIGN_OFFS.iter().any(|s| match lower.strip_prefix(s) {
        // "С уважением", "С уважением,", "С уважением, Айгуль" — not "С уважением отношусь…".
        Some(rest) => {
            let rest = rest.trim_start();
            rest.is_empty() || rest.starts_with([',', '!', '.'])
        }
        None => false,
    })
}

/// Trailing blank lines dropped, runs of blank lines made one, the whole trimmed.
fn tidy(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blank_run = false;
    for line in lines {
        if line.trim().is_empty() {
            blank_run = !out.is_empty();
            continue;
        }
        if blank_run {
            out.push_str("\n\n");
        } else if !out.is_empty() {
            out.push('\n');
        }
        blank_run = false;
        out.push_str(line);
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn an_english_reply_loses_the_quote_and_the_phone_footer() {
        let body = "Yes, March is fine.\r\n\r\nSent from my iPhone\r\n\r\n\
                    On Mon, 3 Mar 2026 at 10:00, Crystal Bay <bot@crystalbay.kz> wrote:\r\n\
                    > Hello! When would you like to go?\r\n";
        assert_eq!(strip(body), "Yes, March is fine.");
    }

    #[test]
    fn a_wrapped_attribution_is_recognised() {
        let body = "Two adults.\n\nOn Mon, Mar 3, 2026 at 10:00 AM Crystal Bay <bot@crystalbay.kz>\nwrote:\n\n> How many?\n";
        assert_eq!(strip(body), "Two adults.");
    }

    #[test]
    fn russian_quotes_and_signatures_go() {
        let body = "Хотим в Нячанг в марте, двое взрослых.\n\nС уважением,\nАйгуль\n\n\
                    3 марта 2026 г., в 10:00, Crystal Bay <bot@crystalbay.kz> пишет:\n> Здравствуйте!";
        assert_eq!(strip(body), "Хотим в Нячанг в марте, двое взрослых.");
        let gmail = "Да, подходит\n\nпн, 3 мар. 2026 г. в 10:00, Crystal Bay <bot@crystalbay.kz>:\n\n> Вариант 1";
        assert_eq!(strip(gmail), "Да, подходит");
        let phone = "Спасибо!\n\nОтправлено с iPhone";
        assert_eq!(strip(phone), "Спасибо!");
    }

    #[test]
    fn outlook_history_is_cut() {
        let body = "Подходит второй вариант.\n\n-----Original Message-----\nFrom: Crystal Bay\nSent: Monday\n\nВарианты: …";
        assert_eq!(strip(body), "Подходит второй вариант.");
        let headers = "Подходит.\n\n________________________________\nОт: Crystal Bay <bot@crystalbay.kz>\nОтправлено: 3 марта 2026 г. 10:00\nТема: Тур";
        assert_eq!(strip(headers), "Подходит.");
        let no_rule = "Ок\n\nFrom: Crystal Bay <bot@crystalbay.kz>\nSent: Monday, March 3, 2026\nTo: me\n\nold text";
        assert_eq!(strip(no_rule), "Ок");
    }

    #[test]
    fn a_reply_below_the_quote_is_kept() {
        let body =
            "On 3/3/26 10:00, Crystal Bay wrote:\n> Откуда вылет?\n\nИз Алматы.\n\n-- \nАйгуль";
        assert_eq!(strip(body), "Из Алматы.");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let body = "С уважением отношусь к вашей компании.\nОн пишет: привет\n\n\n\nЕщё строка";
        assert_eq!(
            strip(body),
            "С уважением отношусь к вашей компании.\nОн пишет: привет\n\nЕщё строка"
        );
        assert_eq!(strip("  \n\n"), "");
        let route = "From: Almaty\nTo: Nha Trang\nTwo adults";
        assert_eq!(strip(route), route);
    }
}
