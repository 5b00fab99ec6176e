//! From the analyser's canonical values ("Almaty", "Nha Trang", "AI", "KZT") to the names an
//! operator may use for them. Ids are never written here — every operator numbers its own
//! dictionaries — only spellings: Russian, English, Kazakh, old names and common variants.
//!
//! Names are compared after [`normalise`]: lower case, ё → е, Kazakh letters folded to their
//! Russian look-alikes, punctuation as spaces. A place matches when one of its spellings
//! appears as whole words in the operator's name ("Хошимин (Сайгон)" is Ho Chi Minh City);
//! a meal matches on its code as the first word or a whole-name phrase.

/// Lower case, `ё`→`е`, Kazakh letters folded (`қ`→`к`, `ө`→`о`…), anything that is not a
/// letter or digit as one space.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = true;
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            'қ' => 'к',
            'ғ' => 'г',
            'ү' | 'ұ' => 'у',
            'ө' => 'о',
            'ә' => 'а',
            'і' => 'и',
            'ң' => 'н',
            'һ' => 'х',
            c => c,
        };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether `needle` (normalised) appears in `hay` (normalised) as whole words.
pub fn has_words(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(at, _)| {
        let before = at == 0 || hay.as_bytes()[at - 1] == b' ';
        let end = at + needle.len();
        let after = end == hay.len() || hay.as_bytes()[end] == b' ';
        before && after
    })
}

/// The kinds of names the engine maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DepartureCity,
    Country,
    Resort,
    Meal,
    Currency,
}

/// Every spelling of `canonical` (normalised, canonical first). A value with no table entry
/// is matched by its own name only.
pub fn spellings(kind: Kind, canonical: &str) -> Vec<String> {
    let table = match kind {
        Kind::DepartureCity => CITIES,
        Kind::Country => COUNTRIES,
        Kind::Resort => RESORTS,
        Kind::Meal => MEALS,
        Kind::Currency => CURRENCIES,
    };
    let wanted = normalise(canonical);
    let mut all = vec![wanted.clone()];
    if let Some((_, names)) = table.iter().find(|(c, _)| normalise(c) == wanted) {
        all.extend(names.iter().map(|n| normalise(n)));
    }
    all.dedup();
    all
}

/// The canonical name ("Nha Trang") of the place an operator calls `operator_name`
/// ("Нячанг", "Муйне"), matched by its own name or, failing that, by `region`; `None` when
/// it is not one we know.
pub fn canonical(kind: Kind, operator_name: &str, region: Option<&str>) -> Option<&'static str> {
    let table = match kind {
        Kind::DepartureCity => CITIES,
        Kind::Country => COUNTRIES,
        Kind::Resort => RESORTS,
        Kind::Meal => MEALS,
        Kind::Currency => CURRENCIES,
    };
    let find = |name: &str| {
        let name = normalise(name);
        table
            .iter()
            .find(|(c, _)| place_matches(&name, &spellings(kind, c)))
            .map(|(c, _)| *c)
    };
    find(operator_name).or_else(|| region.and_then(find))
}

/// Every spelling of every departure city, country and resort in the tables, canonical names
/// included (to tell place words from the distinctive words of a hotel's name).
pub fn place_spellings() -> impl Iterator<Item = &'static str> {
    [CITIES, COUNTRIES, RESORTS].into_iter().flat_map(|table| {
        table
            .iter()
            .flat_map(|(canonical, names)| std::iter::once(*canonical).chain(names.iter().copied()))
    })
}

/// Whether an operator's (normalised) name is one of `spellings` of a place.
pub fn place_matches(name: &str, spellings: &[String]) -> bool {
    spellings.iter().any(|s| has_words(name, s))
}

/// Whether an operator's (normalised) meal name is one of `spellings` of a meal code: the
/// code as its first word ("AI", "BB - завтрак", "HB+") or one of its phrases as the whole
/// name ("Завтрак").
pub fn meal_matches(name: &str, spellings: &[String]) -> bool {
    let first = name.split(' ').next().unwrap_or_default();
    spellings.first().is_some_and(|code| first == code) || spellings.iter().any(|s| s == name)
}

const CITIES: &[(&str, &[&str])] = &[
    (
        "Almaty",
        &["Алматы", "Алма-Ата", "Алмааты", "Alma-Ata", "Almaty"],
    ),
    (
        "Astana",
        &[
            "Астана",
            "Нур-Султан",
            "Нурсултан",
            "Акмола",
            "Целиноград",
            "Nur-Sultan",
            "Nursultan",
        ],
    ),
    ("Shymkent", &["Шымкент", "Чимкент", "Chimkent"]),
    ("Karaganda", &["Караганда", "Қарағанды", "Karagandy"]),
    ("Aktobe", &["Актобе", "Ақтөбе", "Актюбинск", "Aktyubinsk"]),
    ("Aktau", &["Актау", "Ақтау"]),
    ("Atyrau", &["Атырау", "Гурьев"]),
    ("Pavlodar", &["Павлодар"]),
    (
        "Oskemen",
        &["Усть-Каменогорск", "Өскемен", "Оскемен", "Ust-Kamenogorsk"],
    ),
    (
        "Kostanay",
        &["Костанай", "Қостанай", "Кустанай", "Kostanai"],
    ),
    ("Taraz", &["Тараз", "Джамбул", "Жамбыл"]),
    ("Kyzylorda", &["Кызылорда", "Қызылорда"]),
    ("Semey", &["Семей", "Семипалатинск", "Semipalatinsk"]),
    ("Oral", &["Уральск", "Орал", "Uralsk"]),
    (
        "Petropavl",
        &["Петропавловск", "Петропавл", "Petropavlovsk"],
    ),
    ("Turkistan", &["Туркестан", "Түркістан", "Turkestan"]),
];

const COUNTRIES: &[(&str, &[&str])] = &[
    ("Vietnam", &["Вьетнам", "Viet Nam", "VN", "VNM"]),
    ("Turkey", &["Турция", "Türkiye", "Turkiye", "TR", "TUR"]),
    (
        "UAE",
        &[
            "ОАЭ",
            "Объединенные Арабские Эмираты",
            "United Arab Emirates",
            "AE",
            "ARE",
        ],
    ),
    ("Egypt", &["Египет", "EG", "EGY"]),
    ("Thailand", &["Таиланд", "Тайланд", "TH", "THA"]),
    ("China", &["Китай", "CN", "CHN"]),
    (
        "Maldives",
        &["Мальдивы", "Мальдивские острова", "MV", "MDV"],
    ),
    ("Sri Lanka", &["Шри-Ланка", "LK", "LKA"]),
    ("Indonesia", &["Индонезия", "Бали", "ID", "IDN"]),
    ("Georgia", &["Грузия", "GE", "GEO"]),
    ("Malaysia", &["Малайзия", "MY", "MYS"]),
    ("Qatar", &["Катар", "QA", "QAT"]),
];

const RESORTS: &[(&str, &[&str])] = &[
    (
        "Nha Trang",
        &[
            "Нячанг",
            "Нья Чанг",
            "Ня Чанг",
            "Нха Чанг",
            "Нхачанг",
            "Nhatrang",
        ],
    ),
    ("Phu Quoc", &["Фукуок", "Фу Куок", "Фукок", "Phuquoc"]),
    ("Da Nang", &["Дананг", "Да Нанг", "Danang"]),
    (
        "Phan Thiet",
        &[
            "Фантьет",
            "Фан Тьет",
            "Фантхиет",
            "Фан Тхиет",
            "Муйне",
            "Муй Не",
            "Mui Ne",
            "Muine",
            "Phanthiet",
        ],
    ),
    ("Hanoi", &["Ханой", "Ha Noi"]),
    (
        "Ho Chi Minh City",
        &[
            "Хошимин",
            "Хо Ши Мин",
            "Хо Ши Мин Сити",
            "Сайгон",
            "Ho Chi Minh",
            "Saigon",
            "HCMC",
        ],
    ),
    ("Ha Long", &["Халонг", "Ха Лонг", "Halong"]),
    ("Da Lat", &["Далат", "Да Лат", "Dalat"]),
    ("Hoi An", &["Хойан", "Хой Ан", "Hoian"]),
    ("Cam Ranh", &["Камрань", "Кам Рань", "Camranh"]),
    (
        "Quy Nhon",
        &[
            "Куинён",
            "Куи Нён",
            "Квинён",
            "Куиньон",
            "Qui Nhon",
            "Quynhon",
        ],
    ),
    ("Vung Tau", &["Вунгтау", "Вунг Тау", "Vungtau"]),
];

/// Meal codes first (matched as the first word), then whole-name phrases.
const MEALS: &[(&str, &[&str])] = &[
    ("AI", &["All Inclusive", "Все включено", "Всё включено"]),
    (
        "BB",
        &["Bed and Breakfast", "Breakfast", "Завтрак", "Завтраки"],
    ),
    (
        "HB",
        &[
            "Half Board",
            "Полупансион",
            "Завтрак и ужин",
            "Завтраки и ужины",
        ],
    ),
    ("FB", &["Full Board", "Полный пансион"]),
    ("RO", &["OB", "Room Only", "Only Bed", "Без питания"]),
];

const CURRENCIES: &[(&str, &[&str])] = &[
    ("KZT", &["Тенге", "тг", "₸"]),
    ("USD", &["Доллар США", "Доллар", "$", "US Dollar"]),
    ("EUR", &["Евро", "Euro", "€"]),
    ("RUB", &["Рубль", "Российский рубль", "руб", "RUR"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn place(kind: Kind, canonical: &str, operator_name: &str) -> bool {
        place_matches(&normalise(operator_name), &spellings(kind, canonical))
    }

    #[test]
    fn normalising_folds_case_yo_kazakh_letters_and_punctuation() {
        assert_eq!(normalise("  Алма-Ата "), "алма ата");
        assert_eq!(normalise("Куинён"), "куинен");
        assert_eq!(normalise("Қарағанды"), "караганды");
        assert_eq!(normalise("Хошимин (Сайгон)"), "хошимин сайгон");
    }

    #[test]
    fn departure_cities_in_any_spelling() {
        for name in ["Алматы", "АЛМАТЫ", "Алма-Ата", "Almaty", "almaty"] {
            assert!(place(Kind::DepartureCity, "Almaty", name), "{name}");
        }
        for name in ["Астана", "Нур-Султан", "Nur-Sultan", "Astana"] {
            assert!(place(Kind::DepartureCity, "Astana", name), "{name}");
        }
        assert!(place(Kind::DepartureCity, "Oskemen", "Усть-Каменогорск"));
        assert!(!place(Kind::DepartureCity, "Almaty", "Астана"));
    }

    #[test]
    fn resorts_in_any_spelling_and_old_names() {
        for name in ["Нячанг", "Нья Чанг", "Nha Trang", "Нячанг (Кханьхоа)"]
        {
            assert!(place(Kind::Resort, "Nha Trang", name), "{name}");
        }
        for name in ["Фантьет", "Муйне", "Mui Ne", "Phan Thiet"] {
            assert!(place(Kind::Resort, "Phan Thiet", name), "{name}");
        }
        for name in ["Хошимин", "Сайгон", "Ho Chi Minh City", "Хо Ши Мин"] {
            assert!(place(Kind::Resort, "Ho Chi Minh City", name), "{name}");
        }
        assert!(place(Kind::Resort, "Phu Quoc", "Фукуок"));
        assert!(place(Kind::Resort, "Cam Ranh", "Камрань"));
        assert!(place(Kind::Resort, "Quy Nhon", "Куинен"));
        assert!(place(Kind::Resort, "Da Nang", "Дананг"));
        assert!(!place(Kind::Resort, "Nha Trang", "Камрань"));
        assert!(!place(Kind::Resort, "Da Lat", "Далатская"));
    }

    #[test]
    fn operator_names_back_to_canonical_ones() {
        assert_eq!(canonical(Kind::Resort, "Нячанг", None), Some("Nha Trang"));
        assert_eq!(
            canonical(Kind::Resort, "Муйне", Some("Фантьет")),
            Some("Phan Thiet")
        );
        assert_eq!(
            canonical(Kind::Resort, "Бай Дай", Some("Фукуок")),
            Some("Phu Quoc")
        );
        assert_eq!(canonical(Kind::Resort, "Анталья", None), None);
        assert_eq!(canonical(Kind::Country, "Вьетнам", None), Some("Vietnam"));
        assert_eq!(
            canonical(Kind::DepartureCity, "Нур-Султан", None),
            Some("Astana")
        );
    }

    #[test]
    fn countries_by_name_or_iso_code() {
        assert!(place(Kind::Country, "Vietnam", "Вьетнам"));
        assert!(place(Kind::Country, "Vietnam", "VN"));
        assert!(!place(Kind::Country, "Vietnam", "Таиланд"));
    }

    #[test]
    fn meals_by_code_or_phrase() {
        let meal =
            |code: &str, name: &str| meal_matches(&normalise(name), &spellings(Kind::Meal, code));
        assert!(meal("AI", "AI"));
        assert!(meal("AI", "AI (All Inclusive)"));
        assert!(meal("AI", "Всё включено"));
        assert!(!meal("AI", "UAI"));
        assert!(meal("BB", "BB - завтрак"));
        assert!(meal("HB", "HB+"));
        assert!(!meal("BB", "HB (завтрак и ужин)"));
        assert!(meal("RO", "OB"));
    }
}
