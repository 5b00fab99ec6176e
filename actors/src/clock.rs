//! The engine's clock: the system's, which a test may move forward instead of sleeping (a
//! quiet period, a dictionary's half-life). Nothing in the program moves it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The system clock, plus however far it has been moved forward (never, outside tests).
/// Clones share the same offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds ahead of the system clock.
    ahead: Arc<AtomicU64>,
}

impl Clock {
    fn ahead(&self) -> Duration {
        Duration::from_micros(self.ahead.load(Ordering::Relaxed))
    }

    /// Now, to the microsecond (what both databases keep).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        let ahead = chrono::TimeDelta::from_std(self.ahead()).unwrap_or_default();
        (chrono::Utc::now() + ahead).trunc_subsecs(6)
    }

    /// Now, for measuring how long ago something happened.
    pub fn instant(&self) -> Instant {
        Instant::now() + self.ahead()
    }

    /// Moves this clock (and its clones) forward by `by`, at once. For tests.
    pub fn advance(&self, by: Duration) {
        let micros = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.ahead.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_is_ahead_for_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(3600));
        assert!(other.now() - before >= chrono::TimeDelta::hours(1));
        assert!(other.instant() >= Instant::now() + Duration::from_secs(3599));
    }
}
