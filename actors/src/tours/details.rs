//! Reading `Hotels_DETAILS` (`HOTELINC`) into [`HotelDetails`]: plain text by section, HTML
//! removed. Pure.
//!
//! The protocol only says the answer is `{id, name, …}`, and that `null`, `false`, `""` or
//! `[]` mean "no details". We read the forms seen in operator material and fakes alike:
//!
//! - a description in HTML (`description`, `descr`, `text`, `content`, `info`, `about`), cut
//!   into sections at its headings (`<h1>`…`<h6>`); the text before the first heading is an
//!   untitled section;
//! - lists of titled parts (`[{"title"|"name"|"caption": …, "text"|"value"|"description": …}]`)
//!   under any key;
//! - the same object wrapped in a one-element list.
//!
//! An answer with no text left after the HTML is removed is "no details" (`None`).

use super::samo::wire;
use dialogs::search::{DetailSection, HotelDetails};
use serde_json::Value;

/// Keys whose string value is the description.
const DESCRIPTION_KEYS: &[&str] = &["description", "descr", "text", "content", "info", "about"];
const TITLE_KEYS: &[&str] = &["title", "name", "caption", "header"];
const TEXT_KEYS: &[&str] = &["text", "value", "description", "content", "descr"];

/// The details in `payload`; `None` for every "no details" form.
pub fn parse(payload: &Value) -> Option<HotelDetails> {
    let object = match payload {
        Value::Object(o) => o,
        Value::Array(items) => items.first()?.as_object()?,
        _ => return None,
    };
    let mut sections = Vec::new();
    for key in DESCRIPTION_KEYS {
        if let Some(html) = object.get(*key).and_then(Value::as_str) {
            sections.extend(split_at_headings(html));
        }
    }
    for value in object.values() {
        let Value::Array(parts) = value else { continue };
        for part in parts {
            let field = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| part.get(*k).and_then(Value::as_str))
                    .map(strip_html)
            };
            let (Some(title), Some(text)) = (field(TITLE_KEYS), field(TEXT_KEYS)) else {
                continue;
            };
            sections.push(DetailSection { title, text });
        }
    }
    sections.retain(|s| !s.text.is_empty());
    if sections.is_empty() {
        return None;
    }
    Some(HotelDetails {
        hotel: object.get("name").and_then(wire::text).unwrap_or_default(),
        sections,
    })
}

/// `html` as sections: the text before the first heading (untitled), then each heading with
/// the text up to the next one.
fn split_at_headings(html: &str) -> Vec<DetailSection> {
    let mut sections = vec![DetailSection {
        title: String::new(),
        text: String::new(),
    }];
    let mut rest = html;
    let mut body = String::new();
    while let Some(start) = find_heading(rest) {
        body.push_str(&rest[..start]);
        let after_open = &rest[start..];
        let open_end = after_open.find('>').map_or(after_open.len(), |i| i + 1);
        let close = format!("</{}", after_open[1..3].to_ascii_lowercase());
        let inner = &after_open[open_end..];
        let (title, next) = match inner.to_ascii_lowercase().find(&close) {
            Some(end) => {
                let after_close = &inner[end..];
                let skip = after_close.find('>').map_or(after_close.len(), |i| i + 1);
                (&inner[..end], &after_close[skip..])
            }
            None => (inner, ""),
        };
        if let Some(last) = sections.last_mut() {
            last.text = strip_html(&body);
        }
        body.clear();
        sections.push(DetailSection {
            title: strip_html(title),
            text: String::new(),
        });
        rest = next;
    }
    body.push_str(rest);
    if let Some(last) = sections.last_mut() {
        last.text = strip_html(&body);
    }
    sections
}

/// Where the next `<h1>`…`<h6>` opening tag starts.
fn find_heading(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    lower.match_indices("<h").map(|(i, _)| i).find(|&i| {
        matches!(bytes.get(i + 2), Some(b'1'..=b'6'))
            && matches!(bytes.get(i + 3), Some(b'>' | b' ' | b'\t' | b'\n' | b'/'))
    })
}

/// `html` as plain text: tags removed (blocks and line breaks become new lines, list items
/// start with "• "), entities decoded, spaces collapsed, empty lines dropped.
pub fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&decode_entities(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            // A lone "<": text, not a tag.
            text.push_str(&decode_entities(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = rest[lt + 1..lt + gt].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        match name.as_str() {
            "br" | "p" | "div" | "tr" | "ul" | "ol" | "table" | "h1" | "h2" | "h3" | "h4"
            | "h5" | "h6" => text.push('\n'),
            "li" if !tag.starts_with('/') => text.push_str("\n• "),
            "td" | "th" => text.push(' '),
            _ => {}
        }
        rest = &rest[lt + gt + 1..];
    }
    text.push_str(&decode_entities(rest));
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty() && line != "•")
        .collect::<Vec<_>>()
        .join("\n")
}

/// Named entities seen in descriptions, and numeric ones.
fn decode_entities(text: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("nbsp", " "),
        ("amp", "&"),
        ("lt", "<"),
        ("gt", ">"),
        ("quot", "\""),
        ("apos", "'"),
        ("laquo", "«"),
        ("raquo", "»"),
        ("mdash", "—"),
        ("ndash", "–"),
        ("hellip", "…"),
        ("deg", "°"),
        ("sup2", "²"),
        ("bull", "•"),
        ("rsquo", "’"),
        ("lsquo", "‘"),
        ("ldquo", "“"),
        ("rdquo", "”"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let entity = after
            .find(';')
            .filter(|end| *end <= 10)
            .map(|end| (&after[..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let value = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32).map(String::from)
            } else {
                NAMED
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            value.map(|v| (v, end))
        });
        match decoded {
            Some((value, end)) => {
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(title: &str, text: &str) -> DetailSection {
        DetailSection {
            title: title.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_description_is_cut_at_its_headings() {
        let details = parse(&json!({
            "id": 7002, "name": "Galina Hotel & Spa",
            "description": "<p>Отель в центре, в 5&nbsp;минутах от моря.</p>\
                <h3>Пляж</h3><p>Песчаный, 50&nbsp;м.<br>Лежаки за плату.</p>\
                <H3 class=\"x\">Номера</H3><ul><li>Standard: 24&nbsp;м&sup2;</li><li>Deluxe &laquo;Sea View&raquo;</li></ul>\
                <h4>Пусто</h4>",
        }))
        .unwrap();
        assert_eq!(details.hotel, "Galina Hotel & Spa");
        assert_eq!(
            details.sections,
            [
                section("", "Отель в центре, в 5 минутах от моря."),
                section("Пляж", "Песчаный, 50 м.\nЛежаки за плату."),
                section("Номера", "• Standard: 24 м²\n• Deluxe «Sea View»"),
            ]
        );
    }

    #[test]
    fn titled_parts_in_a_list() {
        let details = parse(&json!([{
            "name": "Novotel Phu Quoc Resort",
            "descriptions": [
                {"title": "Расположение", "text": "<p>Пляж Онг Ланг &amp; 20&#160;км от аэропорта.</p>"},
                {"name": "Пляж", "value": "Песчаный."},
                {"title": "Ремонт", "text": ""},
            ],
        }]))
        .unwrap();
        assert_eq!(
            details.sections,
            [
                section("Расположение", "Пляж Онг Ланг & 20 км от аэропорта."),
                section("Пляж", "Песчаный."),
            ]
        );
    }

    #[test]
    fn every_no_details_form_is_none() {
        for empty in [
            json!(null),
            json!(false),
            json!(""),
            json!([]),
            json!({}),
            json!({"id": 1, "name": "X", "description": ""}),
            json!({"id": 1, "name": "X", "description": "<p>&nbsp;</p><h3>Пляж</h3>"}),
        ] {
            assert_eq!(parse(&empty), None, "{empty}");
        }
    }

    #[test]
    fn stray_angle_brackets_and_ampersands_stay_text() {
        assert_eq!(strip_html("a < b & c &unknown; d"), "a < b & c &unknown; d");
        assert_eq!(strip_html("<b>bold</b> &#x41;&#66;"), "bold AB");
    }
}
