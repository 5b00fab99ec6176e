//! Serving the router so that slow or idle clients cannot take the server down.
//!
//! - **Header timeout** (`HTTP_HEADER_TIMEOUT_SECS`, default 10 s): a client that has not sent
//!   a whole request head within it is disconnected. Hyper arms the same timer when a
//!   kept-alive connection waits for its next request, so it is also the **idle keep-alive
//!   timeout**.
//! - **Body timeout** (`HTTP_BODY_TIMEOUT_SECS`, default 30 s): a body that does not arrive
//!   within it fails the request (the handler answers 400, nothing is stored).
//! - **Connection bound** (`HTTP_MAX_CONNECTIONS`, default 1024): at most that many client
//!   connections are held. When a new one arrives at the bound, the oldest connection with no
//!   request in progress (idle, or still dribbling its headers) is closed to make room; when
//!   every connection is busy with a request, new ones wait in the kernel's backlog until one
//!   finishes. So thousands of idle or half-sent connections cost a bounded number of file
//!   descriptors, and `/health` and the webhooks keep answering.
//!
//! HTTP/1.1 only (what Telegram, Wazzup and the email relays speak). Shutdown stops accepting,
//! lets requests in progress finish (idle connections close at once), and waits for them at
//! most [`DRAIN_LIMIT`].

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// How long shutdown waits for requests in progress.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The server's bounds (from [`crate::config::ServerConfig`]).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

impl From<&crate::config::ServerConfig> for Limits {
    fn from(c: &crate::config::ServerConfig) -> Self {
        Self {
            max_connections: c.max_connections,
            header_timeout: c.header_timeout,
            body_timeout: c.body_timeout,
        }
    }
}

/// One client connection as the accept loop sees it.
struct Conn {
    /// Requests being handled on it now.
    in_flight: AtomicUsize,
    /// Chosen to make room: its task drops it (closing the socket).
    evicted: AtomicBool,
    evict: Notify,
}

/// The open connections, oldest first (ids grow).
#[derive(Default)]
struct Conns {
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    /// A connection closed.
    closed: Notify,
}

impl Conns {
    fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Closes the oldest connection with no request in progress; false when there is none.
    fn evict_idle(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let victim = open
            .values()
            .find(|c| c.in_flight.load(Ordering::SeqCst) == 0 && !c.evicted.load(Ordering::SeqCst));
        match victim {
            Some(c) => {
                c.evicted.store(true, Ordering::SeqCst);
                c.evict.notify_one();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        self.closed.notify_waiters();
    }
}

/// Decrements a connection's requests in progress when the request's handling ends.
struct InFlight(Arc<Conn>);

impl InFlight {
    fn new(conn: Arc<Conn>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let conns = Arc::new(Conns::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors (EMFILE) and the like: make room, wait a little.
                    tracing::warn!(error = %e, "could not accept a connection");
                    conns.evict_idle();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Make room: close the oldest idle connection, or wait for a busy one to finish.
        while conns.len() >= limits.max_connections.max(1) {
            if conns.evict_idle() {
                metrics::counter!(crate::http::metrics::CONNECTIONS_SHED).increment(1);
            }
            let closed = conns.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if conns.len() < limits.max_connections.max(1) {
                break;
            }
            tokio::select! {
                _ = &mut shutdown => {
                    drop(stream);
                    return drain(conns.clone(), stop_tx).await;
                }
                _ = closed => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        conns
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, conn.clone());
        tokio::spawn(serve_connection(
            stream,
            router.clone(),
            limits.header_timeout,
            conn,
            stop_rx.clone(),
            ConnGuard(id, conns.clone()),
        ));
    }
    drain(conns, stop_tx).await
}

/// Removes the connection from the open ones when its task ends, however it ends.
struct ConnGuard(u64, Arc<Conns>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.1.remove(self.0);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: Router,
    header_timeout: Duration,
    conn: Arc<Conn>,
    mut stop: watch::Receiver<bool>,
    _guard: ConnGuard,
) {
    let for_requests = conn.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = InFlight::new(for_requests.clone());
        let handled = router.clone().oneshot(request.map(Body::new));
        async move {
            let response = handled.await;
            drop(in_flight);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            // Closed to make room for a new client: dropping the connection closes the socket.
            _ = conn.evict.notified() => return,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Tells every connection to finish, and waits (at most [`DRAIN_LIMIT`]) for them to close.
async fn drain(conns: Arc<Conns>, stop: watch::Sender<bool>) -> std::io::Result<()> {
    let _ = stop.send(true);
    let all_closed = async {
        loop {
            let closed = conns.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if conns.len() == 0 {
                return;
            }
            closed.await;
        }
    };
    if tokio::time::timeout(DRAIN_LIMIT, all_closed).await.is_err() {
        tracing::warn!(
            open = conns.len(),
            "connections still open after the drain limit; closing them"
        );
    }
    Ok(())
}
