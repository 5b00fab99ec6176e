//! Place names, dates and money as a customer reads them. The analyser's canonical values
//! are English ("Almaty", "Nha Trang"); the operator may write the same places in Russian
//! ("Фукуок", "о. Фукуок"). Replies show them in the customer's language, in the nominative
//! (templates are written so no declension is needed: "Вылет: Алматы"); a Russian name we do
//! not know is transliterated for English readers.

use crate::analysis::Language;
use chrono::{Datelike, NaiveDate};

/// `(canonical, ru, kk)`; English is the canonical name itself.
const NAMES: &[(&str, &str, &str)] = &[
    ("Almaty", "Алматы", "Алматы"),
    ("Astana", "Астана", "Астана"),
    ("Shymkent", "Шымкент", "Шымкент"),
    ("Karaganda", "Караганда", "Қарағанды"),
    ("Aktobe", "Актобе", "Ақтөбе"),
    ("Aktau", "Актау", "Ақтау"),
    ("Atyrau", "Атырау", "Атырау"),
    ("Pavlodar", "Павлодар", "Павлодар"),
    ("Oskemen", "Усть-Каменогорск", "Өскемен"),
    ("Kostanay", "Костанай", "Қостанай"),
    ("Taraz", "Тараз", "Тараз"),
    ("Kyzylorda", "Кызылорда", "Қызылорда"),
    ("Semey", "Семей", "Семей"),
    ("Oral", "Уральск", "Орал"),
    ("Petropavl", "Петропавловск", "Петропавл"),
    ("Turkistan", "Туркестан", "Түркістан"),
    ("Vietnam", "Вьетнам", "Вьетнам"),
    ("Turkey", "Турция", "Түркия"),
    ("UAE", "ОАЭ", "БАӘ"),
    ("Egypt", "Египет", "Мысыр"),
    ("Thailand", "Таиланд", "Тайланд"),
    ("China", "Китай", "Қытай"),
    ("Maldives", "Мальдивы", "Мальдив"),
    ("Sri Lanka", "Шри-Ланка", "Шри-Ланка"),
    ("Indonesia", "Индонезия", "Индонезия"),
    ("Bali", "Бали", "Бали"),
    ("Georgia", "Грузия", "Грузия"),
    ("Malaysia", "Малайзия", "Малайзия"),
    ("Qatar", "Катар", "Катар"),
    ("Nha Trang", "Нячанг", "Нячанг"),
    ("Phu Quoc", "Фукуок", "Фукуок"),
    ("Da Nang", "Дананг", "Дананг"),
    ("Phan Thiet", "Фантьет (Муйне)", "Фантьет (Муйне)"),
    ("Hanoi", "Ханой", "Ханой"),
    ("Ho Chi Minh City", "Хошимин", "Хошимин"),
    ("Ha Long", "Халонг", "Халонг"),
    ("Da Lat", "Далат", "Далат"),
    ("Hoi An", "Хойан", "Хойан"),
    ("Cam Ranh", "Камрань", "Камрань"),
    ("Quy Nhon", "Куинён", "Куинён"),
    ("Vung Tau", "Вунгтау", "Вунгтау"),
];

/// Other spellings of known places, folded (see [`fold`]), as operators and customers write
/// them: `(folded spelling, canonical)`.
const ALIASES: &[(&str, &str)] = &[
    ("ньячанг", "Nha Trang"),
    ("нячанг", "Nha Trang"),
    ("nhatrang", "Nha Trang"),
    ("офукуок", "Phu Quoc"),
    ("островфукуок", "Phu Quoc"),
    ("phuquocisland", "Phu Quoc"),
    ("фантьет", "Phan Thiet"),
    ("фантхьет", "Phan Thiet"),
    ("муйне", "Phan Thiet"),
    ("фантьетмуйне", "Phan Thiet"),
    ("muine", "Phan Thiet"),
    ("хошимин", "Ho Chi Minh City"),
    ("хошимина", "Ho Chi Minh City"),
    ("hochiminh", "Ho Chi Minh City"),
    ("куинен", "Quy Nhon"),
    ("куинён", "Quy Nhon"),
    ("куинхон", "Quy Nhon"),
    ("халонг", "Ha Long"),
    ("халонгбей", "Ha Long"),
    ("нурсултан", "Astana"),
    ("усткаменогорск", "Oskemen"),
    ("устькаменогорск", "Oskemen"),
    ("уральск", "Oral"),
];

/// Lower case, `ё` → `е`, letters only: "о. Фукуок" → "офукуок".
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// The canonical (English) name of a place written any way we know: canonical, Russian,
/// Kazakh or a known variant ("о. Фукуок" → "Phu Quoc").
pub fn canonical(name: &str) -> Option<&'static str> {
    let folded = fold(name);
    if folded.is_empty() {
        return None;
    }
    NAMES
        .iter()
        .find(|(c, ru, kk)| fold(c) == folded || fold(ru) == folded || fold(kk) == folded)
        .map(|(c, _, _)| *c)
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| *alias == folded)
                .map(|(_, c)| *c)
        })
}

/// A place in `lang`, however it was written (canonical English from the analyser, or the
/// operator's Russian). A name we do not know is shown as given, except that Cyrillic is
/// transliterated for English readers.
pub fn place(name: &str, lang: Language) -> String {
    let found = canonical(name).and_then(|c| NAMES.iter().find(|(n, _, _)| *n == c));
    match (found, lang) {
        (Some((_, ru, _)), Language::Ru) => (*ru).to_owned(),
        (Some((_, _, kk)), Language::Kk) => (*kk).to_owned(),
        (Some((c, _, _)), Language::En) => (*c).to_owned(),
        (None, Language::En) => latin(name),
        (None, _) => name.to_owned(),
    }
}

/// Russian letters in Latin ones, for a name we have no English form of.
pub(crate) fn latin(name: &str) -> String {
    if !name.chars().any(is_cyrillic) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let t = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' => "i",
            'й' => "y",
            'к' | 'қ' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' | 'һ' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ә' => "a",
            'ю' => "yu",
            'я' => "ya",
            'ь' | 'ъ' => "",
            _ => {
                out.push(c);
                continue;
            }
        };
        if c.is_uppercase() {
            let mut chars = t.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(t);
        }
    }
    out
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Month names as a date is written in each language ("28 декабря", "28 желтоқсан",
/// "28 December").
fn month(m: u32, lang: Language) -> &'static str {
    const RU: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    const KK: [&str; 12] = [
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let i = (m.clamp(1, 12) - 1) as usize;
    match lang {
        Language::Ru => RU[i],
        Language::Kk => KK[i],
        Language::En => EN[i],
    }
}

/// One day: "28 декабря".
pub fn day(d: NaiveDate, lang: Language) -> String {
    format!("{} {}", d.day(), month(d.month(), lang))
}

/// A window of days: "26–30 декабря", "28 декабря – 3 января", or one day.
pub fn days(from: NaiveDate, to: NaiveDate, lang: Language) -> String {
    if to <= from {
        day(from, lang)
    } else if from.month() == to.month() && from.year() == to.year() {
        format!("{}–{} {}", from.day(), to.day(), month(to.month(), lang))
    } else {
        format!("{} – {}", day(from, lang), day(to, lang))
    }
}

/// An amount the local way: groups of three digits joined by no-break spaces, then the
/// currency sign ("1 234 567 ₸").
pub fn money(amount: u64, currency: &str) -> String {
    let digits = amount.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3 * 2 + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    let sign = match currency {
        "KZT" => "₸",
        "USD" => "$",
        "EUR" => "€",
        "RUB" => "₽",
        other => other,
    };
    format!("{grouped}\u{a0}{sign}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_by_thousands() {
        assert_eq!(money(1_234_567, "KZT"), "1\u{a0}234\u{a0}567\u{a0}₸");
        assert_eq!(money(999, "USD"), "999\u{a0}$");
        assert_eq!(money(1000, "XYZ"), "1\u{a0}000\u{a0}XYZ");
    }

    #[test]
    fn places_are_shown_in_the_customer_s_language() {
        assert_eq!(place("Nha Trang", Language::Ru), "Нячанг");
        assert_eq!(place("Karaganda", Language::Kk), "Қарағанды");
        assert_eq!(place("Nha Trang", Language::En), "Nha Trang");
        assert_eq!(place("Atlantis", Language::Ru), "Atlantis");
    }

    #[test]
    fn the_operator_s_russian_names_are_shown_in_english() {
        for (operator, en) in [
            ("Фукуок", "Phu Quoc"),
            ("о. Фукуок", "Phu Quoc"),
            ("НЯЧАНГ", "Nha Trang"),
            ("Камрань", "Cam Ranh"),
            ("Муйне", "Phan Thiet"),
            ("Анталья", "Antalya"),
            ("Шарм-эль-Шейх", "Sharm-el-Sheykh"),
        ] {
            assert_eq!(place(operator, Language::En), en, "{operator}");
        }
        assert_eq!(place("Фукуок", Language::Ru), "Фукуок");
        assert_eq!(place("Phu Quoc", Language::Kk), "Фукуок");
        assert_eq!(canonical("Дананг"), Some("Da Nang"));
        assert_eq!(canonical("Анталья"), None);
    }

    #[test]
    fn dates_read_as_words() {
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(days(d(12, 26), d(12, 30), Language::Ru), "26–30 декабря");
        assert_eq!(
            days(
                d(12, 30),
                NaiveDate::from_ymd_opt(2027, 1, 3).unwrap(),
                Language::En
            ),
            "30 December – 3 January"
        );
        assert_eq!(days(d(3, 5), d(3, 5), Language::Kk), "5 наурыз");
    }
}
