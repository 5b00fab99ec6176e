//! Scores the analyser on labelled messages: intent accuracy and slot micro-F1 over
//! (slot, value) pairs (`child_ages` compared as a whole list), per file, with every
//! mismatching line printed. Run with `--nocapture` to see the figures.

use chrono::NaiveDate;
use dialogs::analysis::analyze_line;
use serde_json::{Map, Value};

const INTENT_BAR: f64 = 0.95;
const F1_BAR: f64 = 0.93;

#[derive(Debug, Default)]
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
