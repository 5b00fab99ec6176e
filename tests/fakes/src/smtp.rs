//! A tiny SMTP server (RFC 5321) for the engine's email channel: `EHLO`/`HELO`, `AUTH PLAIN` and
//! `AUTH LOGIN` (optional; the credentials below are accepted, others refused with 535),
//! `MAIL FROM`, `RCPT TO`, `DATA` with dot-unstuffing, `RSET`, `NOOP`, `QUIT`. Every accepted
//! message is recorded with its envelope and raw data, for a test to parse with mail-parser.
//!
//! Switches: the next N messages are refused with `451` at the end of `DATA` (a temporary
//! failure); mailboxes that `RCPT TO` refuses with `550 5.1.1` (no such user).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const USER: &str = "bot@crystalbay.test";
pub const PASSWORD: &str = "smtp-pass-0123";

/// A message the server accepted (the customer would get it).
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-unstuffed, CRLF line ends.
    pub data: Vec<u8>,
    /// Who authenticated on the connection, if anyone.
    pub auth_user: Option<String>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("the server received an email")
    }
}

#[derive(Default)]
pub struct FakeSmtp {
    /// `smtp://user:password@127.0.0.1:port`, to give the engine as `SMTP_URL`.
    pub url: String,
    received: Mutex<Vec<Received>>,
    /// The next this-many messages are refused with `451 4.3.0` after their data.
    pub fail_next: AtomicUsize,
    /// Messages refused with 451 so far.
    pub refused: AtomicUsize,
    /// Recipients refused at `RCPT TO` with `550 5.1.1`.
    pub unknown_mailboxes: Mutex<HashSet<String>>,
}

impl FakeSmtp {
    /// Messages accepted for `address`, in order.
    pub fn received_for(&self, address: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
            .cloned()
            .collect()
    }
}

/// Starts the server on a free port.
pub async fn start() -> Arc<FakeSmtp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Arc::new(FakeSmtp {
        url: format!(
            "smtp://{}:{PASSWORD}@127.0.0.1:{port}",
            USER.replace('@', "%40")
        ),
        ..FakeSmtp::default()
    });
    let state = server.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                // A client that goes away mid-session is no failure of the server.
                let _ = session(stream, &state).await;
            });
        }
    });
    server
}

/// One SMTP session, until `QUIT` or the client closes.
async fn session(stream: TcpStream, state: &FakeSmtp) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 fake-smtp ESMTP ready\r\n").await?;
    let mut auth_user: Option<String> = None;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut read).await? else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("");
        let reply: String = match verb {
            "EHLO" => {
                "250-fake-smtp\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SIZE 52428800".into()
            }
            "HELO" => "250 fake-smtp".into(),
            "AUTH" => {
                let args: Vec<&str> = line.split_whitespace().skip(1).collect();
                let credentials = match args.first().map(|m| m.to_ascii_uppercase()).as_deref() {
                    Some("PLAIN") => {
                        let encoded = match args.get(1) {
                            Some(initial) => (*initial).to_owned(),
                            None => {
                                write.write_all(b"334 \r\n").await?;
                                read_line(&mut read).await?.unwrap_or_default()
                            }
                        };
                        plain_credentials(&encoded)
                    }
                    Some("LOGIN") => {
                        write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                        let user = decode(&read_line(&mut read).await?.unwrap_or_default());
                        write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        let pass = decode(&read_line(&mut read).await?.unwrap_or_default());
                        user.zip(pass)
                    }
                    _ => None,
                };
                match credentials {
                    Some((user, pass)) if user == USER && pass == PASSWORD => {
                        auth_user = Some(user);
                        "235 2.7.0 Authentication successful".into()
                    }
                    _ => "535 5.7.8 Authentication credentials invalid".into(),
                }
            }
            "MAIL" => match angle_address(&line) {
                Some(address) => {
                    mail_from = Some(address);
                    rcpt_to.clear();
                    "250 2.1.0 OK".into()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>".into(),
            },
            "RCPT" => match (&mail_from, angle_address(&line)) {
                (None, _) => "503 5.5.1 MAIL first".into(),
                (_, None) => "501 5.5.4 Syntax: RCPT TO:<address>".into(),
                (Some(_), Some(address)) => {
                    let unknown = state
                        .unknown_mailboxes
                        .lock()
                        .unwrap()
                        .contains(&address.to_lowercase());
                    if unknown {
                        format!(
                            "550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
                        )
                    } else {
                        rcpt_to.push(address);
                        "250 2.1.5 OK".into()
                    }
                }
            },
            "DATA" if mail_from.is_none() || rcpt_to.is_empty() => "503 5.5.1 RCPT first".into(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut read).await?;
                let message = Received {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                    auth_user: auth_user.clone(),
                };
                let refuse = state
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refuse {
                    state.refused.fetch_add(1, Ordering::SeqCst);
                    "451 4.3.0 Temporary failure, try again later".into()
                } else {
                    state.received.lock().unwrap().push(message);
                    "250 2.0.0 OK queued".into()
                }
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// One command line without its line end; `None` when the client has closed.
async fn read_line(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if read.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&buf);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// The message after `DATA`, up to the lone `.` line, with leading dots unstuffed.
async fn read_data(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(data);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn angle_address(line: &str) -> Option<String> {
    let start = line.find('<')?;
    let end = start + line[start..].find('>')?;
    Some(line[start + 1..end].to_owned())
}

fn decode(encoded: &str) -> Option<String> {
    String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()
}

/// `AUTH PLAIN`'s `authzid \0 user \0 password`.
fn plain_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = decode(encoded)?;
    let mut parts = decoded.split('\0').skip(1);
    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
}
