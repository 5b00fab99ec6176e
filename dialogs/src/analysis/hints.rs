//! Hints for the dialog beyond the SCHEMA slots: what a message says about offers on
//! screen and about what the customer wants.
//!
//! - "more" ("ещё варианты", "келесі") and "cheaper" ("подешевле", "арзанырақ");
//! - a choice of a shown offer, by number or ordinal ("второй", "берём 3", "ok book option
//!   1", "екіншісін аламыз", a bare "1") — never for a question about an offer;
//! - a question: its topic (beach, price, what is included, payment, meal, room, flight,
//!   availability, comparison, the hotel) and the offer it names ("а вот первый отель какой
//!   там пляж?" is a beach question about offer 1, not a choice). A message is a question
//!   when it has a topic and asks (a "?", a question word or particle, "расскажите"); a
//!   question about the price of tours with search parameters is a search, not a question;
//! - scope: flights only, a hotel only, an earlier purchase or booking.
//!
//! Date ranges, approximate dates and resort alternatives come from `dates` and `places`.

use std::sync::LazyLock;

use super::lexicon::Lexicon;
use super::text::Text;
use super::{Hints, OutOfScope, Question, QuestionTopic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    More,
    Cheaper,
    /// A phrase that looks like "more"/"next" but is not ("next week", "more expensive").
    Neither,
    Topic(QuestionTopic),
    Scope(OutOfScope),
}

use QuestionTopic as T;

static CUES: LazyLock<Lexicon<Cue>> = LazyLock::new(|| {
    Lexicon::new(&[
        (
            "еще вариант*3|еще предлож*5|еще отел*3|еще тур*2|еще что нибудь|еще что то|еще есть|есть еще|покажите еще|покажи еще|скиньте еще|скинь еще|пришлите еще|дайте еще|еще подборк*|других вариант*|другие вариант*|другой вариант|другие отел*|другие туры|другое предлож*|покажите другие|покажи другие|скиньте другие|пришлите другие|есть другие|другие есть|больше вариантов|show others|show other*|any others|more|more options|other options|another option|anything else|something else|next|show more|next options|anything at all|whatever you have|what else do you have|what else have you got|хоть что нибудь|хоть что то|хоть какие нибудь|что нибудь вообще|вообще что нибудь|что еще есть|что еще можете|келесі|тағы|басқа нұсқа*|басқа|басқа не бар|тағы не бар",
            Cue::More,
        ),
        (
            "next week|next month|next year|next weekend|next summer|next winter|next spring|next fall|more expensive|more than|more people|more about|tell me more|келесі апта*|келесі ай*|келесі жыл*|келесі жаз*|еще нужн*|еще вопрос*|еще нужна|еще нужен|тағы бір сұрақ",
            Cue::Neither,
        ),
        (
            "дешевле|подешевле|дешевл*4|подешевше|бюджетнее|cheaper|less expensive|lower price|more affordable|арзанырақ|арзандау|арзан*6",
            Cue::Cheaper,
        ),
        (
            "пляж*4|береговая линия|первая линия|первой линии|первую линию|первой береговой|линия|линии|линию|к морю|до моря|от моря|у моря|возле моря|рядом с морем|beach*2|beachfront|to the sea|from the sea|by the sea|near the sea|to the beach|seafront|sea front|first line|жағажай*5|теңізге*3|теңізден*3",
            Cue::Topic(T::Beach),
        ),
        (
            "сколько стоит*3|сколько будет стоить|сколько стоить|почем|почём|по чем|цена|цену|цены|стоимость*3|how much|price*1|cost*2|costs|қанша тұрады|қанша тұр*4|бағасы*3",
            Cue::Topic(T::Price),
        ),
        (
            "что входит*2|входит*2|входят|включен*3|включает*2|включено ли|included|include*1|what's included|кіреді*2|кіре ме|кіреді ме",
            Cue::Topic(T::Included),
        ),
        (
            "предоплат*3|рассрочк*3|оплат*5|оплачивать|deposit|prepay*5|installment*1|instalment*1|pay|payment*1|алдын ала төлем|төлем*4|төлеу*4|бөліп төлеу|kaspi red|кредит*3",
            Cue::Topic(T::Payment),
        ),
        (
            "питани*3|кормят|кормежк*3|еда|еды|meal*1|meals|food|тамақ*4|тамағы",
            Cue::Topic(T::Meal),
        ),
        (
            "номер какой|какой номер|какие номера|номер с видом|тип номера|вид на море|вид из номера|room*1|sea view|ocean view|балкон*3|кровать|кровати|bed|beds|бөлме*4",
            Cue::Topic(T::Room),
        ),
        (
            "рейс*2|перелет*2|вылет*3|прилет*3|авиакомпани*3|прямой|прямые|пересадк*3|стыковк*3|багаж*3|flight*1|airline*1|direct|layover|baggage|luggage|ұшақ*3|ұшу*3",
            Cue::Topic(T::Flight),
        ),
        (
            "места есть|есть места|есть ли места|места|свободные места|наличие|в наличии|подтвержден*3|под запрос|available|availability|sold out|орын бар*3|орындар*3|орын*3",
            Cue::Topic(T::Availability),
        ),
        (
            "что лучше|какой лучше|какой из них лучше|куда лучше|где лучше|лучше ли|which is better|what's better|which one is better|which is best|compare|разница|отличаются|difference|қайсысы жақсы|қайсы жақсы|қайсысы дұрыс|қайсысы жақсырақ",
            Cue::Topic(T::Compare),
        ),
        (
            "бассейн*3|pool|анимаци*3|аквапарк*3|горки|территори*3|отзыв*3|review*1|rating|рейтинг*2|спа|spa|wifi|wi fi|вай фай|вайфай|детск* клуб*|kids club|тренажер*3|gym|фитнес*|ресторан*3|расскажите про|расскажите о|расскажите подробнее|подробнее про|подробнее о|tell me about|tell me more|more about|details|что за отель|what's the hotel|hotel like|туралы айтып*5|бассейн бар*3",
            Cue::Topic(T::Hotel),
        ),
        (
            "только авиа*8|только билет*3|need flights|need a flight|need tickets|need air tickets|no hotel|without hotel|without a hotel|без отеля|без гостиницы|без проживания|нужны билеты|нужен билет|только перелет*2|только перелёт*2|авиабилет*3|билеты на самолет|билет на самолет|flight only|flights only|only flight*1|only the flight*1|just flight*1|just the flight*1|air tickets|plane tickets|airline tickets|tickets only|only tickets|тек билет*3|тек ұшақ*3|ұшаққа билет*3",
            Cue::Scope(OutOfScope::FlightsOnly),
        ),
        (
            "только отель|только гостиниц*3|только проживание в отеле|без перелета|без перелёта|без авиа*6|без билетов|перелет у нас свой|перелет свой|свой перелет|билеты уже есть|билеты у нас есть|hotel only|only hotel|only the hotel|just hotel|just the hotel|accommodation only|without flight*1|have flights|have our flights|have tickets|тек қонақүй*3|ұшақсыз",
            Cue::Scope(OutOfScope::HotelOnly),
        ),
        (
            "у вас покупал*2|у вас брал*2|у вас бронировал*2|у вас купил*2|у вас оформлял*2|у вас заказывал*2|покупала тур|покупали тур|покупал тур|брали тур|брала тур|купили тур|купила тур|моя бронь|моей брони|мою бронь|мою заявку|моя заявка|моей заявк*2|номер заявки|номер брони|по брони|по моей брони|по моему туру|по нашему туру|нашей брони|нашу бронь|наша бронь|ваучер*3|voucher*1|my booking|my reservation|our booking|our reservation|booked with you|booked a tour|bought a tour|booked with your|сіздерден тур ал*5|сіздерден алған*3|брондағанбыз|менің броным*2",
            Cue::Scope(OutOfScope::ExistingBooking),
        ),
    ])
});

/// Words and particles that make a message ask something.
const ASKING: &[&str] = &[
    "какой",
    "какая",
    "какое",
    "какие",
    "каком",
    "какого",
    "каких",
    "какую",
    "сколько",
    "что",
    "где",
    "когда",
    "ли",
    "как",
    "почем",
    "далеко",
    "близко",
    "расскажите",
    "подскажите",
    "опишите",
    "how",
    "what",
    "what's",
    "whats",
    "which",
    "where",
    "when",
    "tell",
    "кандай",
    "канша",
    "кайсы",
    "кайсысы",
    "кашан",
    "кайда",
    "ма",
    "ме",
    "ба",
    "бе",
    "па",
    "пе",
    "ше",
    "айтыныз",
    "айтыныздаршы",
];

/// English auxiliaries that open a question ("is it on the beach", "does the hotel have").
const AUXILIARIES: &[&str] = &[
    "is", "are", "does", "do", "can", "could", "will", "has", "have",
];

/// Words that commit to paying rather than ask about it ("внесу предоплату, куда перевести?").
const COMMIT: &[&str] = &[
    "внесу",
    "внесем",
    "оплачу",
    "оплатим",
    "переведу",
    "переведем",
    "готов",
    "готова",
    "готовы",
    "хочу",
    "хотим",
    "i'll",
    "we'll",
    "will",
    "төлеймін",
    "төлейміз",
];

fn ordinal(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    let stem = |s: &str| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= 3);
    // Kazakh ordinals take case and possessive endings: "екіншісін", "біріншісі".
    let kk = |s: &str| w.strip_prefix(s).is_some_and(|r| r.chars().count() <= 4);
    let pick = |v: u32, ok: bool| ok.then_some(v);
    // By first letter, so that most words are compared with one or two stems.
    match w.chars().next()? {
        'п' => pick(1, stem("перв")).or_else(|| {
            pick(
                5,
                stem("пят") && !matches!(w, "пять" | "пяти" | "пятью" | "пятеро"),
            )
        }),
        'в' => pick(2, stem("втор") && !w.starts_with("вторник"))
            .or_else(|| pick(8, stem("восьм") && !matches!(w, "восьми" | "восьмью"))),
        'т' => pick(3, stem("трет"))
            .or_else(|| pick(4, kk("тортинши")))
            .or_else(|| pick(9, kk("тогызыншы"))),
        'ч' => pick(4, stem("четверт")),
        'ш' => pick(
            6,
            stem("шест") && !matches!(w, "шесть" | "шести" | "шестеро"),
        ),
        'с' => {
            pick(7, stem("седьм") && !w.starts_with("седьмиц")).or_else(|| pick(8, kk("сегизинши")))
        }
        'д' => pick(
            9,
            stem("девят") && !matches!(w, "девять" | "девяти" | "девятью"),
        )
        .or_else(|| {
            pick(
                10,
                stem("десят") && !matches!(w, "десять" | "десяти" | "десятью" | "десятка"),
            )
        }),
        'б' => pick(1, kk("биринши")).or_else(|| pick(5, kk("бесинши"))),
        'е' => pick(2, kk("екинши")),
        'у' => pick(3, kk("ушинши")),
        'а' => pick(6, kk("алтыншы")),
        'ж' => pick(7, kk("жетинши")),
        'о' => pick(10, kk("оныншы")),
        _ => match w {
            "first" | "1st" => Some(1),
            "second" | "2nd" => Some(2),
            "third" | "3rd" => Some(3),
            "fourth" | "4th" => Some(4),
            "fifth" | "5th" => Some(5),
            "sixth" | "6th" => Some(6),
            "seventh" | "7th" => Some(7),
            "eighth" | "8th" => Some(8),
            "ninth" | "9th" => Some(9),
            "tenth" | "10th" => Some(10),
            _ => None,
        },
    }
}

/// Words after an ordinal that make it something other than a choice of offer.
const NOT_CHOICE: &[&str] = &[
    "половин",
    "линия",
    "линии",
    "линию",
    "line",
    "недел",
    "числ",
    "декад",
    "раз",
    "ребен",
    "child",
    "kid",
    "этаж",
    "floor",
    "день",
    "дня",
    "day",
    "week",
    "half",
    "class",
    "класс",
    "взросл",
    "январ",
    "феврал",
    "март",
    "апрел",
    "мая",
    "июн",
    "июл",
    "август",
    "сентябр",
    "октябр",
    "ноябр",
    "декабр",
    "of",
    "очеред",
    "time",
    "visit",
    "trip",
    // "первая бронь", not "біріншісін брондайық".
    "бронь",
    "брони",
    "заказ",
    "поездк",
    "путешеств",
    "отпуск",
];

const CHOICE_NOUNS: &[&str] = &[
    "вариант",
    "option",
    "номер",
    "предлож",
    "отел",
    "тур",
    "offer",
    "hotel",
    "нуска",
    "number",
    "variant",
];

/// Words that may follow a chosen number without making it a count of something.
const AFTER_CHOICE: &[&str] = &[
    "pls",
    "plz",
    "please",
    "one",
    "then",
    "thanks",
    "thx",
    "пожалуйста",
    "пожалуйсто",
    "пж",
    "пжл",
    "плз",
    "плиз",
    "тогда",
    "спасибо",
    "давайте",
    "отинемин",
    "рахмет",
];

const TAKE_VERBS: &[&str] = &[
    "брон",
    "заброн",
    "берем",
    "беру",
    "берите",
    "возьм",
    "book",
    "take",
    "давайте",
    "выбира",
    "выбер",
    "аламыз",
    "like",
    "want",
    "prefer",
    "choose",
    "pick",
];

/// Detects the hints; `used` marks words other extractors already explained (numbers of
/// dates, nights, the party); `search_slots` tells whether the message gives search
/// parameters other than places.
pub(crate) fn detect(t: &Text, used: &[bool], search_slots: bool, places: bool) -> Hints {
    let mut hints = Hints::default();
    let mut neither = false;
    let mut topic: Option<(usize, QuestionTopic)> = None;
    for h in CUES.scan_fuzzy(t) {
        match h.val {
            Cue::More => {
                // "more" needs to end the clause or precede an offer noun.
                if t.is(h.start, &["more", "next"]) && h.end == h.start + 1 {
                    let next = t.w(h.end);
                    if !(next.is_empty()
                        || !t.gap(h.end).punct.is_empty()
                        || t.starts(h.end, CHOICE_NOUNS)
                        || t.starts(
                            h.end,
                            &["варианты", "deals", "tours", "hotels", "please", "pls"],
                        ))
                    {
                        continue;
                    }
                }
                hints.more = true;
            }
            Cue::Cheaper => hints.cheaper = true,
            Cue::Neither => neither = true,
            // "всё включено", "all inclusive" is a meal plan, not a question of what is included.
            Cue::Topic(T::Included) if t.is(h.start.wrapping_sub(1), &["все", "all", "ультра"]) =>
                {}
            Cue::Topic(q) => {
                // The most specific topic wins: "что входит в цену" is about what is included.
                if topic.is_none_or(|(rank, _)| rank_of(q) < rank) {
                    topic = Some((rank_of(q), q));
                }
            }
            Cue::Scope(scope) => {
                hints.scope.get_or_insert(scope);
            }
        }
    }
    // "а номер там какой": the room, unless it is a number of something else.
    if topic.is_none()
        && let Some(i) = (0..t.len()).find(|&i| t.is(i, &["номер", "номера", "номере", "номерах"]))
        && !t.is_num(i + 1)
        // "номера с балконом", "номер с видом на море": a feature the descriptions tell.
        && !t.is(i + 1, &["с", "со", "with"])
        && !t.starts(
            i + 1,
            &[
                "телефон",
                "брон",
                "заяв",
                "карт",
                "паспорт",
                "договор",
                "рейс",
            ],
        )
        && !t.starts(i.wrapping_sub(1), CHOICE_NOUNS)
    {
        topic = Some((rank_of(T::Room), T::Room));
    }
    // "какой самый дешёвый", "ең арзаны қайсы?", "the cheapest one?": the cheapest of what is
    // shown is asked about (a price), not cheaper offers searched for.
    let superlative = (0..t.len()).any(|i| {
        (t.is(
            i,
            &[
                "самый",
                "самая",
                "самое",
                "самые",
                "самого",
                "самой",
                "самую",
                "ен",
                "most",
            ],
        ) && t.starts(
            i + 1,
            &[
                "дешев",
                "дорог",
                "арзан",
                "кымбат",
                "cheap",
                "expensive",
                "бюджетн",
                "недорог",
            ],
        )) || t.starts(i, &["дешевейш", "cheapest", "lowest"])
            || t.is(i, &["арзаны", "арзанын", "кымбаты", "priciest", "dearest"])
    });
    if superlative {
        hints.cheaper = false;
        if topic.is_none_or(|(rank, _)| rank_of(T::Price) < rank) {
            topic = Some((rank_of(T::Price), T::Price));
        }
    }
    // "в каком завтраки включены?", "is breakfast included": the offers' meal plans, not what
    // a package includes.
    if topic.is_some_and(|(_, q)| q == T::Included)
        && t.any_starts(&[
            "завтрак",
            "ужин",
            "обед",
            "питани",
            "breakfast",
            "dinner",
            "lunch",
            "meal",
            "board",
            "тангы",
            "кешки",
            "тамак",
        ])
    {
        topic = Some((rank_of(T::Meal), T::Meal));
    }
    // "сколько примерно стоит", "how much would it cost": the price, a word between.
    if topic.is_none()
        && (0..t.len()).any(|i| {
            t.is(i, &["сколько", "how"])
                && (1..=3).any(|k| t.starts(i + k, &["стои", "стоя", "cost", "much"]))
        })
    {
        topic = Some((rank_of(T::Price), T::Price));
    }
    // "а самый дешёвый сколько?", "қымбаты қанша?": how much, said of cheap or dear.
    if topic.is_none()
        && (0..t.len()).any(|i| t.is(i, &["сколько", "канша"]))
        && t.any_starts(&["дешев", "дорог", "cheap", "expensive", "арзан", "кымбат"])
    {
        topic = Some((rank_of(T::Price), T::Price));
    }
    // "какой отель лучше для детей?", "в каком анимация лучше?": a comparison, whatever
    // else it names.
    if t.any_starts(&["лучше", "better", "best", "жаксырак"])
        && (0..t.len()).any(|i| {
            t.is(
                i,
                &[
                    "какой",
                    "какая",
                    "какие",
                    "каком",
                    "который",
                    "котором",
                    "куда",
                    "где",
                    "что",
                    "which",
                    "what",
                    "кайсы",
                    "кайсысы",
                ],
            )
        })
    {
        topic = Some((rank_of(T::Compare), T::Compare));
    }
    // A bare "ещё?" or "а ещё есть?" in a short message.
    if !hints.more && !neither && t.len() <= 3 && (0..t.len()).any(|i| t.w(i) == "еще") {
        hints.more = true;
    }
    // "is the first one good for kids?", "а второй?": asked about an offer on screen, with no
    // topic of its own: a question about that hotel, not a choice.
    let named_offer = offer_named(t, used);
    if topic.is_none()
        && !hints.more
        && !hints.cheaper
        && offer_said_plainly(t, used)
        && t.raw.contains('?')
        && !(0..t.len()).any(|i| t.starts(i, TAKE_VERBS))
    {
        topic = Some((rank_of(T::Hotel), T::Hotel));
    }
    if let Some((_, topic)) = topic {
        let offer = named_offer;
        let asking = t.raw.contains('?')
            || superlative
            || (0..t.len()).any(|i| {
                t.is(i, ASKING)
                    || (t.is(i, AUXILIARIES)
                        && (i == 0
                            || !t.gap(i).punct.is_empty()
                            // "and is breakfast included", "а есть ли…": after a conjunction.
                            || (i == 1 && t.is(0, &["and", "so", "also", "but", "а", "и", "ну", "ал"]))))
            });
        let asks = asking
            // "сколько стоит виза?" is about the visa, not an offer's price.
            && !(topic == T::Price
                && t.any_starts(&["виз", "страхов", "visa", "insuranc", "сактанд"]))
            // "Внесу предоплату, куда перевести?" pays rather than asks.
            && !(topic == T::Payment && (0..t.len()).any(|i| t.is(i, COMMIT)))
            // "Нячанг, 2 взрослых, как можно ближе к морю": a wish inside a search;
            // "Семей - Нячанг, есть вылеты?", "сколько стоит тур в Муйне?": a search.
            && (offer.is_some()
                || topic == T::Compare
                || !(search_slots
                    || (places && matches!(topic, T::Flight | T::Availability | T::Price))));
        if asks {
            hints.question = Some(Question { topic, offer });
        }
    }
    // A question about an offer is not a choice, unless a booking verb chooses too
    // ("бронируем второй, какая предоплата?").
    let take = || (0..t.len()).any(|i| t.starts(i, TAKE_VERBS));
    hints.choice = if hints.question.is_some() && !take() {
        None
    } else {
        choice(t, used)
    };
    hints.joining = joining(t);
    // "ну который вчера скидывали", "the one you sent me": offers the agency sent before.
    hints.earlier = hints.choice.is_none()
        && hints.question.is_none()
        && (0..t.len()).any(|i| {
            t.is(
                i,
                &[
                    "скидывали",
                    "скинули",
                    "присылали",
                    "прислали",
                    "отправляли",
                    "отправили",
                    "показывали",
                    "показали",
                    "кидали",
                    "кинули",
                    "предлагали",
                    "предложили",
                    "sent",
                    "showed",
                    "shown",
                    "offered",
                    "жибергенсиз",
                    "жибердиниз",
                    "корсеттиниз",
                    "корсеткенсиз",
                    "жиберген",
                    "усынган",
                    "усындыныз",
                ],
            ) && !t.is(i.wrapping_sub(1), &["я", "мы", "i", "we", "мен", "биз"])
        });
    hints
}

/// Of several topics in one message, the most specific (lowest rank) is the question's.
fn rank_of(q: QuestionTopic) -> usize {
    match q {
        T::Included => 0,
        T::Payment => 1,
        T::Availability => 2,
        T::Compare => 3,
        T::Flight => 4,
        T::Room => 5,
        T::Meal => 6,
        T::Beach => 7,
        T::Hotel => 8,
        T::Price => 9,
    }
}

/// The offer a message names by position: "первый отель", "во втором", "option 2", "№3",
/// "в 2м варианте", "the 1st one", "екінші нұсқада".
fn offer_named(t: &Text, used: &[bool]) -> Option<u32> {
    let free = |i: usize| !used.get(i).copied().unwrap_or(true);
    for i in 0..t.len() {
        if !free(i) {
            continue;
        }
        if let Some(v) = ordinal(t.w(i)) {
            if !t.starts(i + 1, NOT_CHOICE) {
                return Some(v);
            }
            continue;
        }
        let Some(v) = small(t, i) else { continue };
        let suffix = t.is(i + 1, ORDINAL_ENDINGS) && t.glued(i + 1);
        let after = if suffix { i + 2 } else { i + 1 };
        let hash = t.gap(i).punct.contains(['#', '№']);
        let noun_before = t.starts(i.wrapping_sub(1), CHOICE_NOUNS);
        let noun_after = t.starts(after, CHOICE_NOUNS) || t.is(after, &["one"]);
        if hash || noun_before || (suffix && noun_after) {
            return Some(v);
        }
    }
    None
}

/// An offer named on its own: "the first one", "второй?", "второй отель" (an ordinal before
/// an offer noun, "one" or the end of a clause), not "от второго родителя" nor "второй не
/// подходит".
fn offer_said_plainly(t: &Text, used: &[bool]) -> bool {
    (0..t.len()).any(|i| {
        !used.get(i).copied().unwrap_or(true)
            && ordinal(t.w(i)).is_some()
            && (t.starts(i + 1, CHOICE_NOUNS)
                || t.is(i + 1, &["one", "ones"])
                || i + 1 == t.len()
                || !t.gap(i + 1).punct.is_empty())
    })
}

/// Endings glued to a number that make it an ordinal: "2й", "2-й", "2м", "1st".
const ORDINAL_ENDINGS: &[&str] = &[
    "й", "ой", "ий", "ый", "я", "ая", "е", "ое", "м", "ом", "ем", "го", "ого", "st", "nd", "rd",
    "th",
];

/// A position 1–20 written in digits at word `i`.
fn small(t: &Text, i: usize) -> Option<u32> {
    if !t.is_num(i) || t.digits(i) > 2 {
        return None;
    }
    t.num(i).filter(|v| (1..=20).contains(v)).map(|v| v as u32)
}

fn choice(t: &Text, used: &[bool]) -> Option<u32> {
    let free = |i: usize| !used.get(i).copied().unwrap_or(true);
    // A bare ordinal ("2nd", "2й") is a pick. A bare "2" is not said to be one: it answers
    // the bot's question or picks from a list on screen, which only the dialog knows.
    if t.len() == 2
        && t.is(1, ORDINAL_ENDINGS)
        && t.glued(1)
        && let Some(v) = small(t, 0)
        && free(0)
    {
        return Some(v);
    }
    for i in 0..t.len() {
        if !free(i) {
            continue;
        }
        if let Some(v) = ordinal(t.w(i)) {
            // "второй не подходит" rejects an offer rather than choosing it.
            let rejected = t.is(i + 1, &["не", "not", "isn't", "doesn't", "емес"])
                || t.is(i + 2, &["не", "not", "isn't", "doesn't", "емес"]);
            // "ребёнку 4, второму 9": an age follows, not a choice.
            let age = t.is_num(i + 1);
            if !t.starts(i + 1, NOT_CHOICE) && !rejected && !age {
                return Some(v);
            }
            continue;
        }
        let Some(v) = small(t, i) else { continue };
        let hash = t.gap(i).punct.contains(['#', '№']);
        let noun_before = t.starts(i.wrapping_sub(1), CHOICE_NOUNS);
        // "2 вариант", "2-й вариант", "давайте 2й"
        let suffix = t.is(i + 1, ORDINAL_ENDINGS) && (t.glued(i + 1) || t.gap(i + 1).is_dash());
        let after = if suffix { i + 2 } else { i + 1 };
        let noun_after = t.starts(after, &["вариант", "option", "предлож", "нуска"]);
        // "book 1 pls", "take the 2nd one", "берем 3 пожалуйста": a filler may follow.
        let verb_before = (1..=2).any(|k| t.starts(i.wrapping_sub(k), TAKE_VERBS))
            && (t.len() == after
                || !t.gap(after).punct.is_empty()
                || t.starts(after, CHOICE_NOUNS)
                || t.is(after, AFTER_CHOICE));
        if hash || noun_before || noun_after || verb_before {
            return Some(v);
        }
    }
    None
}

/// "с нами ещё мама поедет", "my sister is coming too", "апам да барады": adults joining a
/// party said before — a relative or friend, a word of "also", a verb of going. One each.
fn joining(t: &Text) -> Option<u32> {
    const WHO: &[&str] = &[
        "мама",
        "мать",
        "папа",
        "отец",
        "сестра",
        "брат",
        "подруга",
        "друг",
        "бабушка",
        "дедушка",
        "свекровь",
        "теща",
        "тесть",
        "свекр",
        "тетя",
        "дядя",
        "mom",
        "mum",
        "mother",
        "dad",
        "father",
        "sister",
        "brother",
        "friend",
        "grandma",
        "grandpa",
        "aunt",
        "uncle",
        "анам",
        "апам",
        "акем",
        "агам",
        "сінілім",
        "досым",
        "әжем",
        "ажем",
        "атам",
    ];
    const ALSO: &[&str] = &[
        "еще",
        "тоже",
        "также",
        "плюс",
        "also",
        "too",
        "plus",
        "да",
        "де",
        "та",
        "те",
    ];
    const GOES: &[&str] = &[
        "поедет",
        "едет",
        "летит",
        "полетит",
        "присоединит",
        "поедут",
        "coming",
        "comes",
        "joining",
        "join",
        "барады",
        "барамыз",
        "ұшады",
        "ушады",
    ];
    let who = (0..t.len()).filter(|&i| t.is(i, WHO)).count() as u32;
    let also = (0..t.len()).any(|i| t.is(i, ALSO));
    let goes = (0..t.len()).any(|i| t.starts(i, GOES));
    (who > 0 && also && goes).then_some(who)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Hints {
        let t = Text::new(s);
        detect(&t, &vec![false; t.len()], false, false)
    }

    #[test]
    fn more_and_cheaper() {
        for s in [
            "Покажите ещё варианты",
            "ещё?",
            "другие варианты есть?",
            "more options please",
            "келесі",
            "тағы нұсқалар",
            "Show more",
        ] {
            assert!(run(s).more, "{s}");
        }
        for s in [
            "на следующей неделе",
            "next week",
            "ещё нужна виза?",
            "more expensive is fine",
        ] {
            assert!(!run(s).more, "{s}");
        }
        for s in [
            "а подешевле?",
            "есть дешевле",
            "cheaper please",
            "арзанырақ бар ма",
            "а подешевлн есть",
        ] {
            assert!(run(s).cheaper, "{s}");
        }
        // The cheapest of those shown is asked about, not cheaper ones searched for.
        for s in [
            "какой самый дешевый",
            "ең арзаны қайсы?",
            "the cheapest one?",
        ] {
            let h = run(s);
            assert!(!h.cheaper, "{s}");
            assert_eq!(h.question.map(|q| q.topic), Some(T::Price), "{s}");
        }
        assert_eq!(
            run("а в каком завтраки включены").question.map(|q| q.topic),
            Some(T::Meal)
        );
        assert_eq!(
            run("and is breakfast included").question.map(|q| q.topic),
            Some(T::Meal)
        );
        assert_eq!(
            run("а сколько примерно стоит").question.map(|q| q.topic),
            Some(T::Price)
        );
        for s in ["anything at all?", "хоть что-нибудь есть?"] {
            assert!(run(s).more, "{s}");
        }
        for (s, n) in [
            ("book 1 pls", 1),
            ("ok book the 2nd one", 2),
            ("берем 3 пожалуйста", 3),
            ("2 нұсқаны брондаймыз", 2),
        ] {
            assert_eq!(run(s).choice, Some(n), "{s}");
        }
        for s in [
            "ну который вчера скидывали",
            "the one you sent me yesterday",
        ] {
            assert!(run(s).earlier, "{s}");
        }
        assert!(!run("я отправил паспорт").earlier);
    }

    fn question(s: &str) -> Option<(QuestionTopic, Option<u32>)> {
        crate::analysis::analyze(s, chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
            .hints
            .question
            .map(|q| (q.topic, q.offer))
    }

    #[test]
    fn questions_name_their_topic_and_offer() {
        for (s, topic, offer) in [
            ("а вот первый отель какой там пляж?", T::Beach, Some(1)),
            ("какой из них ближе к морю?", T::Beach, None),
            ("how much is the cheapest?", T::Price, None),
            ("cheapest one pls", T::Price, None),
            ("а самый дешевый какой", T::Price, None),
            ("ең арзаны қайсы", T::Price, None),
            ("что входит в цену?", T::Included, None),
            ("а предоплата сколько?", T::Payment, None),
            ("куда лучше — Нячанг или Фукуок?", T::Compare, None),
            ("во втором отеле питание какое?", T::Meal, Some(2)),
            ("а номер там какой в 2м варианте", T::Room, Some(2)),
            ("рейс прямой?", T::Flight, None),
            ("места во втором точно есть?", T::Availability, Some(2)),
            ("does the 1st one have a pool?", T::Hotel, Some(1)),
            ("option 2 - is it on the beach?", T::Beach, Some(2)),
            ("бірінші қонақүйдің жағажайы қандай?", T::Beach, Some(1)),
            ("сколько стоит второй вариант на троих?", T::Price, Some(2)),
            ("is the first one good for kids?", T::Hotel, Some(1)),
        ] {
            assert_eq!(question(s), Some((topic, offer)), "{s}");
        }
        // Searches, payments and wishes are no questions.
        for s in [
            "Сколько стоит тур во Вьетнам на двоих в марте?",
            "Семей - Нячанг, есть вылеты?",
            "Внесу предоплату, куда перевести?",
            "Нячанг, 2 взрослых, отель как можно ближе к морю",
            "хотим на море",
        ] {
            assert_eq!(question(s), None, "{s}");
        }
        // A question about an offer is not a choice.
        assert_eq!(run("а вот первый отель какой там пляж?").choice, None);
    }

    #[test]
    fn scope() {
        for (s, scope) in [
            ("только авиабилеты нужны", OutOfScope::FlightsOnly),
            ("flight only please", OutOfScope::FlightsOnly),
            ("авиабилет керек", OutOfScope::FlightsOnly),
            ("только отель без перелета", OutOfScope::HotelOnly),
            ("hotel only, we already have flights", OutOfScope::HotelOnly),
            ("я у вас в ноябре покупала тур", OutOfScope::ExistingBooking),
            (
                "по моей брони можно поменять дату?",
                OutOfScope::ExistingBooking,
            ),
        ] {
            assert_eq!(run(s).scope, Some(scope), "{s}");
        }
        assert_eq!(run("хотим тур в Нячанг").scope, None);
    }

    #[test]
    fn choices() {
        for (s, v) in [
            ("второй", 2),
            ("Хочу забронировать второй вариант", 2),
            ("бронируем 2", 2),
            ("the first option", 1),
            ("екінші", 2),
            ("вариант 3", 3),
            ("#4", 4),
            ("3-й вариант", 3),
            ("I'll take option 1", 1),
            ("ok book option 1", 1),
            ("берем 3", 3),
            ("давайте первый вариант", 1),
            ("давайте 2й", 2),
            ("№2", 2),
            ("2nd", 2),
            ("екіншісін аламыз", 2),
            ("let's go with number 2", 2),
            ("I'd like the 3rd", 3),
            ("біріншісін брондайық", 1),
            ("екіншісін брондаймыз", 2),
        ] {
            assert_eq!(run(s).choice, Some(v), "{s}");
        }
        for s in [
            "во второй половине марта",
            "первая линия",
            "на 2 взрослых",
            "первого января",
            "первый раз летим за границу",
            "второй не подходит",
            "берем Red Dune",
            "ребенку 4, второму 9",
            "1",
        ] {
            assert_eq!(run(s).choice, None, "{s}");
        }
    }
}
