//! Places: Kazakhstan departure cities, destination countries and Vietnamese resorts.
//!
//! Names are matched as stems with a bounded case ending, so Russian ("из Шымкента",
//! "в Нячанге") and Kazakh ("Алматыдан", "Вьетнамға") forms need no separate entries.
//! The first mention of each kind wins ("Нячанг или Камрань" → Nha Trang); a departure city
//! marked as such ("из", "с", "from", Kazakh ablative "-дан/-нан/-тан") wins over a bare one.

use std::sync::LazyLock;

use super::Slots;
use super::lexicon::Lexicon;
use super::text::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    City(&'static str),
    Country(&'static str),
    Resort(&'static str),
}

use Place::{City, Country, Resort};

static PLACES: LazyLock<Lexicon<Place>> = LazyLock::new(|| {
    Lexicon::new(&[
        // Departure cities (canonical names per `docs/analysis.md`).
        (
            "алмат*5|алма ат*3|алмаата*3|almaty*3|almati|alma ata|almaata",
            City("Almaty"),
        ),
        (
            "астан*5|нур султан*4|нурсултан*4|нур султана|акмол*3|целиноград*3|astana*3|nur sultan*2|nursultan*2|akmola",
            City("Astana"),
        ),
        (
            "шымкент*4|чимкент*4|shymkent*2|chimkent|shimkent",
            City("Shymkent"),
        ),
        (
            "караганд*5|karaganda|karagandy|qaragandy",
            City("Karaganda"),
        ),
        (
            "актобе*4|актюбинск*3|aktobe|aqtobe|aktyubinsk",
            City("Aktobe"),
        ),
        ("актау*4|aktau|aqtau", City("Aktau")),
        ("атырау*4|гурьев*3|atyrau", City("Atyrau")),
        ("павлодар*4|pavlodar", City("Pavlodar")),
        (
            "усть каменогорск*3|устькаменогорск*3|оскемен*4|ust kamenogorsk|ustkamenogorsk|oskemen",
            City("Oskemen"),
        ),
        (
            "костана*5|кустана*5|kostanay|kostanai|qostanay",
            City("Kostanay"),
        ),
        ("тараз*4|джамбул*3|taraz", City("Taraz")),
        (
            "кызылорд*5|кзыл орд*3|kyzylorda|qyzylorda",
            City("Kyzylorda"),
        ),
        (
            "семей|семея|семее|семеем|семейден|семейге|семипалатинск*3|semey|semei|semipalatinsk",
            City("Semey"),
        ),
        ("уральск*3|орал|оралдан|оралга|uralsk|oral", City("Oral")),
        ("петропавл*6|petropavl*4", City("Petropavl")),
        (
            "туркестан*4|туркистан*4|turkistan|turkestan",
            City("Turkistan"),
        ),
        // Countries, with a few destinations that name them unambiguously.
        (
            "вьетнам*5|въетнам*5|ветнам*5|вьетнамм*4|vietnam*2|viet nam|вьет нам",
            Country("Vietnam"),
        ),
        (
            "турци*3|турц*3|туркия*4|turkey|turkiye|анталь*3|антали*3|antalya|алань*3|alanya|кемер*3|kemer|бодрум*3|bodrum|стамбул*3|istanbul|мармарис*3",
            Country("Turkey"),
        ),
        (
            "оаэ|баа|эмират*4|дубай*4|дубаи|дубае|dubai|uae|emirates|абу даби|abu dhabi|шардж*3|sharjah",
            Country("UAE"),
        ),
        (
            "египет*4|египт*4|egypt|мысыр*4|хургад*3|hurghada|шарм*6|sharm",
            Country("Egypt"),
        ),
        (
            "таиланд*4|тайланд*4|thailand|пхукет*3|phuket|паттай*3|pattaya|бангкок*3|bangkok|самуи|samui|краби|krabi",
            Country("Thailand"),
        ),
        (
            "китай*4|китая|китае|китаем|кытай*4|china|хайнан*3|hainan|санья|sanya",
            Country("China"),
        ),
        ("мальдив*4|maldiv*3", Country("Maldives")),
        (
            "шри ланк*3|шриланк*3|sri lanka|srilanka|цейлон*3|ceylon",
            Country("Sri Lanka"),
        ),
        ("индонез*4|indonesia|бали*3|bali", Country("Indonesia")),
        (
            "грузи*3|georgia|батуми|batumi|тбилиси|tbilisi",
            Country("Georgia"),
        ),
        (
            "малайзи*3|малази*3|malaysia|куала лумпур*3|kuala lumpur|лангкави|langkawi|пенанг|penang",
            Country("Malaysia"),
        ),
        ("катар*3|qatar|доха|doha", Country("Qatar")),
        // Vietnamese resorts: Russian spellings, Latin spellings and loose transliterations.
        (
            "нячанг*3|нячанк*3|ня чанг*3|нха чанг*3|нья чанг*3|нхачанг*3|нячан|nha trang|nhatrang|nyachang|nha chang",
            Resort("Nha Trang"),
        ),
        (
            "фукуок*3|фу куок*3|фукок*3|фу кок*3|фукуоке|phu quoc|phuquoc|fukuok|phu kuok|fu quoc",
            Resort("Phu Quoc"),
        ),
        ("дананг*3|да нанг*3|danang|da nang", Resort("Da Nang")),
        (
            "фантьет*3|фан тьет*3|фантхиет*3|фан тхиет*3|phan thiet|phanthiet|муйне|муй не|mui ne|muine",
            Resort("Phan Thiet"),
        ),
        ("ханой*3|ханое|ханоя|ханоем|hanoi|ha noi", Resort("Hanoi")),
        (
            "хошимин*3|хо ши мин*3|хо шимин*3|ho chi minh|hochiminh|ho chi minh city|hcmc|сайгон*3|saigon",
            Resort("Ho Chi Minh City"),
        ),
        ("халонг*3|ха лонг*3|halong|ha long", Resort("Ha Long")),
        ("далат*3|да лат*3|dalat|da lat", Resort("Da Lat")),
        ("хойан*3|хой ан*3|хоян*3|hoi an|hoian", Resort("Hoi An")),
        ("камран*3|кам рань|cam ranh|camranh", Resort("Cam Ranh")),
        (
            "куинен*3|куи нен*3|квинен*3|куиньон*3|quy nhon|quynhon|qui nhon",
            Resort("Quy Nhon"),
        ),
        ("вунгтау|вунг тау|vung tau|vungtau", Resort("Vung Tau")),
    ])
});

/// Words that make "в Алматы" a statement about where the office is, not a departure.
const OFFICE: &[&str] = &[
    "офис",
    "адрес",
    "находит",
    "филиал",
    "office",
    "address",
    "located",
    "кенсе",
    "мекенжай",
];

/// Fills departure city, country and resort; marks the matched words in `known` (so a
/// capitalised place is never taken for a name). Returns the other resorts named, in order
/// and without repeats ("Нячанг или Камрань" → resort Nha Trang, and `["Cam Ranh"]`).
pub(crate) fn extract(t: &Text, known: &mut [bool], slots: &mut Slots) -> Vec<String> {
    let mut others: Vec<&'static str> = Vec::new();
    let office = t.any_starts(OFFICE);
    let (mut city_any, mut city_marked) = (None, None);
    let (mut country, mut resort) = (None, None);
    for h in PLACES.scan_fuzzy(t) {
        for k in known.iter_mut().take(h.end).skip(h.start) {
            *k = true;
        }
        let prev = t.w(h.start.wrapping_sub(1));
        // "не в Турцию", "кроме Египта", "not to Egypt": a place the customer rules out.
        let negator = |w: &str| matches!(w, "не" | "not" | "кроме" | "except" | "без" | "no");
        let preposition = matches!(prev, "в" | "во" | "на" | "to" | "in" | "из" | "from");
        if negator(prev) || (preposition && negator(t.w(h.start.wrapping_sub(2)))) {
            continue;
        }
        match h.val {
            // "Air Astana" is the airline.
            City(_) if matches!(prev, "air" | "эйр") => continue,
            City(c) => {
                if office && matches!(prev, "в" | "во" | "in" | "at") {
                    continue;
                }
                let marked = matches!(prev, "из" | "с" | "со" | "from" | "ex" | "вылет")
                    || has_kk_ablative(t.w(h.end - 1));
                if marked && city_marked.is_none() {
                    city_marked = Some(c);
                }
                city_any.get_or_insert(c);
            }
            Country(c) => {
                country.get_or_insert(c);
            }
            Resort(r) => {
                if resort.is_some_and(|first| first != r) && !others.contains(&r) {
                    others.push(r);
                }
                resort.get_or_insert(r);
                country.get_or_insert("Vietnam");
            }
        }
    }
    slots.departure_city = city_marked.or(city_any).map(str::to_string);
    slots.country = country.map(str::to_string);
    slots.resort = resort.map(str::to_string);
    others.into_iter().map(str::to_string).collect()
}

/// Kazakh ablative case ("from"): Алматыдан, Шымкенттен, Астанадан.
fn has_kk_ablative(w: &str) -> bool {
    w.chars().count() > 5
        && ["дан", "ден", "тан", "тен", "нан", "нен"]
            .iter()
            .any(|s| w.ends_with(s))
}

/// Whether word `i` is (part of) a place name: names of places are never customer names.
pub(crate) fn is_place_word(t: &Text, i: usize) -> bool {
    PLACES.at(t, i).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Slots {
        let t = Text::new(s);
        let mut known = vec![false; t.len()];
        let mut slots = Slots::default();
        extract(&t, &mut known, &mut slots);
        slots
    }

    #[test]
    fn cities_in_case_forms() {
        for (s, c) in [
            ("из Алматы", "Almaty"),
            ("с Астаны", "Astana"),
            ("Нур-Султан", "Astana"),
            ("Нурсултаннан", "Astana"),
            ("Алма-Ата", "Almaty"),
            ("из Усть-Каменогорска", "Oskemen"),
            ("Өскеменнен", "Oskemen"),
            ("из Уральска", "Oral"),
            ("Семипалатинск", "Semey"),
            ("из Петропавловска", "Petropavl"),
            ("Қарағандыдан", "Karaganda"),
            ("из Шымкента", "Shymkent"),
            ("Шымкенттен", "Shymkent"),
            ("from Ust-Kamenogorsk", "Oskemen"),
            ("из Кызылорды", "Kyzylorda"),
            ("Ақтөбеден", "Aktobe"),
            ("Қостанайдан", "Kostanay"),
        ] {
            assert_eq!(run(s).departure_city.as_deref(), Some(c), "{s}");
        }
    }

    #[test]
    fn countries_and_resorts() {
        for (s, c, r) in [
            ("во Вьетнам", "Vietnam", None),
            ("Вьетнамға", "Vietnam", None),
            ("в Турцию", "Turkey", None),
            ("в Дубай", "UAE", None),
            ("на Бали", "Indonesia", None),
            ("Шри-Ланка", "Sri Lanka", None),
            ("в Нячанге", "Vietnam", Some("Nha Trang")),
            ("Nhatrang", "Vietnam", Some("Nha Trang")),
            ("Фу Куок", "Vietnam", Some("Phu Quoc")),
            ("Mui Ne", "Vietnam", Some("Phan Thiet")),
            ("в Сайгон", "Vietnam", Some("Ho Chi Minh City")),
            ("Ho Chi Minh City", "Vietnam", Some("Ho Chi Minh City")),
            ("Куинён", "Vietnam", Some("Quy Nhon")),
            ("Нячанг или Камрань", "Vietnam", Some("Nha Trang")),
        ] {
            let slots = run(s);
            assert_eq!(slots.country.as_deref(), Some(c), "{s}");
            assert_eq!(slots.resort.as_deref(), r, "{s}");
        }
        assert_eq!(
            run("не в Турцию, а в Египет").country.as_deref(),
            Some("Egypt")
        );
    }

    #[test]
    fn marked_departure_wins() {
        assert_eq!(
            run("в Алматы из Астаны").departure_city.as_deref(),
            Some("Astana")
        );
    }
}
