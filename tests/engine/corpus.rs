//! The conversation corpus: realistic customer chats (`tests/corpus/<language>/*.txt`, format
//! in `tests/corpus/README.md`) played through the whole engine — webhook, Conversation actor,
//! dialog, the real Tours actor against the fake SAMO — each checked against its script's
//! behavioural expectations and the checks every conversation must pass.
//!
//! - [`script`]: the script format, parsed.
//! - [`dates`]: month names and dates kept as far ahead as when the scripts were written.
//! - [`run`]: playing a script against a fresh app, recording what the customer saw, what was
//!   searched, escalated, and who owns the chat.
//! - [`checks`]: expectations and global checks over what was recorded.
//!
//! The test prints, per language, how many conversations passed, the most common failure
//! classes and each failing check with its transcript. Conversations the current build fails
//! are listed in `tests/corpus/KNOWN_FAILURES`; the test fails when an unlisted one fails or a
//! listed one passes. `CORPUS=ru/family,en/` picks conversations by name, `CORPUS_VERBOSE=1`
//! prints every transcript, `CORPUS_JOBS` sets how many run at once.

mod checks;
mod dates;
mod run;
mod script;

use checks::Failure;
use run::Played;
use script::{Action, Lang, Script};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LANGUAGES: [&str; 4] = ["ru", "kk", "kk-ru", "en"];

/// `tests/corpus`, or the folder named by `CORPUS_DIR` (the same layout: one folder per
/// language and a `KNOWN_FAILURES`), to play scripts kept outside the repository.
fn corpus_dir() -> PathBuf {
    match std::env::var_os("CORPUS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"),
    }
}

/// Every script, sorted by name; parse errors are collected, not skipped.
fn load() -> Result<Vec<Script>, Vec<String>> {
    let mut scripts = Vec::new();
    let mut errors = Vec::new();
    for lang in LANGUAGES {
        let dir = corpus_dir().join(lang);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        paths.sort();
        for path in paths {
            let stem = path.file_stem().unwrap().to_string_lossy();
            let name = format!("{lang}/{stem}");
            let text = std::fs::read_to_string(&path).unwrap();
            match script::parse(&name, &text) {
                Ok(s) => scripts.push(s),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(scripts)
    } else {
        Err(errors)
    }
}

/// `KNOWN_FAILURES`: name → reason.
fn known_failures() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpus_dir().join("KNOWN_FAILURES")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (name, reason) = line.split_once('#').unwrap_or((line, ""));
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_owned(), reason.trim().to_owned()))
        })
        .collect()
}

/// The real Tours actor, configured as production configures it, against `samo`.
async fn real_tours(samo: &fakes::samo::FakeSamo) -> Arc<dyn actors::tours::TourSearch> {
    let config = crystalbay::config::Config::from_values(
        BTreeMap::new(),
        [
            ("SAMO_API_URL", samo.url.clone()),
            ("SAMO_OAUTH_TOKEN", fakes::samo::TOKEN.to_owned()),
            ("SAMO_REQUESTS_PER_SEC", "100".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .expect("a valid configuration");
    let settings = config.samo.expect("SAMO configured").tours_settings();
    Arc::new(
        actors::tours::start(settings)
            .await
            .expect("the Tours actor starts"),
    )
}

/// A conversation's outcome.
struct Outcome {
    script: Arc<Script>,
    played: Played,
    failures: Vec<Failure>,
}

fn transcript(out: &mut String, o: &Outcome) {
    let steps = &o.script.steps;
    for (i, r) in o.played.records.iter().enumerate() {
        let step = &steps[i];
        match &step.action {
            Action::Say(_) => {
                for line in &r.sent {
                    let _ = writeln!(out, "  {:>3} > {line}", step.line);
                }
            }
            Action::Button(data) => {
                let _ = writeln!(out, "  {:>3} [button {data}]", step.line);
            }
            Action::ManagerTakes => {
                let _ = writeln!(out, "  {:>3} [manager takes]", step.line);
            }
            Action::ManagerReleases => {
                let _ = writeln!(out, "  {:>3} [manager releases]", step.line);
            }
            Action::ManagerSays(text) => {
                let _ = writeln!(out, "  {:>3} [manager says: {text}]", step.line);
            }
        }
        for s in &r.searches {
            let _ = writeln!(out, "        · search {}", checks::describe(s));
        }
        for reply in &r.replies {
            let mut lines = reply.text.lines();
            let _ = writeln!(out, "      < {}", lines.next().unwrap_or(""));
            for line in lines {
                let _ = writeln!(out, "        {line}");
            }
            if !reply.buttons.is_empty() {
                let _ = writeln!(out, "        [buttons: {}]", reply.buttons.join(", "));
            }
        }
        for e in &r.escalations {
            let offer = crate::support::stored(&e.details)["offer"]["hotel"]
                .as_str()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let _ = writeln!(out, "        · escalation {}{offer}", e.reason);
        }
        for m in &r.managers {
            let first = m.lines().next().unwrap_or("");
            let _ = writeln!(out, "        · to managers: {first}…");
        }
        if r.owner != r.owner_before {
            let _ = writeln!(out, "        · owner {:?} → {:?}", r.owner_before, r.owner);
        }
        for f in o.failures.iter().filter(|f| f.step == i) {
            let _ = writeln!(out, "        ✗ [{}] {}", f.class, f.detail);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_corpus_plays_as_its_scripts_expect() {
    let scripts = match load() {
        Ok(s) => s,
        Err(errors) => panic!("scripts that do not parse:\n{}", errors.join("\n")),
    };
    let filters: Vec<String> = std::env::var("CORPUS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some() || !filters.is_empty();
    let jobs: usize = std::env::var("CORPUS_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .filter(|j| *j > 0)
        .unwrap_or(4);
    let chosen: Vec<Arc<Script>> = scripts
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())))
        .map(Arc::new)
        .collect();
    assert!(
        !chosen.is_empty(),
        "no conversation matches CORPUS={filters:?}"
    );

    let samo = fakes::samo::start().await;
    let tours = real_tours(&samo).await;
    let today = actors::turns::local_today();
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut running = tokio::task::JoinSet::new();
    for (index, script) in chosen.iter().cloned().enumerate() {
        let tours = tours.clone();
        let limit = limit.clone();
        running.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let played = run::play(&script, index, tours).await;
            let failures = checks::check(&script, &played.records, today);
            Outcome {
                script,
                played,
                failures,
            }
        });
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    while let Some(done) = running.join_next().await {
        outcomes.push(done.expect("a conversation's task"));
    }
    outcomes.sort_by(|a, b| a.script.name.cmp(&b.script.name));

    let known = known_failures();
    let mut report = String::new();
    let passed = outcomes.iter().filter(|o| o.failures.is_empty()).count();
    let _ = writeln!(
        report,
        "\ncorpus: {passed}/{} conversations passed (dates shifted by {} month(s))",
        outcomes.len(),
        dates::months_since_written(today)
    );
    let mut per_lang: BTreeMap<Lang, (usize, usize)> = BTreeMap::new();
    for o in &outcomes {
        let e = per_lang.entry(o.script.lang).or_default();
        e.1 += 1;
        if o.failures.is_empty() {
            e.0 += 1;
        }
    }
    for (lang, (ok, all)) in &per_lang {
        let _ = writeln!(
            report,
            "  {:<6} {ok:>3}/{all:<3} {:>3.0}%",
            lang.to_string(),
            100.0 * *ok as f64 / *all as f64
        );
    }
    // Failure classes: how many checks failed and in how many conversations.
    let mut classes: HashMap<&str, (usize, usize)> = HashMap::new();
    for o in &outcomes {
        let mut seen = std::collections::HashSet::new();
        for f in &o.failures {
            let e = classes.entry(f.class.as_str()).or_default();
            e.0 += 1;
            if seen.insert(f.class.as_str()) {
                e.1 += 1;
            }
        }
    }
    let mut classes: Vec<_> = classes.into_iter().collect();
    classes.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(b.1.0.cmp(&a.1.0)).then(a.0.cmp(b.0)));
    if !classes.is_empty() {
        let _ = writeln!(report, "failure classes (checks failed, in conversations):");
        for (class, (checks, convs)) in &classes {
            let _ = writeln!(report, "  {checks:>4} {convs:>4}  {class}");
        }
    }
    let mut unexpected_failures = Vec::new();
    let mut unexpected_passes = Vec::new();
    for o in &outcomes {
        let listed = known.get(&o.script.name);
        match (o.failures.is_empty(), listed) {
            (false, None) => unexpected_failures.push(o.script.name.clone()),
            (true, Some(_)) => unexpected_passes.push(o.script.name.clone()),
            _ => {}
        }
        if !o.failures.is_empty() || verbose {
            let status = match (o.failures.is_empty(), listed) {
                (true, None) => "passed".to_owned(),
                (true, Some(_)) => "PASSED, but listed in KNOWN_FAILURES".to_owned(),
                (false, Some(reason)) => format!("known failure: {reason}"),
                (false, None) => "FAILED (not in KNOWN_FAILURES)".to_owned(),
            };
            let _ = writeln!(report, "\n--- {} — {status}", o.script.name);
            transcript(&mut report, o);
        }
    }
    let stale: Vec<&String> = if filters.is_empty() {
        known
            .keys()
            .filter(|k| !outcomes.iter().any(|o| &o.script.name == *k))
            .collect()
    } else {
        Vec::new()
    };
    println!("{report}");
    assert!(
        unexpected_failures.is_empty() && unexpected_passes.is_empty() && stale.is_empty(),
        "the corpus differs from tests/corpus/KNOWN_FAILURES:\nunexpected failures: {unexpected_failures:?}\nunexpected passes (remove from KNOWN_FAILURES): {unexpected_passes:?}\nKNOWN_FAILURES lines with no script: {stale:?}"
    );
}
