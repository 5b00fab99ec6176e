//! Language: ru, kk or en, by counting words.
//!
//! Latin words against Cyrillic ones decide English (place names and contacts do not
//! count, so "Хотим в Nha Trang" stays Russian). Among Cyrillic messages, Kazakh wins when
//! words with Kazakh letters or common Kazakh words (also typed without the special
//! letters: "рахмет", "керек", "бар ма") are at least as many as Russian function words.

use super::Language;
use super::text::Text;

/// Frequent Kazakh words that have no Kazakh-only letter (folded forms).
const KK_WORDS: &[&str] = &[
    "рахмет",
    "ракмет",
    "керек",
    "ма",
    "ме",
    "ба",
    "бе",
    "па",
    "пе",
    "мен",
    "биз",
    "сиз",
    "сизге",
    "бизге",
    "жане",
    "ушин",
    "туралы",
    "бала",
    "балам",
    "баламен",
    "балалар",
    "ересек",
    "салем",
    "салеметсиз",
    "салеметсизбе",
    "саламатсыз",
    "кандай",
    "калай",
    "канша",
    "кашан",
    "кайда",
    "бар",
    "жок",
    "иа",
    "ия",
    "жаксы",
    "болады",
    "келеди",
    "барамыз",
    "барайык",
    "жаста",
    "жылы",
    "айында",
    "керекпе",
    "сау",
    "болыныз",
    "жибериниз",
    "беринизши",
    "маган",
    "бизди",
    "аламыз",
    "отбасы",
    "демалыс",
    "кун",
    "тун",
    "апта",
    "аптага",
    "нускалар",
    "немесе",
    "бирак",
    "тагы",
    "емес",
    "болса",
    "бизде",
    "сизде",
    "жазда",
    "кыста",
    "кузде",
    "коктемде",
];

/// Russian words typed in Latin letters ("privet, hotim v nyachang"): they count as Russian.
const RU_TRANSLIT: &[&str] = &[
    "privet",
    "zdravstvuite",
    "zdravstvuyte",
    "zdrasti",
    "dobryi",
    "dobriy",
    "hotim",
    "hochu",
    "hotela",
    "nas",
    "nam",
    "mne",
    "v",
    "na",
    "iz",
    "s",
    "dvoe",
    "troe",
    "vzroslyh",
    "vzroslykh",
    "vzroslih",
    "vzr",
    "detei",
    "detey",
    "deti",
    "rebenok",
    "rebenka",
    "nochei",
    "nochey",
    "noch",
    "dnei",
    "dney",
    "spasibo",
    "pozhaluista",
    "pozhaluysta",
    "pozhalujsta",
    "tur",
    "tury",
    "skolko",
    "stoit",
    "est",
    "mozhno",
    "nuzhen",
    "nuzhno",
    "budet",
    "budem",
    "leto",
    "letom",
    "yanvar",
    "yanvare",
    "yanvarya",
    "fevral",
    "fevrale",
    "marte",
    "aprele",
    "mae",
    "iyune",
    "iyule",
    "avguste",
    "sentyabre",
    "oktyabre",
    "noyabre",
    "dekabre",
    "dekabrya",
    "byudzhet",
    "budzhet",
    "tysyach",
    "tys",
    "variant",
    "varianty",
    "poedem",
    "letim",
    "otdyh",
    "otdyhat",
    "ili",
    "po",
    "dlya",
];

/// Frequent Russian words (folded) that Kazakh does not use.
const RU_WORDS: &[&str] = &[
    "и",
    "в",
    "во",
    "на",
    "с",
    "со",
    "из",
    "по",
    "до",
    "от",
    "за",
    "для",
    "не",
    "нет",
    "да",
    "как",
    "что",
    "это",
    "мы",
    "нас",
    "нам",
    "я",
    "мне",
    "меня",
    "вы",
    "вас",
    "вам",
    "хочу",
    "хотим",
    "есть",
    "можно",
    "нужно",
    "нужен",
    "нужна",
    "какой",
    "какая",
    "сколько",
    "где",
    "когда",
    "или",
    "еще",
    "уже",
    "пожалуйста",
    "здравствуйте",
    "спасибо",
    "привет",
    "добрый",
    "день",
    "вечер",
    "тур",
    "туры",
    "ли",
    "а",
    "но",
    "бы",
    "ночей",
    "взрослых",
];

/// Kazakh personal endings typed without Kazakh letters ("брондаймыз", "барасыз"); no
/// Russian word ends so.
fn kk_ending(w: &str) -> bool {
    let n = w.chars().count();
    (n > 4
        && ["мыз", "миз", "сыз", "сиз", "пыз", "быз"]
            .iter()
            .any(|e| w.ends_with(e)))
        // "балалармен", "досыммен": the Kazakh "with".
        || (n > 6 && ["мен", "пен", "бен"].iter().any(|e| w.ends_with(e)))
}

/// The main language of the message; `ignore(i)` marks words that say nothing about it
/// (place names, e-mails, phone digits). The flag is false when nothing but such words (or
/// Cyrillic words common to Russian and Kazakh) was there to go on: "10", "Нячанг".
pub(crate) fn detect(t: &Text, ignore: &dyn Fn(usize) -> bool) -> (Language, bool) {
    let (mut latin, mut cyr, mut kk, mut ru) = (0usize, 0usize, 0usize, 0usize);
    let (mut latin_all, mut cyr_all) = (0usize, 0usize);
    let cyrillic = t.words.iter().enumerate().any(|(i, w)| w.cyr && !ignore(i));
    for (i, w) in t.words.iter().enumerate() {
        latin_all += usize::from(w.latin);
        cyr_all += usize::from(w.cyr);
        if ignore(i) {
            continue;
        }
        if w.latin {
            // "берем Red Dune", "Нячанг, Vinpearl": a capitalised Latin word that does not
            // open the message or a sentence is a name, not English.
            let opens = i == 0 || t.gap(i).punct.contains(['.', '!', '?']);
            if w.cap && !opens && (cyrillic || t.len() > 1) {
                continue;
            }
            // "privet, hotim v nyachang": Russian in Latin letters.
            if RU_TRANSLIT.contains(&w.fold.as_str()) {
                cyr += 1;
                ru += 1;
                continue;
            }
            latin += 1;
        } else if w.cyr {
            cyr += 1;
            if w.kk || KK_WORDS.contains(&w.fold.as_str()) || kk_ending(&w.fold) {
                kk += 1;
            } else if RU_WORDS.contains(&w.fold.as_str()) {
                ru += 1;
            }
        }
    }
    let sure = latin > 0 || kk > 0 || ru > 0;
    if latin + cyr == 0 {
        // Only names, numbers or emoji: fall back to the script of whatever is there.
        (latin, cyr) = (latin_all, cyr_all);
        kk = t.words.iter().filter(|w| w.kk).count();
    }
    let language = if latin > cyr {
        Language::En
    } else if cyr == 0 {
        Language::Ru
    } else if kk > 0 && kk >= ru {
        Language::Kk
    } else {
        Language::Ru
    };
    (language, sure)
}
