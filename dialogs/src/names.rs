//! Place names as a customer reads them. The analyser's canonical values are English
//! ("Almaty", "Nha Trang"); replies show them in the customer's language, in the nominative
//! (templates are written so no declension is needed: "Вылет: Алматы").

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

/// `canonical` in `lang` (`ru`, `kk`, `en`); a name we do not know is shown as given.
pub fn place(canonical: &str, lang: &str) -> String {
    let found = NAMES.iter().find(|(c, _, _)| *c == canonical);
    match (found, lang) {
        (Some((_, ru, _)), "ru") => (*ru).to_owned(),
        (Some((_, _, kk)), "kk") => (*kk).to_owned(),
        _ => canonical.to_owned(),
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
        assert_eq!(place("Nha Trang", "ru"), "Нячанг");
        assert_eq!(place("Karaganda", "kk"), "Қарағанды");
        assert_eq!(place("Nha Trang", "en"), "Nha Trang");
        assert_eq!(place("Atlantis", "ru"), "Atlantis");
    }
}
