//! Intent: one of eight, from cue phrases, the slots found and the offer hints.
//!
//! Cues are counted by kind, then rules are applied in a fixed order of precedence:
//! spam → a strong complaint → an explicit request for a person or a call → a problem
//! report → booking → a general question (FAQ) → a search (cues, slots, "more",
//! "cheaper") → choosing a shown offer → bare contact details (a callback) → thanks or
//! goodbye → greeting → other. A greeting with anything else is never a greeting, and a
//! booking verb dominates a payment question ("Бронируем отель, как оплатить?").

use std::sync::LazyLock;

use super::lexicon::Lexicon;
use super::text::Text;
use super::{Hints, Intent, OutOfScope, QuestionTopic, Slots};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Greeting,
    Thanks,
    /// A live person: "менеджер", "real person".
    Person,
    /// A call or a connection: "перезвоните", "позовите", "call me".
    Call,
    /// "поговорить", "talk to".
    Talk,
    ComplaintStrong,
    /// A reported problem: "не пришли", "задержали", "списали".
    ComplaintWeak,
    /// A booking verb: "бронируем", "забронировать", "book", "берём".
    BookStrong,
    /// A booking noun or a payment word: "бронь", "оплатить".
    BookWeak,
    Faq,
    /// A yes/no question that is general only when nothing else is asked: "можно ли …?".
    FaqWeak,
    Weather,
    /// A wish to travel or to see tours.
    Search,
    /// Words that go with searching but also with other talk: "вариант", "отель", "цена".
    SearchWeak,
    Spam,
    /// Phrases that contain a cue word but mean nothing here ("без проблем", "пока нет").
    Neutral,
}

/// Cue stems of this many letters or more also match with one typo ("забранировать").
const CUE_FUZZY_MIN: usize = 7;

/// Greetings and openers.
const GREETING: &[&str] = &[
    "здравств*6|прив|привки|хэллоу|хелоу|здарова|здорово|вечер добрый|день добрый",
    "утро доброе|приветик|салют|hola|good day|армысыз*3|здрасте|здрасьте|здраствуйте",
    "здраствуй*3|привет*3|приветствую|добрый день|добрый вечер|доброе утро|добрый",
    "доброго дня|доброго времени суток|доброго утра|доброго вечера|доброй ночи|салам*3",
    "сәлем*3|сәлеметсіз*4|сәлеметсіздер*3|ассалаумағалейкум*3|ассалаумагалейкум*3",
    "ассаламу*8|саламатсыз*4|қайырлы күн|қайырлы таң|қайырлы кеш|hi|hello|hey|hiya",
    "good morning|good afternoon|good evening|greetings|хай|хелло|хеллоу|алло",
];

/// Thanks, goodbyes, "we will think".
const THANKS: &[&str] = &[
    "спасибо*3|спасибки|благодарочка|мерси|удачи|до завтра|пока пока|much appreciated",
    "appreciate it|take care|good night|түсінікті|түсіндім|спс|благодар*5|пасиб*3|рахмет*3",
    "рақмет*3|thanks*1|thank you|thank u|thx|ty|cheers|до свидания|досвидания|пока|покеда",
    "всего доброго|всего хорошего|хорошего дня|хорошего вечера|bye*1|goodbye|good bye",
    "see you|сау бол*5|сау болыңыз|көріскенше|кездескенше|подумаем|подумаю|посоветуюсь",
    "посоветуемся|will think about it|i'll think|have a nice day|до встречи|до связи",
    "ойланамыз|ойланып көрейік",
];

/// A live person.
const PERSON: &[&str] = &[
    "менеджер*5|администратор*3|руководств*3|начальник*3|директор*3|customer service",
    "support|оператор*3|консультант*4|живой человек|живым человеком|живого человека",
    "живому человеку|человеком|специалист*3|сотрудник*3|manager*1|operator*1|agent*1|human",
    "real person|live person|someone|consultant*1|representative|адаммен|тірі адам*4",
    "маман*3|кеңесші*3",
];

/// A call or a connection.
const CALL: &[&str] = &[
    "позвон*6|напишите мне в|напишите в|напишите на|write me on|text me on|message me on",
    "phone me|reach out|get back to me|байланыс*6|перезвон*6|звякните|наберите|набери",
    "свяж*6|связаться|связатся|связь с|соедините|соединить|соедини|позовите|позвать|позови",
    "звонок|звонка|звонку|созвонимся|созвониться|call me|call back|callback|call*3|ring me",
    "contact me|get in touch|reach me|хабарлас*8|қоңырау*6|звондаңыз|звондап",
    "телефон шалыңыз|хабарласыңызшы",
];

/// Talking (with a person).
const TALK: &[&str] =
    &["поговорить|пообщаться|talk to|talk with|speak to|speak with|speak|talk|сөйлес*8"];

/// Unhappiness and demands.
const COMPLAINT_STRONG: &[&str] = &[
    "украли|возмутительно|некомпетентн*4|непрофессионал*6|испорт*5|сорвал*4|навязали",
    "воняет|плесень|не убирают|не убирали|ruined|not satisfied|dissatisfied|rip off",
    "ripped off|overcharged|hidden fees|cockroach*2|bed bugs|mold|smelly|наразы*4|сасық",
    "алдадыңыз|қайтар*6|украл*2|кража|обокрали|сколько можно|требую|требуем|беспредел",
    "бардак|безответствен*4|лохотрон|кинули|кидалово|не устраивает|не понравил*3",
    "не соответств*4|невозможно дозвониться|хамск*3|мерзк*3|unhappy|not happy|upset",
    "bad experience|poor service|never again|charged twice|double charged|списали дважды",
    "дважды списали|безобраз*6|ужас*6|кошмар*3|отврат*8|возмути*7|возмущ*6|жалоб*3|жалуюсь",
    "пожаловаться|претензи*3|недовол*5|разочаров*5|обман*5|обманули|мошенн*5|развод*3",
    "верните*2|вернуть деньги|вернуть средства|возврат денег|возврат средств|хамств*3",
    "хамил*3|нахамил*3|грязн*4|грязь|тараканы|клопы|отравил*4|отравление|испорч*5|сломан*3",
    "неприемлем*4|позор*3|издевательств*3|плохой сервис|плохое обслуживание",
    "ужасное обслуживание|не рекомендую|dirty|terrible|awful|horrible|worst|disappointed",
    "disappointing|complaint*1|complain*2|refund*1|scam*2|fraud|rude|unacceptable",
    "disgusting|angry|furious|nightmare|cheated|шағым*4|нашар|лас|алдады*4|алдадыңдар",
    "алдап|қайтарыңыз|қайтарып беріңіз|масқара|сұмдық|жаман|ignore*3|игнорир*5",
    "no hot water|нет горячей воды|нет воды|нет света",
];

/// Reported problems.
const COMPLAINT_WEAK: &[&str] = &[
    "уже *8 час*3|уже *8 дн*3|уже *8 недел*3|трансфера нет|нет трансфера|никого нет|стоим уже|сидим уже",
    "жду ответ*2|ждем ответ*2|ждём ответ*2|что за отношение|третий день|второй день|который день",
    "уже час|целый день|не тот|не в тот|не та|не туда|wrong hotel|wrong room",
    "пропал*4|сняли деньги|деньги сняли|сняли с карты|списание*2|возврат*3|опоздал*3",
    "опоздание|ждали|не приехал*2|не забрали|потерял*3|задержк*3|перенесли|нарушил*3",
    "нарушение|не выполнил*3|не выполнено|money back|give me my money|was late|were late",
    "arrived late|came late|never showed|didn't show up|no show|doesn't work|does not work",
    "still haven't|where is my|what happened to my|бұзылған|жұмыс істемейді|жауап жоқ|қате",
    "ничего не делает|ничего не делают|ничего не сделали|плох*4|хуже|вместо|шумн*3|не было",
    "не дали|не выдали|не предупредили|не сообщили|не можем найти|не могу найти|still no",
    "no refund|no one helped|nobody helped|wrong|not as described|noisy|оказал*4",
    "charged my|were charged|was charged|got no|no confirmation|not confirmed|didn't get",
    "not received|нет подтверждения|никто*3 не *15|никто ничего|так и не *15|до сих пор не",
    "обещали|не встретил*2|не подтвердил*3|не подтверждают|не дождались",
    "не могу дозвониться|не можем дозвониться|не дозвониться|не отвечает|не отвечают",
    "никто не отвечает|не ответили|не отвечаете|до сих пор|не пришли|не пришел|не пришло",
    "не прислали|не получили|не получил|не получила|списали*2|дважды|не работает",
    "не работают|отменили|задержали|задержка рейса|задержан*3|потеряли|не встретили",
    "не заселили|не можем заселиться|не вернули|не могу оплатить|не получается|не проходит",
    "ошибка*2|проблем*3|ждем уже|уже неделю|nobody|no one|not working|broken|lost",
    "cancelled|canceled|delayed|charged twice|still waiting|never came|never arrived",
    "didn't come|did not come|no one came|nobody came|haven't received|didn't receive",
    "never received|problem*1|issue|ешкім|жауап бермейді|келмеді|кешікті|жоғалды|мәселе*3",
];

/// Booking verbs.
const BOOK_STRONG: &[&str] = &[
    "бронир*5|резерв*6|зарезерв*6|рәсімде*6|go ahead|proceed|sign me up|let's do it",
    "забронир*5|заброни*4|бронируйте|бронирую|брондау*3|брондаймыз|брондағым*4|брондап*4",
    "брондайық|брондаңыз|брондасақ|тапсырыс бер*5|оформляем|оформите|оформим|оформляйте",
    "оформить тур|оформить бронь|хочу оплатить|готовы оплатить|готов оплатить",
    "готова оплатить|берем|беру|возьмем|возьму|берем этот|взять вариант*3|взять этот",
    "взять тур|i'll take|we'll take|we will take|i will take|we take|go with|book|to book",
    "book it|reserve*1|заказать тур|заказываем|закажу|купить тур|покупаем|бронь на",
];

/// Booking nouns and payment words.
const BOOK_WEAK: &[&str] = &[
    "бронь|брони|бронью|договор*3|выбираем|выбрали|бронирован*4|booking|reservation",
    "оформ*6|оплатить|оплачу|оплатим|оплачиваем|предоплат*3|аламыз|алайық|төлейміз",
    "төлеймін|подтверждаю|подтверждаем|confirm*2",
];

/// General topics: documents and visas, health, insurance, baggage, payment, office, flights.
const FAQ: &[&str] = &[
    "въезд*3|время перел*5|время пол*5|длительность перел*5|сколько перел*5|how long*",
    "условия*2|правила*2|требования*2|ограничени*3|что взять|какие вещи|медицинск*4",
    "аптечк*3|напряжение|транзит*3|пересадк*3|стыковк*3|авиакомпани*3|детское кресло",
    "виза по прилету|анкет*3|срок действия|сколько действует|опасно|безопасно",
    "на каком языке|vaccin*6|policy|safe|safety|currency|tipping|tips|sim card|wifi",
    "transfer*1|airline*1|орналас*6|въехать|въезжать|entry requirements",
    "разрешени*3 на выезд|на выезд|выезд ребенка|выезда ребенка|выезд за границу",
    "разрешение*2|виза*4|визу|визы|визой|визе|визах|визов*3|безвиз*3|visa*1|паспорт*3",
    "загран*6|загранпаспорт*3|документ*3|document*2|passport*1|papers|справк*3",
    "доверенност*3|свидетельств*4|согласие на выезд|прививк*3|вакцин*4|ковид*2|covid|пцр",
    "страхов*4|страховк*3|insurance|insured|багаж*3|ручная кладь|ручной клади|кладь",
    "чемодан*3|килограмм*3|кг|baggage|luggage|kg|как оплатить|как можно оплатить",
    "чем оплатить|можно оплатить|можно ли оплатить|способ* оплаты|оплата картой",
    "оплатить картой|картой|наличн*4|каспи*2|kaspi|рассрочк*3|кредит*3|halyk|халык",
    "how to pay|how can i pay|can i pay|pay by|payment*1|installment*1|instalment*1|cash",
    "card|credit|офис*3|адрес*2|находитесь|где вы|часы работы|график работы|режим работы",
    "работаете|до скольки|во сколько|открывает*5|закрывает*5|открыты|opening|closing",
    "office|address|opening hours|working hours|hours|open|located|сколько лететь",
    "время полета|сколько часов лететь|flight time|how long is the flight",
    "разница во времени|time difference|валют*3|чаевые|розетк*3|сим карт*|интернет|e visa",
    "evisa|төлқұжат*|құжат*4|сақтандыру*|жүк*4|төлеу*4|төлем*4|бөліп төлеу|несие*|кеңсе*4",
    "мекенжай*|жұмыс уақыты|жұмыс істейсіздер*",
];

/// Yes/no questions and "is it included".
const FAQ_WEAK: &[&str] = &[
    "можно ли|нужно ли|нужна ли|нужен ли|нужны ли|обязательно ли|разрешено ли|разрешается",
    "можно взять|взять с собой|брать с собой|do i need|do we need|is it allowed|allowed",
    "can i bring|can we bring|рұқсат*4|входит*2 ли|что входит|входит в стоимость",
    "включен*3 ли|трансфер*2|included|include|кіреді*3",
];

/// Weather, climate, season.
const WEATHER: &[&str] = &[
    "погод*3|температур*3|климат*3|сезон*2|когда лучше|лучшее время|best time",
    "when is the best|сезон дождей|сезон дожд*3|дожд*3|ливн*3|тайфун*3|шторм*3|жарко ли",
    "холодно ли|будет жарко|будет холодно|вода теплая|weather|temperature|climate|rain*3",
    "rainy season|typhoon*1|is it hot|ауа райы*|ауа-райы|жаңбыр*",
];

/// Wishes to travel and to see tours.
const SEARCH: &[&str] = &[
    "турик*2|рассматрива*5|планиру*5|собираемся|собираюсь|мечтаем|посоветуйте|посоветуете",
    "посоветуй|покажите|покажи|want|wanna|would like|we'd like|i'd like|planning|plan",
    "recommend|suggest|available|show me|ұсын*6|көрсет*6|путевк*3|путевочк*3|вылететь",
    "улететь|полететь|полетим|летим|слетать|съездить|поехать|поедем|поеду|отдохнуть",
    "отдых*3|отпуск*3|хотим|хочу|хотели бы|хотела бы|хотел бы|хотелось бы|ищем|ищу",
    "подберите|подобрать|подберем|подбери|интересует|интересуют|предложите|горящ*4|на море",
    "куда нибудь|сколько стоит|почем|стоимость тура|цена тура|holiday*1|vacation",
    "looking for|want to go|want to fly|travel*3|deals|deal|how much|beach|тур керек",
    "барғымыз келеді|барғым келеді|барамыз|барсақ|барайық|демалыс*3|демалғымыз*|ұшу*3",
    "ұшамыз|іздеп*|жолдама*|баға*4|бағасы|нұсқа*4|керек",
];

/// Words that go with searching but also with other talk.
const SEARCH_WEAK: &[&str] = &[
    "ноч*4|night*1|поменьше|побольше|подольше|покороче",
    "тур|туры|тура|туров|туре|туром|вылет*4|вылеты|tour*2|trip|package|fly|flight*1",
    "вариант*3|цена|цены|цен|стоимость|отель|отели|отелей|гостиниц*3|море|моря|пляж*3|куда",
    "есть ли|есть что|options|option|hotel*1|resort*1|price*1|қонақүй*|теңіз*",
];

/// Spam and unrelated offers.
const SPAM: &[&str] = &[
    "iphone|айфон*3|samsung|распродаж*3|лучшие цены|доставка|курс доллара|курс валют",
    "продаю|sell|selling|seo|раскрутк*3|продвижени*3|instagram|инстаграм*|followers",
    "подписчик*3|продам|продается|куплю|заработ*5|казино|ставки|ставок|крипт*6|инвест*6",
    "розыгрыш*|выигр*5|реклам*3|займ*3|кредит без|ссылк*|http*|www|earn|casino|crypto",
    "bitcoin|investment*1|subscribe|click|promo|гараж*|работу|вакансия*2|вакансии|резюме",
    "job|hiring|vacancy",
];

/// Phrases that contain a cue word but mean nothing here.
const NEUTRAL: &[&str] = &[
    "без проблем|бронировали|забронировали|бронировал|забронировал|забронировала",
    "бронировала|booked|оплатили|оплатил|оплатила|нет проблем|no problem|no problems",
    "не проблема|все включено|всё включено|all inclusive|пока нет|пока не|пока что",
    "пока только|first time|seats|анаммен|әкеммен|апаммен|ағаммен|әпкеммен|баламмен|досыммен",
];

static CUES: LazyLock<Lexicon<Cue>> = LazyLock::new(|| {
    let groups: &[(&[&str], Cue)] = &[
        (GREETING, Cue::Greeting),
        (THANKS, Cue::Thanks),
        (PERSON, Cue::Person),
        (CALL, Cue::Call),
        (TALK, Cue::Talk),
        (COMPLAINT_STRONG, Cue::ComplaintStrong),
        (COMPLAINT_WEAK, Cue::ComplaintWeak),
        (BOOK_STRONG, Cue::BookStrong),
        (BOOK_WEAK, Cue::BookWeak),
        (FAQ, Cue::Faq),
        (FAQ_WEAK, Cue::FaqWeak),
        (WEATHER, Cue::Weather),
        (SEARCH, Cue::Search),
        (SEARCH_WEAK, Cue::SearchWeak),
        (SPAM, Cue::Spam),
        (NEUTRAL, Cue::Neutral),
    ];
    let entries: Vec<(&str, Cue)> = groups
        .iter()
        .flat_map(|&(phrases, cue)| phrases.iter().map(move |&p| (p, cue)))
        .collect();
    Lexicon::with_fuzzy_min(&entries, CUE_FUZZY_MIN)
});

/// Whether a cue phrase starts at word `i` (such words are never a customer's name).
pub(crate) fn is_cue_word(t: &Text, i: usize) -> bool {
    CUES.at(t, i).is_some()
}

/// How many cue phrases of each kind a message has; computed once per message.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    greeting: usize,
    thanks: usize,
    person: usize,
    call: usize,
    talk: usize,
    complaint_strong: usize,
    complaint_weak: usize,
    book_strong: usize,
    book_weak: usize,
    faq: usize,
    faq_weak: usize,
    weather: usize,
    search: usize,
    search_weak: usize,
    spam: usize,
}

pub(crate) fn count(t: &Text) -> Counts {
    let mut c = Counts::default();
    for h in CUES.scan_fuzzy(t) {
        let n = match h.val {
            Cue::Greeting => &mut c.greeting,
            Cue::Thanks => &mut c.thanks,
            Cue::Person => &mut c.person,
            Cue::Call => &mut c.call,
            Cue::Talk => &mut c.talk,
            Cue::ComplaintStrong => &mut c.complaint_strong,
            Cue::ComplaintWeak => &mut c.complaint_weak,
            Cue::BookStrong => &mut c.book_strong,
            Cue::BookWeak => &mut c.book_weak,
            Cue::Faq => &mut c.faq,
            Cue::FaqWeak => &mut c.faq_weak,
            Cue::Weather => &mut c.weather,
            Cue::Search => &mut c.search,
            Cue::SearchWeak => &mut c.search_weak,
            Cue::Spam => &mut c.spam,
            Cue::Neutral => continue,
        };
        *n += 1;
    }
    c.complaint_weak += failures(t);
    // "Сколько можно?!", "Где ваучеры!!" with a negation: indignation.
    let indignant = t.raw.contains("?!") || t.raw.contains("!?") || t.raw.contains("!!");
    if indignant && (0..t.len()).any(|i| t.is(i, &["не", "нет", "no", "not", "жок", "емес"]))
    {
        c.complaint_weak += 1;
    }
    c
}

/// Reports of something not done: "не дали", "не подтвердили", "didn't arrive". A negated
/// past-tense verb is how most problem reports read, whatever the verb.
fn failures(t: &Text) -> usize {
    const NEUTRAL: &[&str] = &[
        "знал",
        "решил",
        "был",
        "бывал",
        "хотел",
        "думал",
        "видел",
        "нашел",
        "смотрел",
        "планировал",
    ];
    (1..t.len())
        .filter(|&i| {
            let (prev, w) = (t.w(i - 1), t.w(i));
            let ru_past = prev == "не"
                && w.chars().count() >= 4
                && (w.ends_with("ли") || w.ends_with("ла") || w.ends_with('л'))
                && !NEUTRAL.iter().any(|n| w.starts_with(n));
            let en_past = matches!(
                prev,
                "didn't" | "haven't" | "hasn't" | "wasn't" | "weren't" | "never"
            ) && !matches!(
                w,
                "been" | "decided" | "know" | "think" | "travel" | "traveled" | "travelled"
            );
            // Kazakh negative past: "өтпеді", "келмеді", "алмадық".
            let kk_past = [
                "мады",
                "меди",
                "пады",
                "педи",
                "бады",
                "беди",
                "мадык",
                "медик",
            ]
            .iter()
            .any(|e| w.ends_with(e) && w.chars().count() > e.chars().count() + 1);
            ru_past || en_past || kk_past
        })
        .count()
}

/// Words that turn a mention of a manager into a request for one.
const REQUEST: &[&str] = &[
    "нуж",
    "хочу",
    "хотим",
    "хотел",
    "дайте",
    "можно",
    "позов",
    "соедин",
    "переключ",
    "connect",
    "need",
    "want",
    "give",
    "get",
    "could",
    "can",
    "керек",
    "келеди",
    "may",
    "please",
    "пожалуйста",
    "where",
    "где",
];

/// Search slots present (contacts and name are not search parameters).
pub(crate) fn search_slot_count(s: &Slots) -> usize {
    [
        s.departure_city.is_some(),
        s.country.is_some(),
        s.resort.is_some(),
        s.date_from.is_some(),
        s.nights_from.is_some(),
        s.adults.is_some(),
        s.children.is_some(),
        s.budget_max.is_some(),
        s.stars.is_some(),
        s.meal.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count()
}

impl Counts {
    /// The message talks about the weather or climate (then a month in it is the season
    /// asked about, not a departure window).
    pub fn weather(&self) -> bool {
        self.weather > 0
    }

    /// The message mentions travelling (for relative days: "завтра" in "вылет завтра" is a
    /// date, in "перезвоните завтра" it is not).
    pub fn travel(&self) -> bool {
        self.search > 0 || self.search_weak > 0 || self.book_strong > 0
    }

    /// The message may be about a trip: it mentions travelling or nothing else at all (a bare
    /// "на следующей неделе" answers the bot's question about dates).
    pub fn maybe_travel(&self) -> bool {
        let elsewhere = self.thanks
            + self.call
            + self.person
            + self.faq
            + self.faq_weak
            + self.weather
            + self.complaint_strong
            + self.complaint_weak
            > 0;
        self.travel() || !elsewhere
    }
}

/// The intent of a message from its cue counts, slots and hints (rules in the module doc).
pub(crate) fn classify(t: &Text, c: &Counts, slots: &Slots, hints: &Hints) -> Intent {
    let n_slots = search_slot_count(slots);
    let contact = slots.phone.is_some() || slots.email.is_some();
    // Spam may use travel words ("выиграйте тур!") but names no trip parameters.
    if c.spam > 0 && n_slots == 0 && c.book_strong == 0 && c.call == 0 {
        return Intent::Other;
    }
    // Anger outranks everything: "позовите менеджера, это безобразие" is a complaint.
    if c.complaint_strong > 0 {
        return Intent::Complaint;
    }
    // "менеджер" alone is a topic; with "нужен", "дайте", "talk to" or as a short message
    // ("Оператор!") it is a request.
    let request = t.any_starts(REQUEST) || t.len() <= 4;
    if c.call > 0 || (c.person > 0 && (c.talk > 0 || request)) {
        return Intent::HumanRequest;
    }
    // A problem report ("не пришли ваучеры") unless the message is really a search.
    if c.complaint_weak > 0
        && c.book_strong == 0
        && c.search == 0
        && n_slots == 0
        && !hints.more
        && !hints.cheaper
    {
        return Intent::Complaint;
    }
    // A question about the offers ("а вот первый отель какой там пляж?", "а предоплата
    // сколько?") is neither a booking nor a choice. What is included, payment and flights
    // are general questions; the beach, the room, the price of an offer are about tours.
    if let Some(q) = hints.question
        && c.book_strong == 0
        && hints.choice.is_none()
        && (q.offer.is_some() || c.faq + c.weather == 0)
    {
        let general = matches!(
            q.topic,
            QuestionTopic::Included | QuestionTopic::Payment | QuestionTopic::Flight
        );
        return if general && !(c.search > 0 && n_slots >= 2) {
            Intent::Faq
        } else {
            Intent::TourSearch
        };
    }
    // A booking verb dominates a question; a booking noun or "оплатить" does not
    // ("Можно оплатить Kaspi в рассрочку?" is a question about payment).
    if c.book_strong > 0 || (c.book_weak > 0 && c.faq + c.weather == 0) {
        return Intent::BookingRequest;
    }
    // A general topic wins unless the message is plainly a search that mentions it
    // ("хотим в Турцию в июне вдвоём, нужна ли виза?"); travel said as a condition ("нужна
    // ли виза, если летим на 20 дней") leaves the question general.
    let conditional = t.any_starts(&["если", "егер"]) || (0..t.len()).any(|i| t.is(i, &["if"]));
    if c.faq + c.weather > 0 && !(c.search > 0 && n_slots >= 2 && !conditional) {
        return Intent::Faq;
    }
    // "Можно ли …?" about a place only is still a general question.
    let places_only = n_slots
        == usize::from(slots.country.is_some())
            + usize::from(slots.resort.is_some())
            + usize::from(slots.departure_city.is_some());
    if c.faq_weak > 0 && c.search == 0 && places_only && !hints.more && !hints.cheaper {
        return Intent::Faq;
    }
    // "Второй", "давайте третий": picking a shown offer.
    if hints.choice.is_some() && n_slots == 0 && !hints.more && !hints.cheaper {
        return Intent::BookingRequest;
    }
    // "Я у вас в ноябре покупала тур" is about an earlier purchase, not a new search.
    let earlier = hints.scope == Some(OutOfScope::ExistingBooking) && c.search == 0;
    let travel_only = matches!(
        hints.scope,
        Some(OutOfScope::FlightsOnly | OutOfScope::HotelOnly)
    );
    if !earlier
        && (c.search > 0
            || n_slots > 0
            || hints.more
            || hints.cheaper
            || travel_only
            || (c.search_weak > 0 && c.thanks == 0))
    {
        return Intent::TourSearch;
    }
    // Contact details with nothing else: to be called back.
    if contact {
        return Intent::HumanRequest;
    }
    if c.thanks > 0 {
        return Intent::ThanksBye;
    }
    // Introducing oneself ("Меня зовут Айгуль") opens the chat too.
    if c.greeting > 0 || slots.name.is_some() {
        return Intent::Greeting;
    }
    Intent::Other
}
