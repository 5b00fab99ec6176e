//! A cached tour search end to end through the Tours actor's handle: the message to the
//! actor, the spawned task, the dictionary lookups by name, the page cache and the slice
//! back. SAMO (the fake) answers once, while warming up; every measured search is served from
//! the caches. Prints p50/p90/p99/max latency of sequential searches, then the throughput
//! of many concurrent ones.
//!
//!     cargo bench --bench tours_cache
//!
//! Target: p99 < 1 ms.

use actors::tours::{self, TourSearch, ToursSettings};
use dialogs::search::{PageRequest, SearchQuery, SortOrder};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const SEQUENTIAL: usize = 20_000;
const CONCURRENT_TASKS: usize = 64;
const PER_TASK: usize = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let fake = fakes::samo::start().await;
    let mut settings = ToursSettings::new(fake.url.clone(), SecretString::from(fakes::samo::TOKEN));
    settings.requests_per_sec = None;
    let tours = tours::start(settings).await.expect("Tours actor");
    let query = SearchQuery {
        departure_city: "Almaty".into(),
        country: "Vietnam".into(),
        resorts: vec!["Nha Trang".into()],
        hotels: Vec::new(),
        date_from: chrono::NaiveDate::from_ymd_opt(2027, 1, 10).expect("date"),
        date_to: chrono::NaiveDate::from_ymd_opt(2027, 1, 20).expect("date"),
        nights_from: 7,
        nights_to: 10,
        adults: 2,
        child_ages: vec![],
        budget_max: None,
        budget_currency: None,
        stars: None,
        meal: None,
        sort: SortOrder::PriceAsc,
    };
    let page = PageRequest {
        offset: 0,
        limit: 5,
    };
    let warm = tours.search(&query, page).await.expect("warm-up search");
    assert!(!warm.offers.is_empty(), "the fake gave offers");
    for _ in 0..1_000 {
        tours.search(&query, page).await.expect("search");
    }

    let mut latencies = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let started = Instant::now();
        let answer = tours.search(&query, page).await.expect("search");
        latencies.push(started.elapsed());
        std::hint::black_box(answer);
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "cached search through the Tours actor, {SEQUENTIAL} sequential: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        at(0.50),
        at(0.90),
        at(0.99),
        latencies[latencies.len() - 1]
    );

    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT_TASKS)
        .map(|_| {
            let tours = tours.clone();
            let query = query.clone();
            tokio::spawn(async move {
                let mut worst = Duration::ZERO;
                for _ in 0..PER_TASK {
                    let t = Instant::now();
                    tours.search(&query, page).await.expect("search");
                    worst = worst.max(t.elapsed());
                }
                worst
            })
        })
        .collect();
    let mut worst = Duration::ZERO;
    for task in tasks {
        worst = worst.max(task.await.expect("task"));
    }
    let total = CONCURRENT_TASKS * PER_TASK;
    let elapsed = started.elapsed();
    println!(
        "{CONCURRENT_TASKS} concurrent searchers × {PER_TASK}: {:.0} searches/s, slowest {worst:?}",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "SAMO requests: PRICES {}, TOWNFROMS {} (everything else came from the caches)",
        fake.requests_of("SearchTour_PRICES"),
        fake.requests_of("SearchTour_TOWNFROMS")
    );
}
