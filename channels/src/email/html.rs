//! HTML mail to plain text, and plain text to the HTML of our replies.
//!
//! Reading: mail-parser's `html_to_text` decodes entities and drops tags, but it breaks lines
//! only at `<br>` and `</p>`, and it keeps quoted history. A short pass before it breaks lines
//! at block elements (`div`, `li`, `tr`, …: how webmail lays out lines) and replaces each
//! `<blockquote>` (how webmail quotes) with one `>` line, which [`super::quote`] then removes
//! along with the attribution above it.

/// Elements that start a new line in a browser.
const BLOCK_TAGS: &[&str] = &[
    "div", "p", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
];

/// The text of an HTML body, line breaks where a browser would show them, quotes marked `>`.
pub fn to_text(html: &str) -> String {
    // Non-breaking spaces (`&nbsp;`, common in webmail) read as spaces; source indentation and
    // the empty lines that nested blocks leave behind go.
    let text = mail_parser::decoders::html::html_to_text(&prepare(html)).replace('\u{a0}', " ");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Adds `<br>` before block elements (opening and closing) and replaces blockquotes with a `&gt;` line.
fn prepare(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut quote_depth = 0usize;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        if quote_depth == 0 {
            out.push_str(&rest[..start]);
        }
        rest = &rest[start..];
        // A comment may contain `>`: skip it whole.
        if rest.starts_with("<!--") {
            let end = rest.find("-->").map_or(rest.len(), |e| e + 3);
            rest = &rest[end..];
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[..end];
        rest = &rest[end..];
        let (closing, name) = tag_name(tag);
        if name == "blockquote" {
            if closing {
                quote_depth = quote_depth.saturating_sub(1);
            } else {
                if quote_depth == 0 {
                    out.push_str("<br>&gt; …<br>");
                }
                quote_depth += 1;
            }
            continue;
        }
        if quote_depth > 0 {
            continue;
        }
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push_str("<br>");
        }
        out.push_str(tag);
    }
    if quote_depth == 0 {
        out.push_str(rest);
    }
    out
}

/// Whether a tag closes, and its lower-case name: `</DIV class=x>` → `(true, "div")`.
fn tag_name(tag: &str) -> (bool, String) {
    let inner = tag.trim_start_matches('<');
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name = inner
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    (closing, name)
}

/// Our reply's text as HTML: escaped, line breaks as `<br>`.
pub fn from_text(text: &str) -> String {
    escape(text).replace("\r\n", "\n").replace('\n', "<br>\n")
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_lines_and_quotes_a_marker() {
        let html = r#"<html><head><style>p{color:red}</style></head><body>
            <div dir="ltr">Хотим в Нячанг&nbsp;в марте</div><div>Айгуль</div>
            <div class="gmail_quote"><div class="gmail_attr">On Mon, 3 Mar 2026 at 10:00, Crystal Bay &lt;bot@crystalbay.kz&gt; wrote:<br></div>
            <blockquote class="gmail_quote">Здравствуйте!<blockquote>old</blockquote> Куда?</blockquote></div>
            <!-- a <comment> --></body></html>"#;
        let text = to_text(html);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "Хотим в Нячанг в марте",
                "Айгуль",
                "On Mon, 3 Mar 2026 at 10:00, Crystal Bay <bot@crystalbay.kz> wrote:",
                "> …"
            ]
        );
        assert_eq!(
            crate::email::quote::strip(&text),
            "Хотим в Нячанг в марте\nАйгуль"
        );
    }

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            from_text("1 < 2 & \"ok\"\nнет"),
            "1 &lt; 2 &amp; &quot;ok&quot;<br>\nнет"
        );
    }
}
