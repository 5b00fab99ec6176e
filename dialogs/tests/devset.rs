//! Scores the analyser on labelled messages: intent accuracy and slot micro-F1 over
//! (slot, value) pairs (`child_ages` compared as a whole list), per file and per language,
//! with every mismatching line printed. The dialog hints (`Hints`, not part of the SCHEMA
//! output) are scored the same way on their own labels (`*_hints.jsonl`: micro-F1 over the
//! hints a line should have, and the share of lines whose hints are exactly right). Run with
//! `--nocapture` to see the figures.
//!
//! Files: `dev.jsonl` (the public sample), `extra.jsonl` (our first labels), `wild.jsonl`
//! (messages written as customers write them: typos, shorthand, holidays, mixed Kazakh and
//! Russian, questions and choices) and `holdout.jsonl` (written after the rules, without
//! looking at them, and scored once before any rule was changed for it).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use dialogs::analysis::{OutOfScope, QuestionTopic, analyze, analyze_line};
use serde_json::{Map, Value, json};

const INTENT_BAR: f64 = 0.95;
const F1_BAR: f64 = 0.93;

#[derive(Debug, Default, Clone)]
struct Score {
    lines: usize,
    intent_ok: usize,
    language_ok: usize,
    tp: usize,
    predicted: usize,
    expected: usize,
}

impl Score {
    fn intent_accuracy(&self) -> f64 {
        self.intent_ok as f64 / self.lines.max(1) as f64
    }
    fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.tp as f64 / self.predicted as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.tp as f64 / self.expected as f64
        }
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn slots(v: &Value) -> Map<String, Value> {
    v.get("slots")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn score(name: &str, data: &str) -> Score {
    let fallback = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let mut s = Score::default();
    let mut by_language: BTreeMap<String, Score> = BTreeMap::new();
    for (no, line) in data
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", no + 1));
        let expect = &case["expect"];
        let got = analyze_line(line, fallback);
        s.lines += 1;
        let intent_ok = got["intent"] == expect["intent"];
        s.intent_ok += usize::from(intent_ok);
        s.language_ok += usize::from(got["language"] == expect["language"]);
        let (g, e) = (slots(&got), slots(expect));
        s.predicted += g.len();
        s.expected += e.len();
        s.tp += g.iter().filter(|(k, v)| e.get(*k) == Some(v)).count();
        let l = by_language
            .entry(expect["language"].as_str().unwrap_or("?").to_string())
            .or_default();
        l.lines += 1;
        l.intent_ok += usize::from(intent_ok);
        l.language_ok += usize::from(got["language"] == expect["language"]);
        l.predicted += g.len();
        l.expected += e.len();
        l.tp += g.iter().filter(|(k, v)| e.get(*k) == Some(v)).count();
        if !intent_ok || g != e || got["language"] != expect["language"] {
            println!("{name}:{} {}", no + 1, case["text"]);
            if !intent_ok {
                println!(
                    "    intent   {} (expected {})",
                    got["intent"], expect["intent"]
                );
            }
            if got["language"] != expect["language"] {
                println!(
                    "    language {} (expected {})",
                    got["language"], expect["language"]
                );
            }
            for (k, v) in &e {
                if g.get(k) != Some(v) {
                    println!(
                        "    missing  {k}={v} (got {})",
                        g.get(k).map_or("nothing".to_string(), Value::to_string)
                    );
                }
            }
            for (k, v) in &g {
                if !e.contains_key(k) {
                    println!("    extra    {k}={v}");
                }
            }
        }
    }
    println!(
        "{name}: {} lines, intent accuracy {:.3}, language accuracy {:.3}, slots P {:.3} R {:.3} F1 {:.3} ({} tp / {} predicted / {} expected)",
        s.lines,
        s.intent_accuracy(),
        s.language_ok as f64 / s.lines.max(1) as f64,
        s.precision(),
        s.recall(),
        s.f1(),
        s.tp,
        s.predicted,
        s.expected
    );
    if by_language.len() > 1 {
        for (lang, l) in &by_language {
            println!(
                "    {lang}: {} lines, intent {:.3}, language {:.3}, slots F1 {:.3}",
                l.lines,
                l.intent_accuracy(),
                l.language_ok as f64 / l.lines.max(1) as f64,
                l.f1()
            );
        }
    }
    s
}

fn check(name: &str, data: &str) {
    let s = score(name, data);
    assert!(s.lines > 0, "{name} is empty");
    assert!(
        s.intent_accuracy() >= INTENT_BAR,
        "{name}: intent accuracy {:.3} < {INTENT_BAR}",
        s.intent_accuracy()
    );
    assert!(s.f1() >= F1_BAR, "{name}: slot F1 {:.3} < {F1_BAR}", s.f1());
}

#[test]
fn dev_sample_meets_the_bar() {
    check("dev.jsonl", include_str!("data/dev.jsonl"));
}

#[test]
fn extra_set_meets_the_bar() {
    check("extra.jsonl", include_str!("data/extra.jsonl"));
}

#[test]
fn wild_set_meets_the_bar() {
    check_with(
        "wild.jsonl",
        include_str!("data/wild.jsonl"),
        WILD_INTENT_BAR,
        WILD_F1_BAR,
    );
}

#[test]
fn wild_hints_meet_the_bar() {
    check_hints(
        "wild_hints.jsonl",
        include_str!("data/wild_hints.jsonl"),
        WILD_HINTS_BAR,
    );
}

/// Bars for the file written as customers write, a little below the figures reached (intent
/// 1.000, slot F1 0.999, hints F1 1.000) so that a change that loses ground fails here.
const WILD_INTENT_BAR: f64 = 0.95;
const WILD_F1_BAR: f64 = 0.95;
const WILD_HINTS_BAR: f64 = 0.9;

fn check_with(name: &str, data: &str, intent_bar: f64, f1_bar: f64) {
    let s = score(name, data);
    assert!(s.lines > 0, "{name} is empty");
    assert!(
        s.intent_accuracy() >= intent_bar,
        "{name}: intent accuracy {:.3} < {intent_bar}",
        s.intent_accuracy()
    );
    assert!(s.f1() >= f1_bar, "{name}: slot F1 {:.3} < {f1_bar}", s.f1());
}

/// The hints of one analysis in the label format: only what is set, e.g.
/// `{"question": {"topic": "beach", "offer": 1}, "date_range": ["2027-01-20", "2027-01-30"]}`.
fn hints_json(text: &str, today: NaiveDate) -> Map<String, Value> {
    let h = analyze(text, today).hints;
    let mut m = Map::new();
    if h.more {
        m.insert("more".into(), json!(true));
    }
    if h.cheaper {
        m.insert("cheaper".into(), json!(true));
    }
    if let Some(c) = h.choice {
        m.insert("choice".into(), json!(c));
    }
    if let Some(q) = h.question {
        let topic = match q.topic {
            QuestionTopic::Beach => "beach",
            QuestionTopic::Price => "price",
            QuestionTopic::Included => "included",
            QuestionTopic::Payment => "payment",
            QuestionTopic::Meal => "meal",
            QuestionTopic::Room => "room",
            QuestionTopic::Flight => "flight",
            QuestionTopic::Availability => "availability",
            QuestionTopic::Compare => "compare",
            QuestionTopic::Hotel => "hotel",
        };
        let mut q_json = json!({ "topic": topic });
        if let Some(o) = q.offer {
            q_json["offer"] = json!(o);
        }
        m.insert("question".into(), q_json);
    }
    if !h.resort_alternatives.is_empty() {
        m.insert("resort_alternatives".into(), json!(h.resort_alternatives));
    }
    if let Some((a, b)) = h.date_range {
        m.insert("date_range".into(), json!([a.to_string(), b.to_string()]));
    }
    if h.date_approximate {
        m.insert("date_approximate".into(), json!(true));
    }
    if let Some(scope) = h.scope {
        let scope = match scope {
            OutOfScope::FlightsOnly => "flights_only",
            OutOfScope::HotelOnly => "hotel_only",
            OutOfScope::ExistingBooking => "existing_booking",
        };
        m.insert("scope".into(), json!(scope));
    }
    m
}

/// Scores hints: micro-F1 over the (hint, value) pairs, and lines exactly right.
fn check_hints(name: &str, data: &str, f1_bar: f64) {
    let fallback = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let mut s = Score::default();
    for (no, line) in data
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", no + 1));
        let text = case["text"].as_str().expect("text");
        let today = case["today"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .unwrap_or(fallback);
        let e = case["hints"].as_object().cloned().unwrap_or_default();
        let g = hints_json(text, today);
        s.lines += 1;
        s.intent_ok += usize::from(g == e);
        s.predicted += g.len();
        s.expected += e.len();
        s.tp += g.iter().filter(|(k, v)| e.get(*k) == Some(v)).count();
        if g != e {
            println!("{name}:{} {}", no + 1, case["text"]);
            println!("    expected {}", Value::Object(e));
            println!("    got      {}", Value::Object(g));
        }
    }
    println!(
        "{name}: {} lines, exactly right {:.3}, hints P {:.3} R {:.3} F1 {:.3} ({} tp / {} predicted / {} expected)",
        s.lines,
        s.intent_accuracy(),
        s.precision(),
        s.recall(),
        s.f1(),
        s.tp,
        s.predicted,
        s.expected
    );
    assert!(
        s.f1() >= f1_bar,
        "{name}: hints F1 {:.3} < {f1_bar}",
        s.f1()
    );
}

/// Throughput on one core: `cargo test -p dialogs --release --test devset -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn throughput() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    let texts: Vec<String> = [
        include_str!("data/dev.jsonl"),
        include_str!("data/extra.jsonl"),
    ]
    .iter()
    .flat_map(|d| d.lines())
    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    .filter_map(|v| v["text"].as_str().map(str::to_string))
    .collect();
    // Warm the lexicons up.
    for t in &texts {
        std::hint::black_box(dialogs::analysis::analyze(t, today));
    }
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for t in &texts {
            std::hint::black_box(dialogs::analysis::analyze(std::hint::black_box(t), today));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = rounds * texts.len();
    println!(
        "{n} messages in {secs:.3}s: {:.0} messages/s on one core",
        n as f64 / secs
    );
}
