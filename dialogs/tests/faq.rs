//! The shipped FAQ (`prompts/faq.toml`) against realistic questions, and its coverage of the
//! labelled messages in `tests/data`: the share of `faq` lines it answers, and the share of
//! tour searches and greetings it wrongly answers. Run with `--nocapture` for the figures.

use dialogs::analysis::Language;
use dialogs::faq::Faq;
use serde_json::Value;

/// Least share of the labelled FAQ questions that must find an answer.
const COVERAGE_FLOOR: f64 = 0.85;
/// Most share of tour searches and greetings that may get an FAQ answer.
const FALSE_ANSWER_CEILING: f64 = 0.03;

fn topic(text: &str) -> Option<&'static str> {
    static FAQ: std::sync::LazyLock<Faq> = std::sync::LazyLock::new(Faq::defaults);
    FAQ.answer(text, Language::Ru).map(|a| a.topic)
}

fn check(cases: &[(&str, &str)]) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| topic(text) != Some(want))
        .map(|(text, want)| format!("{text:?}: want {want}, got {:?}", topic(text)))
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn russian_questions_find_their_topic() {
    check(&[
        ("нужна виза во вьетнам?", "visa"),
        ("Скажите а виза нужна казахстанцам", "visa"),
        ("сколько дней можно без визы", "visa"),
        ("а загран до какого числа должен действовать", "passport"),
        ("можно по удостоверению полететь?", "passport"),
        (
            "какие докуметы нужны на ребенка если летит с мамой",
            "children_documents",
        ),
        (
            "нужно ли согласие отца если сын летит со мной",
            "children_documents",
        ),
        ("что надо из документов", "documents"),
        ("Можно ли оплатить через каспи", "payment"),
        ("есть расрочка?", "payment"),
        ("а частями можно заплатить", "payment"),
        ("сколько нужно внести предоплату", "prepayment"),
        ("можно сначала аванс а потом остаток", "prepayment"),
        ("сколько кило багажа", "baggage"),
        ("ручная кладь сколько", "baggage"),
        ("страховка есть?", "insurance"),
        ("если заболеем страховка покроет", "insurance"),
        ("а если отменить тур деньги вернут", "cancellation"),
        ("можно ли перенести даты поездки", "cancellation"),
        ("что входит в стоимость тура", "tour_contents"),
        ("перелет включен в цену?", "tour_contents"),
        ("трансфер есть из аэропорта", "transfer"),
        ("сколько часов лететь до фукуока из астаны", "flight_time"),
        ("как долго лететь", "flight_time"),
        ("какая погода в ноябре в нячанге", "weather"),
        ("когда там сезон дождей", "weather"),
        ("какую валюту брать", "currency"),
        ("где поменять деньги во вьетнаме", "currency"),
        ("прививки нужны какие то", "vaccinations"),
        ("можно с собакой", "pets"),
        ("можно ли взять кота", "pets"),
        ("как там с интернетом, симку где купить", "sim_internet"),
        ("какие есть экскурсии в нячанге", "excursions"),
        ("во сколько заселение в отель", "check_in"),
        ("до скольки работаете сегодня", "office_hours"),
        ("вы в воскресенье работаете?", "office_hours"),
        ("ваш адрес", "office_address"),
        ("где вы находитесь", "office_address"),
        ("у вас есть офис в астане", "office_address"),
        // Where two topics share words, the specific one wins.
        ("Страховка входит в стоимость тура?", "insurance"),
        ("Внесу предоплату, куда перевести?", "prepayment"),
        ("до какого числа нужно оплатить полностью", "prepayment"),
        ("нужна ли доверенность от отца", "children_documents"),
        ("какие документы для визы", "visa"),
        ("Сколько багажа входит в тариф?", "baggage"),
    ]);
}

#[test]
fn kazakh_questions_find_their_topic() {
    check(&[
        ("Вьетнамға виза керек пе", "visa"),
        ("визасыз қанша күн болуға болады", "visa"),
        ("паспорттың мерзімі қанша ай болуы керек", "passport"),
        ("балаға қандай құжаттар керек", "children_documents"),
        ("каспи арқылы төлеуге бола ма", "payment"),
        ("бөліп төлеу бар ма", "payment"),
        ("жүк қанша кг", "baggage"),
        ("сақтандыру бар ма", "insurance"),
        ("ауа райы қандай", "weather"),
        ("алматыдан қанша сағат ұшамыз", "flight_time"),
        ("кеңсеңіз қайда", "office_address"),
        ("сенбі күні жұмыс істейсіздер ме", "office_hours"),
    ]);
}

#[test]
fn english_questions_find_their_topic() {
    check(&[
        ("do we need visa", "visa"),
        ("how long must my passport be valid", "passport"),
        ("what papers does my kid need", "children_documents"),
        ("can i pay with kaspi", "payment"),
        ("is there an instalment plan", "payment"),
        ("how much deposit do you need", "prepayment"),
        ("what is the luggage allowance", "baggage"),
        ("is insurance included", "insurance"),
        ("can we get a refund if we cancel", "cancellation"),
        ("what's included in the package", "tour_contents"),
        ("how long is the flight from almaty", "flight_time"),
        ("weather in nha trang in october?", "weather"),
        ("what currency do they use", "currency"),
        ("any vaccinations needed", "vaccinations"),
        ("can i bring my dog", "pets"),
        ("where can i buy a sim card", "sim_internet"),
        ("what time do you open", "office_hours"),
        ("whats your address", "office_address"),
    ]);
}

#[test]
fn tour_searches_greetings_and_small_talk_get_no_answer() {
    for text in [
        "хотим в Нячанг в марте на двоих",
        "Здравствуйте!",
        "Добрый день 🙂",
        "Сәлеметсіз бе",
        "hi there",
        "Фукуок, всё включено, 5 звезд, до 1,5 млн",
        "нас двое и ребенок 5 лет, вылет из Астаны",
        "Сколько стоит тур во Вьетнам на двоих в марте?",
        "Хотим 10 ночей в Дананге, бюджет 2000 долларов",
        "Отель на первой линии, с завтраками",
        "который из отелей лучше?",
        "Наурызда Нячангқа екі адам барамыз",
        "We want to fly to Phu Quoc in December for 7 nights",
        "спасибо, до свидания",
        "Қайырлы кеш!",
        "Хотим в Нячанг в январе, в интернете нашли ваше предложение",
        "Нас трое, хотим в Дананг на 10 ночей в высокий сезон",
        "Отель с бассейном и wifi",
        "3 stars is ok, breakfast included",
        "Нам нужен тур без перелета, только отель",
        "Ищем отель для семьи с ребенком, чтобы был детский клуб",
        "We are 2 adults and a kid, looking for Nha Trang in March",
    ] {
        assert_eq!(topic(text), None, "{text:?}");
    }
}

#[test]
fn answers_follow_the_language() {
    let faq = Faq::defaults();
    let ru = faq.answer("виза нужна?", Language::Ru).unwrap();
    let kk = faq.answer("виза керек пе?", Language::Kk).unwrap();
    let en = faq.answer("do I need a visa?", Language::En).unwrap();
    assert_eq!((ru.topic, kk.topic, en.topic), ("visa", "visa", "visa"));
    assert!(ru.text.contains("Гражданам Казахстана"), "{}", ru.text);
    assert!(kk.text.contains("азаматтарына"), "{}", kk.text);
    assert!(en.text.contains("Citizens of Kazakhstan"), "{}", en.text);
}

/// Every entry of the shipped file answers in all three languages.
#[test]
fn shipped_entries_have_all_three_languages() {
    let faq = Faq::defaults();
    let cases = [
        ("visa", "виза"),
        ("payment", "kaspi"),
        ("office_address", "адрес"),
    ];
    for (want, text) in cases {
        let texts: Vec<&str> = [Language::Ru, Language::Kk, Language::En]
            .into_iter()
            .map(|l| faq.answer(text, l).unwrap().text)
            .collect();
        assert_eq!(faq.answer(text, Language::Ru).unwrap().topic, want);
        assert!(
            texts[0] != texts[1] && texts[0] != texts[2],
            "{want}: {texts:?}"
        );
    }
}

struct Line {
    file: &'static str,
    no: usize,
    text: String,
    intent: String,
}

fn labelled() -> Vec<Line> {
    let files = [
        ("dev.jsonl", include_str!("data/dev.jsonl")),
        ("extra.jsonl", include_str!("data/extra.jsonl")),
    ];
    let mut lines = Vec::new();
    for (file, data) in files {
        for (i, line) in data.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", i + 1));
            lines.push(Line {
                file,
                no: i + 1,
                text: v["text"].as_str().unwrap_or_default().to_string(),
                intent: v["expect"]["intent"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    lines
}

#[test]
fn covers_the_labelled_faq_questions() {
    let lines = labelled();
    let faq: Vec<&Line> = lines.iter().filter(|l| l.intent == "faq").collect();
    let mut answered = 0;
    for l in &faq {
        match topic(&l.text) {
            Some(t) => {
                answered += 1;
                println!("  {t:<20} {}", l.text);
            }
            None => println!("  MISSED {}:{} {}", l.file, l.no, l.text),
        }
    }
    let share = answered as f64 / faq.len().max(1) as f64;
    println!("faq lines answered: {answered}/{} = {share:.3}", faq.len());
    assert!(!faq.is_empty());
    assert!(
        share >= COVERAGE_FLOOR,
        "coverage {share:.3} < {COVERAGE_FLOOR}"
    );
}

#[test]
fn leaves_tour_searches_and_greetings_alone() {
    let lines = labelled();
    let mut worst = 0.0f64;
    for intent in [
        "tour_search",
        "greeting",
        "booking_request",
        "human_request",
        "complaint",
        "thanks_bye",
        "other",
    ] {
        let group: Vec<&Line> = lines.iter().filter(|l| l.intent == intent).collect();
        let hits: Vec<(&Line, &str)> = group
            .iter()
            .filter_map(|l| topic(&l.text).map(|t| (*l, t)))
            .collect();
        let share = hits.len() as f64 / group.len().max(1) as f64;
        println!(
            "{intent}: {}/{} answered by the FAQ ({share:.3})",
            hits.len(),
            group.len()
        );
        for (l, t) in &hits {
            println!("  {t:<20} {}:{} {}", l.file, l.no, l.text);
        }
        if intent == "tour_search" || intent == "greeting" {
            worst = worst.max(share);
        }
    }
    assert!(
        worst <= FALSE_ANSWER_CEILING,
        "{worst:.3} of tour searches or greetings answered by the FAQ"
    );
}

/// Speed on one core: `cargo test -p dialogs --release --test faq -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn throughput() {
    let faq = Faq::defaults();
    let texts: Vec<String> = labelled().into_iter().map(|l| l.text).collect();
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            std::hint::black_box(faq.answer(std::hint::black_box(t), Language::Ru));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = rounds * texts.len();
    println!(
        "{n} messages in {secs:.3}s: {:.0} messages/s on one core",
        n as f64 / secs
    );
}
