//! Rules-based message analysis: one customer message → intent, language and tour-search
//! slots, per the contract in `docs/analysis.md`. No I/O, no network, no model; deterministic.
//!
//! Pipeline of [`analyze`]:
//! 1. `text` tokenises and folds the message (case, `ё`, Kazakh letters, diacritics) into
//!    words with the punctuation between them.
//! 2. Extractors run in a fixed order and claim the words they explain, so a later one does
//!    not reinterpret them: `contacts` (phone, e-mail) → `places` → `dates` (nights,
//!    then dates) → `hotel` (stars, meal) → `party` → `money` → the customer's name.
//! 3. `language` counts words per language; `hints` finds "more"/"cheaper"/a chosen
//!    offer; `intent` weighs cue phrases together with the slots found.
//!
//! Lexicons are compiled once (`LazyLock`); a call allocates only small vectors and strings.

mod contacts;
mod dates;
mod hints;
mod hotel;
mod intent;
mod language;
mod lexicon;
mod money;
mod party;
mod places;
mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use text::Text;

/// What the customer wants with this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Only greets or opens the chat.
    Greeting,
    /// Wants tour options or gives/changes search parameters.
    TourSearch,
    /// Wants to book, reserve or pay for a tour or a shown option.
    BookingRequest,
    /// Asks for a live person or a call back (also: leaves contact details to be called).
    HumanRequest,
    /// Is unhappy or reports a problem.
    Complaint,
    /// Asks a general question: visa, documents, weather, baggage, insurance, payment, office.
    Faq,
    /// Thanks or says goodbye.
    ThanksBye,
    /// Anything else: spam, unrelated talk.
    Other,
}

/// The main language of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Ru,
    Kk,
    En,
}

/// Tour-search parameters stated in a message. Every field is optional; serialises exactly
/// as `docs/analysis.md` (absent fields omitted, never null; `child_ages` omitted when empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Slots {
    /// English name of a Kazakhstan city ("Almaty", "Oskemen").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_city: Option<String>,
    /// English country name ("Vietnam", "UAE"); Vietnam also when only a resort is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Vietnamese resort ("Nha Trang", "Phan Thiet").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resort: Option<String>,
    /// First day of the departure window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_from: Option<NaiveDate>,
    /// Last day of the departure window (equal to `date_from` for one day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_to: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nights_from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nights_to: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adults: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<u32>,
    /// Children's ages in the order given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child_ages: Vec<u32>,
    /// Upper budget in whole units of `currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_max: Option<u64>,
    /// "KZT", "USD", "EUR" or "RUB"; present only with a budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Least hotel category, 1–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stars: Option<u8>,
    /// "AI", "BB", "HB", "FB" or "RO".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meal: Option<String>,
    /// E.164 ("+77011234567").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Lower case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The customer's own name as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Slots {
    /// Fields present in `newer` overwrite ours (a dialog keeps slots across messages and
    /// accepts changes). Two fields follow their owners: a new child count without ages
    /// drops the old ages, and a new non-Vietnam country without a resort drops the old
    /// (Vietnamese) resort.
    pub fn merge(&mut self, newer: &Slots) {
        macro_rules! take {
            ($($f:ident),*) => { $( if newer.$f.is_some() { self.$f = newer.$f.clone(); } )* };
        }
        if newer.children.is_some()
            && newer.children != self.children
            && newer.child_ages.is_empty()
        {
            self.child_ages.clear();
        }
        if newer.resort.is_none() && newer.country.as_deref().is_some_and(|c| c != "Vietnam") {
            self.resort = None;
        }
        take!(
            departure_city,
            country,
            resort,
            date_from,
            date_to,
            nights_from,
            nights_to,
            adults,
            children,
            budget_max,
            currency,
            stars,
            meal,
            phone,
            email,
            name
        );
        if !newer.child_ages.is_empty() {
            self.child_ages = newer.child_ages.clone();
        }
    }

    /// No field is set.
    pub fn is_empty(&self) -> bool {
        *self == Slots::default()
    }
}

/// What the dialog needs to know beyond the SCHEMA slots: what a message says about offers
/// already shown, questions, alternatives and scope. Not part of the SCHEMA output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hints {
    /// Asks for more/other/next offers ("ещё варианты", "more options", "келесі").
    pub more: bool,
    /// Picks an offer by its 1-based position ("второй", "бронируем 2", "the first option",
    /// "ok book option 1"). Never set for a question about an offer (see `question`).
    pub choice: Option<u32>,
    /// Asks for cheaper offers ("подешевле", "cheaper", "арзанырақ").
    pub cheaper: bool,
    /// The message asks something (rather than choosing or answering): what about, and which
    /// offer on screen when it names one ("а первый отель какой там пляж?").
    pub question: Option<Question>,
    /// Resorts named as alternatives to `slots.resort`, canonical names, in the order given:
    /// "Нячанг или Камрань" → `slots.resort` = Nha Trang, here `["Cam Ranh"]`.
    pub resort_alternatives: Vec<String>,
    /// The dates were a from–to range ("с 20 по 30 января", "20-30 jan"): its two ends.
    /// SCHEMA reads such a range as a departure day plus a number of nights; the dialog may
    /// search it as a window of departure days instead (when nights are known otherwise).
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// The departure date was approximate ("around the 20th", "числа 20-го", "примерно").
    pub date_approximate: bool,
    /// The message asks for something that is not a package tour search.
    pub scope: Option<OutOfScope>,
    /// Points at offers the agency sent before ("который вчера скидывали", "the one you sent
    /// me", "сіз жіберген"), with no number: the dialog finds them on screen, or says it has
    /// none in this chat.
    pub earlier: bool,
    /// People joining a party given before, with no new count: "с нами ещё мама поедет",
    /// "my sister is coming too" → `Some(1)` (adults added to what the customer said).
    pub joining: Option<u32>,
}

/// A question the customer asks, as opposed to a choice or an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Question {
    pub topic: QuestionTopic,
    /// The offer on screen it is about, by its 1-based position ("первый", "второй отель",
    /// "option 2"), when it names one.
    pub offer: Option<u32>,
}

/// What a question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionTopic {
    /// The beach, the sea, the distance to it ("ближе к морю", "какой там пляж", "1st line").
    Beach,
    /// How much: a price, the cheapest, the total ("сколько стоит", "how much is the cheapest").
    Price,
    /// What the price includes ("что входит в цену", "перелет включен?").
    Included,
    /// Prepayment, instalments, how and when to pay ("а предоплата сколько?").
    Payment,
    /// The meals of an offer or hotel.
    Meal,
    /// The room of an offer.
    Room,
    /// The flight of an offer: dates, times, airline, baggage.
    Flight,
    /// Whether places are confirmed or on request.
    Availability,
    /// Which is better, of resorts or hotels ("куда лучше — Нячанг или Фукуок?").
    Compare,
    /// Anything else about a hotel ("расскажите про отель", "есть бассейн?", "wifi?").
    Hotel,
}

/// Requests outside what the bot sells (package tours); the dialog answers them honestly
/// rather than recording them as search parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutOfScope {
    /// Only plane tickets, no package ("только авиабилеты", "flight only").
    FlightsOnly,
    /// Only a hotel, no flight ("только отель без перелета").
    HotelOnly,
    /// An earlier purchase or an existing booking ("я у вас в ноябре покупала тур", "моя
    /// заявка", "когда придут документы"): a manager's matter.
    ExistingBooking,
}

/// The analysis of one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub intent: Intent,
    pub language: Language,
    /// Words of the language were seen; false for "10" or a bare place name, where a dialog
    /// should keep the language the customer has been using.
    #[serde(skip)]
    pub language_sure: bool,
    pub slots: Slots,
    /// Offer navigation for the dialog layer; skipped in the SCHEMA output.
    #[serde(skip)]
    pub hints: Hints,
}

/// Analyses one message; `today` anchors relative and year-less dates. Never panics.
pub fn analyze(text: &str, today: NaiveDate) -> Analysis {
    let t = Text::new(text);
    let n = t.len();
    // `used`: numbers (and their units) already explained; `known`: words of the domain
    // vocabulary that cannot be a name and say nothing about the language.
    let mut used = vec![false; n];
    let mut known = vec![false; n];
    let mut slots = Slots::default();

    let contact_words = contacts::extract(&t, &mut used, &mut slots);
    let resort_alternatives = places::extract(&t, &mut known, &mut slots);
    let cues = intent::count(&t);
    let has_slots = intent::search_slot_count(&slots) > 0;
    let travel = dates::Travel {
        certain: cues.travel() || has_slots,
        possible: cues.maybe_travel() || has_slots,
    };
    let date_notes = dates::extract(&t, today, travel, &mut used, &mut slots);
    hotel::extract(&t, &mut used, &mut known, &mut slots);
    party::extract(&t, &mut used, &mut slots);
    money::extract(&t, &mut used, &mut slots);
    let stop = |i: usize| known.get(i).copied().unwrap_or(true) || is_stop_word(&t, i);
    slots.name = contacts::name(&t, &contact_words, &stop);

    // Search parameters besides places and the hotel's own features ("завтрак включён в
    // первом?" asks about a meal, it does not ask for one).
    let search_slots = intent::search_slot_count(&slots)
        > usize::from(slots.country.is_some())
            + usize::from(slots.resort.is_some())
            + usize::from(slots.departure_city.is_some())
            + usize::from(slots.meal.is_some())
            + usize::from(slots.stars.is_some());
    let places = slots.country.is_some() || slots.departure_city.is_some();
    let mut hints = hints::detect(&t, &used, search_slots, places);
    hints.date_range = date_notes.range;
    hints.date_approximate = date_notes.approximate && slots.date_from.is_some();
    hints.resort_alternatives = resort_alternatives;
    if slots.adults.is_some() || slots.children.is_some() {
        hints.joining = None;
    }
    // "is breakfast included in the first hotel?": the meal is asked about, not wished for.
    if hints
        .question
        .is_some_and(|q| q.topic == QuestionTopic::Included)
    {
        slots.meal = None;
    }
    let in_contact = |i: usize| contact_words.iter().any(|r| r.contains(&i));
    let (language, language_sure) = language::detect(&t, &|i| {
        known.get(i).copied().unwrap_or(false) || in_contact(i)
    });
    let intent = intent::classify(&t, &cues, &slots, &hints);
    // "я у вас брала тур в октябре, хотела бы снова": a returning customer's new search
    // ("хочу уточнить время вылета" about the tour bought is not).
    let again = t.any_starts(&["снова", "опять", "again", "повтор"])
        || (0..t.len()).any(|i| t.is(i, &["еще", "этот", "this"]) && t.is(i + 1, &["раз", "time"]));
    if intent == Intent::TourSearch && cues.search_said() && again {
        hints.scope = hints.scope.filter(|&s| s != OutOfScope::ExistingBooking);
    }
    // "Я у вас в ноябре покупала тур": the month is when they bought, not a new departure.
    if hints.scope == Some(OutOfScope::ExistingBooking) && intent != Intent::TourSearch {
        slots.date_from = None;
        slots.date_to = None;
        slots.nights_from = None;
        slots.nights_to = None;
        hints.date_range = None;
        hints.date_approximate = false;
    }
    match intent {
        Intent::Faq => {
            // "Какая погода в Нячанге в декабре?": the month is the season asked about.
            if cues.weather() {
                slots.date_from = None;
                slots.date_to = None;
            }
            // "Какие документы нужны ребёнку?": a child is the subject, not a party size.
            if slots.adults.is_none() && slots.children == Some(1) && slots.child_ages.is_empty() {
                slots.children = None;
            }
        }
        // Amounts and durations in a complaint are what went wrong, not search wishes.
        Intent::Complaint => {
            slots.budget_max = None;
            slots.currency = None;
            slots.nights_from = None;
            slots.nights_to = None;
        }
        _ => {}
    }
    Analysis {
        intent,
        language,
        language_sure,
        slots,
        hints,
    }
}

/// Everyday words that may be capitalised but are never a name.
const NOT_NAMES: &[&str] = &[
    "я",
    "мы",
    "вы",
    "он",
    "она",
    "они",
    "это",
    "мой",
    "моя",
    "мое",
    "мои",
    "наш",
    "ваш",
    "тел",
    "телефон",
    "номер",
    "номера",
    "почта",
    "почту",
    "email",
    "mail",
    "e",
    "whatsapp",
    "ватсап",
    "вотсап",
    "ватсапп",
    "телеграм",
    "telegram",
    "пожалуйста",
    "please",
    "мне",
    "нам",
    "меня",
    "нас",
    "тоже",
    "уже",
    "еще",
    "очень",
    "просто",
    "из",
    "с",
    "в",
    "на",
    "и",
    "а",
    "но",
    "да",
    "нет",
    "не",
    "ok",
    "ок",
    "окей",
    "хорошо",
    "ладно",
    "утром",
    "вечером",
    "днем",
    "после",
    "до",
    "клиент",
    "клиентка",
    "турист",
    "здесь",
    "тут",
    "там",
    "буду",
    "будем",
    "был",
    "была",
    "хотела",
    "хотел",
    "интересуюсь",
    "заинтересован",
    "заинтересована",
    "готов",
    "готова",
    "рада",
    "рад",
    "снова",
    "опять",
    "who",
    "the",
    "from",
    "here",
    "interested",
    "looking",
    "ready",
    "back",
    "new",
    "also",
    "just",
    "not",
    "very",
    "so",
    "sorry",
    "извините",
    "простите",
    "кешириниз",
    "по",
    "для",
    "от",
    "к",
    "у",
    "о",
    "об",
    "за",
    "при",
    "как",
    "что",
    "где",
    "когда",
    "сколько",
    "какой",
    "какая",
    "можно",
    "нужно",
    "нужен",
    "нужна",
    "going",
    "writing",
    "calling",
    "planning",
    "thinking",
    "trying",
    "and",
    "or",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "of",
    "мама",
    "папа",
    "муж",
    "жена",
    "ребенок",
    "сын",
    "дочь",
    "семья",
    "number",
    "phone",
    "my",
    "me",
    "name",
    "i",
];

fn is_stop_word(t: &Text, i: usize) -> bool {
    let w = t.w(i);
    NOT_NAMES.contains(&w)
        || intent::is_cue_word(t, i)
        || places::is_place_word(t, i)
        || t.number_word(i).is_some()
        || t.raw_word(i).chars().all(|c| c.is_uppercase())
}

/// The words of `raw` folded exactly as the analyser matches them (lower case, `ё`→`е`,
/// Kazakh letters and diacritics folded, punctuation and emoji dropped), for other matchers
/// such as the FAQ, so that both see a message the same way.
pub(crate) fn folded_words(raw: &str) -> Vec<String> {
    Text::new(raw).words.into_iter().map(|w| w.fold).collect()
}

/// One JSONL input line (`{"text": "..."}`, optional `"today": "YYYY-MM-DD"` which wins
/// over `default_today`) → the output object per `docs/analysis.md`, or `{"error": "..."}` for a
/// malformed line. Never panics.
pub fn analyze_line(line: &str, default_today: NaiveDate) -> Value {
    let err = |msg: String| json!({ "error": msg });
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return err(format!("invalid JSON: {e}")),
    };
    let Some(obj) = v.as_object() else {
        return err("expected a JSON object".to_string());
    };
    let Some(text) = obj.get("text").and_then(Value::as_str) else {
        return err("missing string field \"text\"".to_string());
    };
    let today = match obj.get("today") {
        None | Some(Value::Null) => default_today,
        Some(Value::String(s)) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => return err(format!("invalid \"today\": {s:?}, expected YYYY-MM-DD")),
        },
        Some(_) => return err("\"today\" must be a string YYYY-MM-DD".to_string()),
    };
    serde_json::to_value(analyze(text, today))
        .unwrap_or_else(|e| err(format!("cannot serialise: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn serialises_per_schema() {
        let v = analyze_line(r#"{"text": "2 взрослых и ребенок 6 лет, 4*"}"#, today());
        assert_eq!(
            v,
            json!({"intent": "tour_search", "language": "ru",
                   "slots": {"adults": 2, "children": 1, "child_ages": [6], "stars": 4}})
        );
        let v = analyze_line(r#"{"text": "в марте", "today": "2027-05-01"}"#, today());
        assert_eq!(v["slots"]["date_from"], "2028-03-01");
        let v = analyze_line(r#"{"text": "Спасибо"}"#, today());
        assert_eq!(
            v,
            json!({"intent": "thanks_bye", "language": "ru", "slots": {}})
        );
    }

    #[test]
    fn relative_days_only_for_trips() {
        let date = |s: &str| analyze(s, today()).slots.date_from.map(|d| d.to_string());
        assert_eq!(date("завтра").as_deref(), Some("2026-11-22"));
        assert_eq!(date("На следующей неделе").as_deref(), Some("2026-11-23"));
        assert_eq!(date("Перезвоните завтра"), None);
        assert_eq!(date("Вы работаете в выходные?"), None);
    }

    #[test]
    fn language_of_mixed_messages() {
        for (s, lang) in [
            ("берем Red Dune", Language::Ru),
            ("ок, Sunrise Premium Resort на двоих", Language::Ru),
            ("Hi, хотим в Дананг в феврале", Language::Ru),
            ("privet, hotim v nyachang na 10 nochei", Language::Ru),
            ("fukuok 2 vzroslyh", Language::Ru),
            ("ok book option 1", Language::En),
            ("Nha Trang, 2 adults, december", Language::En),
            ("Дананг немесе Нячанг", Language::Kk),
            ("жазда балалармен", Language::Kk),
            (
                "Сәлеметсіз бе, нам нужен тур в Нячанг на двоих",
                Language::Ru,
            ),
            ("Салем, Фукуокқа тур бар ма? Нас трое", Language::Kk),
            ("salem, nyachangka tur kerek, aqpanda", Language::Kk),
            ("me and my wife, is there a bar?", Language::En),
        ] {
            assert_eq!(analyze(s, today()).language, lang, "{s}");
        }
        // A hotel name alone says nothing about the language.
        assert!(!analyze("Нячанг, Vinpearl", today()).language_sure);
    }

    #[test]
    fn resort_alternatives_and_an_earlier_purchase() {
        let a = analyze("Нячанг, Дананг или Фукуок — без разницы", today());
        assert_eq!(a.slots.resort.as_deref(), Some("Nha Trang"));
        assert_eq!(a.hints.resort_alternatives, ["Da Nang", "Phu Quoc"]);
        assert!(
            analyze("не нячанг, а фукуок", today())
                .hints
                .resort_alternatives
                .is_empty()
        );
        // The month of an earlier purchase is no departure window.
        let a = analyze("я у вас в ноябре покупала тур", today());
        assert_eq!(a.hints.scope, Some(OutOfScope::ExistingBooking));
        assert_eq!(a.slots.date_from, None);
        assert_eq!(a.intent, Intent::Other);
        let a = analyze(
            "Здравствуйте, я у вас в ноябре покупала тур на январь, хочу уточнить время вылета",
            today(),
        );
        assert_eq!(a.hints.scope, Some(OutOfScope::ExistingBooking));
        assert_eq!((a.intent, a.slots.date_from), (Intent::Other, None));
    }

    #[test]
    fn malformed_lines_are_errors() {
        for line in [
            "",
            "{",
            "[1]",
            r#"{"text": 5}"#,
            r#"{"txt": "a"}"#,
            r#"{"text": "a", "today": "2026-13-01"}"#,
            "null",
        ] {
            let v = analyze_line(line, today());
            assert!(v.get("error").is_some(), "{line}: {v}");
        }
    }

    #[test]
    fn merge_overwrites_present_fields() {
        let mut a = analyze("Нячанг, 2 взрослых и ребенок 5 лет, в марте", today()).slots;
        let b = analyze("в Турцию, 3 ребенка", today()).slots;
        a.merge(&b);
        assert_eq!(a.country.as_deref(), Some("Turkey"));
        assert_eq!(a.resort, None);
        assert_eq!(a.adults, Some(2));
        assert_eq!(a.children, Some(3));
        assert!(a.child_ages.is_empty());
        assert!(a.date_from.is_some());
        assert!(!a.is_empty());
        assert!(Slots::default().is_empty());
    }

    /// Random strings over an alphabet chosen to hit the parsers' edges (digits next to
    /// separators, currency signs, Kazakh letters, combining marks, emoji).
    #[test]
    fn never_panics_on_random_input() {
        const ALPHABET: &[&str] = &[
            "0",
            "1",
            "2",
            "5",
            "7",
            "8",
            "9",
            " ",
            " ",
            "-",
            "–",
            ".",
            ",",
            "+",
            "*",
            "$",
            "€",
            "₸",
            "@",
            "(",
            ")",
            ":",
            "/",
            "#",
            "№",
            "'",
            "ё",
            "қ",
            "Ә",
            "а",
            "я",
            "x",
            "k",
            "к",
            "м",
            "\u{0301}",
            "🙂",
            "\u{200D}",
            "\u{202E}",
            "по ",
            "с ",
            "до ",
            "января ",
            "млн ",
            "тыс ",
            "лет ",
            "ночей ",
            "звезд ",
            "взрослых ",
            "ребенок ",
            "детей ",
            "Нячанг ",
            "из ",
            "Алматы ",
            "вариант ",
            "и ",
            "ещё ",
            "на ",
            "недел",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            let mut s = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(ALPHABET[(state % ALPHABET.len() as u64) as usize]);
            }
            let a = analyze(&s, today());
            // Whatever the input, the output respects the schema's invariants.
            assert_eq!(
                a.slots.currency.is_some(),
                a.slots.budget_max.is_some(),
                "{s}"
            );
            assert_eq!(
                a.slots.date_from.is_some(),
                a.slots.date_to.is_some(),
                "{s}"
            );
            assert!(a.slots.date_from <= a.slots.date_to, "{s}");
            assert!(a.slots.nights_from <= a.slots.nights_to, "{s}");
            assert!(a.slots.stars.is_none_or(|v| (1..=5).contains(&v)), "{s}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long = "Хочу во Вьетнам 8 701 123 45 67 ".repeat(400);
        let inputs = [
            "",
            " ",
            "🙂🙂🙂",
            "\u{202E}مرحبا بكم",
            "שלום עולם",
            &long,
            "9999999999999999999999999999 тысяч",
            "с 99 по 1 января",
            "31 февраля",
            "+++---((()))",
            "@@@ a@ @b.c",
            "2+2+2+2",
            "4-5-6-7 звезд",
            "ребенок 1,5,6,7,8,9,10,11 лет",
            "1.5.2027.5",
            "\u{0000}\u{FFFF}",
        ];
        for s in inputs {
            let _ = analyze(s, today());
            let _ = analyze_line(&json!({ "text": s }).to_string(), today());
        }
    }
}
