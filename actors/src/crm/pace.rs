//! Pacing of calls to Bitrix24: the same leaky bucket the portal keeps (a counter that grows
//! by one per request and drains `rate` per second; above `burst`, requests are refused with
//! 503 `QUERY_LIMIT_EXCEEDED`). Keeping our own copy of it means we wait instead of being
//! refused; when the portal refuses anyway (other apps share its bucket), [`Pacer::saturate`]
//! makes ours full, so the next calls drain at `rate`.
//!
//! A limit answer (503 `QUERY_LIMIT_EXCEEDED`, 429 `OPERATION_TIME_LIMIT`) means "wait for the
//! bucket", not "back off": [`limit_wait`] is about a second, jittered, never more than ten.
//! Time is tokio's, so tests can pause it.

use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The usual wait after a limit answer: the portal drains two requests a second, so a second
/// makes room.
pub const LIMIT_WAIT: Duration = Duration::from_secs(1);
/// The longest wait after one limit answer (even when Bitrix24 asks for more).
pub const MAX_LIMIT_WAIT: Duration = Duration::from_secs(10);

/// How long to wait after a limit answer: what Bitrix24 asked (`OPERATION_TIME_LIMIT`'s reset
/// time) or else [`LIMIT_WAIT`], within one to ten seconds, times 0.75–1.25 (`jitter` in
/// 0..1) so that callers refused together do not come back together.
pub fn limit_wait(asked: Option<Duration>, jitter: f64) -> Duration {
    let base = asked
        .unwrap_or(LIMIT_WAIT)
        .clamp(LIMIT_WAIT, MAX_LIMIT_WAIT);
    base.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
        .min(MAX_LIMIT_WAIT)
}

/// A number in 0..1 that differs from call to call (std's per-instance random hash keys).
pub fn jitter() -> f64 {
    let n = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    (n >> 11) as f64 / (1u64 << 53) as f64
}

/// A leaky bucket shared by every call of one Bitrix24 client.
#[derive(Debug)]
pub struct Pacer {
    bucket: Mutex<Bucket>,
}

#[derive(Debug, Clone)]
struct Bucket {
    /// Requests per second the bucket drains.
    rate: f64,
    /// How many requests it holds before refusing.
    burst: f64,
    /// Requests in the bucket as of `at`.
    level: f64,
    at: Instant,
}

impl Bucket {
    fn drain(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level - elapsed * self.rate).max(0.0);
        self.at = now;
    }

    /// Takes a place for one request at `now`, or says how long to wait for one.
    fn reserve(&mut self, now: Instant) -> Option<Duration> {
        self.drain(now);
        if self.level + 1.0 <= self.burst {
            self.level += 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                (self.level + 1.0 - self.burst) / self.rate,
            ))
        }
    }
}

impl Pacer {
    /// `rate` requests per second (more than zero), `burst` at once (at least one).
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            bucket: Mutex::new(Bucket {
                rate: rate.max(0.001),
                burst: f64::from(burst.max(1)),
                level: 0.0,
                at: Instant::now(),
            }),
        }
    }

    /// Waits until one more request fits in the bucket, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = self
                .bucket
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .reserve(Instant::now());
            match wait {
                None => return,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// The portal refused a request for the query limit: its bucket is full, so is ours.
    pub fn saturate(&self) {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        bucket.drain(Instant::now());
        bucket.level = bucket.level.max(bucket.burst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(rate: f64, burst: f64, at: Instant) -> Bucket {
        Bucket {
            rate,
            burst,
            level: 0.0,
            at,
        }
    }

    #[test]
    fn a_burst_passes_at_once_then_requests_wait_for_the_drain() {
        let t0 = Instant::now();
        let mut b = bucket(2.0, 50.0, t0);
        for _ in 0..50 {
            assert_eq!(b.reserve(t0), None);
        }
        assert_eq!(b.reserve(t0), Some(Duration::from_millis(500)));
        // Half a second later one place has drained.
        assert_eq!(b.reserve(t0 + Duration::from_millis(500)), None);
        assert!(b.reserve(t0 + Duration::from_millis(500)).is_some());
        // After 25 s the bucket is empty again.
        let later = t0 + Duration::from_secs(26);
        for _ in 0..50 {
            assert_eq!(b.reserve(later), None);
        }
    }

    #[test]
    fn a_limit_wait_is_about_a_second_and_never_over_ten() {
        assert_eq!(limit_wait(None, 0.5), Duration::from_secs(1));
        assert_eq!(limit_wait(None, 0.0), Duration::from_millis(750));
        assert_eq!(limit_wait(None, 1.0), Duration::from_millis(1250));
        assert_eq!(
            limit_wait(Some(Duration::from_secs(600)), 1.0),
            MAX_LIMIT_WAIT
        );
        assert_eq!(
            limit_wait(Some(Duration::from_millis(10)), 0.5),
            Duration::from_secs(1)
        );
        let j = jitter();
        assert!((0.0..1.0).contains(&j), "{j}");
    }

    #[test]
    fn a_refusal_fills_the_bucket() {
        let p = Pacer::new(2.0, 50);
        p.saturate();
        let mut b = p.bucket.lock().unwrap().clone();
        assert!(b.reserve(Instant::now()).is_some());
    }
}
