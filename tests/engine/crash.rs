//! The real binary, killed with SIGKILL between the acknowledgement and the reply, then
//! restarted on the same database: the customer gets exactly one reply.

use crate::support::{self, eventually};
use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::Duration;

const SECRET: &str = "crash-test-secret";
const WAIT: Duration = Duration::from_secs(30);

struct Engine {
    child: Child,
    base: String,
}

/// Starts `crystalbay run` with only the variables given (never the developer's environment).
async fn start(db: &std::path::Path, port: u16, wazzup_url: &str) -> Engine {
    let child = support::engine_command(db, port, wazzup_url, SECRET)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start the crystalbay binary");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let up = eventually(WAIT, || async {
        http.get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    assert!(up, "engine did not come up");
    Engine { child, base }
}

impl Engine {
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }

    async fn post(&self, body: &serde_json::Value) -> reqwest::StatusCode {
        reqwest::Client::new()
            .post(format!("{}/webhooks/wazzup/{SECRET}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

#[tokio::test]
async fn a_reply_interrupted_by_sigkill_reaches_the_customer_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    let port = crate::support::free_port();

    // 1. Killed while the reply is being sent: Wazzup has the request but never answers it.
    wazzup.hold.store(true, Ordering::SeqCst);
    let engine = start(&db, port, &wazzup_url).await;
    let status = engine
        .post(&fakes::wazzup::inbound(
            "crash-1",
            "77017770001",
            "Здравствуйте",
        ))
        .await;
    assert_eq!(status, 200, "acknowledged only once stored");
    assert!(
        eventually(WAIT, || async {
            wazzup.attempts.load(Ordering::SeqCst) >= 1
        })
        .await
    );
    engine.kill();
    assert!(
        wazzup.delivered_to("77017770001").is_empty(),
        "nothing delivered before the crash"
    );

    // 2. Killed right after the acknowledgement, before any reply could be sent.
    wazzup.hold.store(false, Ordering::SeqCst);
    let engine = start(&db, port, &wazzup_url).await;
    let status = engine
        .post(&fakes::wazzup::inbound(
            "crash-2",
            "77017770002",
            "Здравствуйте",
        ))
        .await;
    assert_eq!(status, 200);
    engine.kill();

    // 3. Restart on the same database: both customers get exactly one reply each.
    let engine = start(&db, port, &wazzup_url).await;
    for chat in ["77017770001", "77017770002"] {
        assert!(
            eventually(WAIT, || async { wazzup.delivered_to(chat).len() == 1 }).await,
            "{chat} was not answered after the restart"
        );
    }
    // A redelivery of the first message after the restart is recognised, not answered again.
    engine
        .post(&fakes::wazzup::inbound(
            "crash-1",
            "77017770001",
            "Здравствуйте",
        ))
        .await;
    engine
        .post(&fakes::wazzup::inbound(
            "crash-3",
            "77017770001",
            "а в марте?",
        ))
        .await;
    assert!(
        eventually(WAIT, || async {
            wazzup.delivered_to("77017770001").len() == 2
        })
        .await
    );
    let replies = wazzup.delivered_to("77017770001");
    assert!(
        replies[1].text.contains("марта"),
        "the second reply answers the new message"
    );
    assert_eq!(wazzup.delivered_to("77017770002").len(), 1);
    engine.kill();
}

#[tokio::test]
async fn sigterm_finishes_the_work_in_hand_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("term.db");
    let (wazzup_url, wazzup) = fakes::wazzup::start().await;
    let engine = start(&db, crate::support::free_port(), &wazzup_url).await;
    assert_eq!(
        engine
            .post(&fakes::wazzup::inbound(
                "term-1",
                "77018880001",
                "Здравствуйте"
            ))
            .await,
        200
    );
    assert!(
        eventually(WAIT, || async {
            wazzup.delivered_to("77018880001").len() == 1
        })
        .await
    );
    let mut child = engine.child;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    // Everything the run did is in the database: the message is handled, the reply sent.
    let store = actors::store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let entry = store
        .inbox_entry(dialogs::Channel::Wazzup, "term-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.status.as_str(), "handled");
    assert!(store.unsent_outbox().await.unwrap().is_empty());
}
