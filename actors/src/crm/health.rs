//! What the Crm actor knows of Bitrix24, for the people watching: the last check of the portal,
//! the set-up problem commands are held for (and since when), and the calls made. Shared
//! through a [`CrmHandle`], which outlives restarts of the actor and also carries the request
//! to re-read the portal at once (SIGHUP, `POST /admin/crm/recheck`).

use super::bitrix::{CallCounts, CallStats};
use super::check::BitrixCheck;
use super::pipeline::SetupProblem;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use tokio::sync::Notify;

/// A snapshot for `GET /admin/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrmHealth {
    /// The last check (at start and at each re-read of the portal).
    pub check: Option<BitrixCheck>,
    /// The set-up problem CRM commands are held for.
    pub problem: Option<SetupProblem>,
    pub problem_since: Option<DateTime<Utc>>,
    /// Requests made to the portal since start.
    pub calls: CallCounts,
}

impl CrmHealth {
    /// Red: a set-up problem, or a check that did not pass.
    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.check.as_ref().is_none_or(BitrixCheck::ok)
    }
}

/// How a newly reported problem compares with the one known.
#[derive(Debug, Clone, PartialEq)]
pub enum ProblemChange {
    /// Nothing changed.
    Same,
    /// A problem appeared, or became another one.
    New(SetupProblem),
    /// The problem is gone.
    Resolved(SetupProblem),
}

/// The shared handle: cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CrmHandle {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    state: RwLock<State>,
    stats: Arc<CallStats>,
    recheck: Notify,
}

#[derive(Debug, Default)]
struct State {
    check: Option<BitrixCheck>,
    problem: Option<(SetupProblem, DateTime<Utc>)>,
}

impl CrmHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// What is known now.
    pub fn health(&self) -> CrmHealth {
        let state = self.inner.state.read().unwrap_or_else(|e| e.into_inner());
        CrmHealth {
            check: state.check.clone(),
            problem: state.problem.as_ref().map(|(p, _)| p.clone()),
            problem_since: state.problem.as_ref().map(|(_, at)| *at),
            calls: self.inner.stats.counts(),
        }
    }

    /// Asks the Crm actor to re-read the portal now (and release held commands when the
    /// set-up is right).
    pub fn recheck(&self) {
        self.inner.recheck.notify_one();
    }

    /// Resolves at the next [`CrmHandle::recheck`] (one asked before counts).
    pub(crate) async fn recheck_asked(&self) {
        self.inner.recheck.notified().await;
    }

    /// The counters the Bitrix24 client counts into.
    pub(crate) fn stats(&self) -> Arc<CallStats> {
        self.inner.stats.clone()
    }

    pub(crate) fn set_check(&self, check: BitrixCheck) {
        self.inner
            .state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .check = Some(check);
    }

    /// Records the problem now known (`None`: none) and says how it changed.
    pub(crate) fn set_problem(&self, problem: Option<SetupProblem>) -> ProblemChange {
        let mut state = self.inner.state.write().unwrap_or_else(|e| e.into_inner());
        match (state.problem.take(), problem) {
            (None, None) => ProblemChange::Same,
            (Some((old, _)), None) => ProblemChange::Resolved(old),
            (Some((old, since)), Some(new)) if old == new => {
                state.problem = Some((old, since));
                ProblemChange::Same
            }
            (_, Some(new)) => {
                state.problem = Some((new.clone(), Utc::now()));
                ProblemChange::New(new)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_new_once_and_resolved_once() {
        let h = CrmHandle::new();
        let p = SetupProblem::SeveralPipelines {
            names: vec!["A".into(), "B".into()],
        };
        assert_eq!(
            h.set_problem(Some(p.clone())),
            ProblemChange::New(p.clone())
        );
        assert_eq!(h.set_problem(Some(p.clone())), ProblemChange::Same);
        assert!(!h.health().ok());
        assert_eq!(h.set_problem(None), ProblemChange::Resolved(p));
        assert_eq!(h.set_problem(None), ProblemChange::Same);
        assert!(h.health().ok());
    }
}
