//! A TCP proxy a test can cut and restore: the engine talks to the database through it, so a
//! database outage is simulated without touching the (shared) database server. Cut, it closes
//! every connection it carries and refuses new ones (accepted, then closed at once), as a
//! database that went away does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Proxy {
    pub addr: SocketAddr,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    /// A proxy to `target`, open (or cut, when `open` is false) from the start.
    pub async fn start(target: SocketAddr, open: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(open));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accepting = {
            let open = open.clone();
            let links = links.clone();
            tokio::spawn(async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::Acquire) {
                        drop(client);
                        continue;
                    }
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    let mut links = links.lock().unwrap();
                    links.retain(|l| !l.is_finished());
                    links.push(link.abort_handle());
                }
            })
        };
        Proxy {
            addr,
            open,
            links,
            listener: accepting.abort_handle(),
        }
    }

    /// The database goes away: every connection closed, new ones refused.
    pub fn cut(&self) {
        self.open.store(false, Ordering::Release);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.open.store(true, Ordering::Release);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.listener.abort();
    }
}
