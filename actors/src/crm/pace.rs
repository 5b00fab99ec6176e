//! Pacing of calls to Bitrix24: the same leaky bucket the portal keeps (a counter that grows
//! by one per request and drains `rate` per second; above `burst`, requests are refused with
//! 503 `QUERY_LIMIT_EXCEEDED`). Keeping our own copy of it means we wait instead of being
//! refused; when the portal refuses anyway (other apps share its bucket), [`Pacer::saturate`]
//! makes ours full, so the next calls drain at `rate`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    fn a_refusal_fills_the_bucket() {
        let p = Pacer::new(2.0, 50);
        p.saturate();
        let mut b = p.bucket.lock().unwrap().clone();
        assert!(b.reserve(Instant::now()).is_some());
    }
}
