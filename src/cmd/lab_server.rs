//! `sockkit lab-server`: the instructor's side of the socket-lab handshake (PROTOCOL.md section 1),
//! byte-compatible with the Python original and built to serve a whole class at once.
//!
//! Each client gets its own task: it is sent `{'clientid': <its source port>}`, and every student dict
//! it sends is printed (`Connected: Student: ...`) and acknowledged with pickled `1`. Anything else
//! (not a pickle, truncated, oversized, wrong type, missing keys, silence past --handshake-timeout)
//! is one log line on stderr naming the client, and that connection is closed; nobody else notices.
//! Ctrl-C stops accepting, lets handshakes in flight finish (for at most [`DRAIN`]), prints a summary
//! and exits 130.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::access::Access;
use crate::cli::{Framing, LabServerArgs};
use crate::error::{describe_io, ExitCode};
use crate::lab::{Student, Welcome, ACK, PROTOCOL};
use crate::net::{self, display_addr, ListenAddr, Resolve};
use crate::output::Output;
use crate::pickle::encode::encode;
use crate::pickle::{Event, Limits, PickleStream};

/// How long in-flight handshakes may take to finish after Ctrl-C.
const DRAIN: Duration = Duration::from_secs(5);

/// Bytes read from a client at a time (the Python server reads 1024).
const READ_SIZE: usize = 2048;

struct Shared {
    out: Output,
    roster: Option<Mutex<Roster>>,
    handshake_timeout: Duration,
    max_message: usize,
    verbose: bool,
    /// Students acknowledged.
    served: AtomicU64,
    /// Connections closed for bad input, timeouts or the connection limit.
    rejected: AtomicU64,
    active: AtomicUsize,
    idle: Notify,
}

pub async fn run(args: LabServerArgs, out: Output) -> Result<ExitCode> {
    let limit = net::raise_fd_limit();
    if args.verbose {
        eprintln!("sockkit: open-file limit {limit}");
    }
    if (limit as usize) < args.max_conns + 16 {
        eprintln!(
            "sockkit: warning: the open-file limit ({limit}) is below --max-conns ({}); clients past it will be refused",
            args.max_conns
        );
    }
    let access = Access::from_args(&args.allow, &args.deny)?;
    let roster = match &args.roster {
        Some(path) => Some(Mutex::new(Roster::open(path)?)),
        None => None,
    };
    let at = ListenAddr {
        host: Some(args.host.clone()),
        port: args.port,
    };
    let listener = net::listen_tcp(&at, Resolve::default(), 4096).await?;
    let local = listener.local_addr()?;
    out.text(format!("Listening at {}/{}", local.ip(), local.port()))
        .await;
    out.flush().await;
    let shared = Arc::new(Shared {
        out,
        roster,
        handshake_timeout: args.handshake_timeout,
        max_message: args.max_message,
        verbose: args.verbose,
        served: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        active: AtomicUsize::new(0),
        idle: Notify::new(),
    });
    let signal = crate::signal();
    tokio::pin!(signal);
    let code = loop {
        tokio::select! {
            code = &mut signal => break code,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("sockkit: accept failed: {}", describe_io(&e));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let peer = display_addr(peer);
                if !access.permits(peer.ip()) {
                    eprintln!("sockkit: {peer}: refused by --allow/--deny");
                    shared.rejected.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if shared.active.load(Ordering::Relaxed) >= args.max_conns {
                    eprintln!("sockkit: {peer}: refused: {} clients connected (--max-conns)", args.max_conns);
                    shared.rejected.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                shared.active.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, peer, &shared).await {
                        eprintln!("sockkit: {peer}: {e:#}");
                        shared.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                    if shared.active.fetch_sub(1, Ordering::Relaxed) == 1 {
                        shared.idle.notify_waiters();
                    }
                });
            }
        }
    };
    // Stop accepting; let handshakes in flight finish, for a bounded time.
    drop(listener);
    let drained = tokio::time::timeout(DRAIN, async {
        while shared.active.load(Ordering::Relaxed) > 0 {
            let idle = shared.idle.notified();
            if shared.active.load(Ordering::Relaxed) == 0 {
                break;
            }
            idle.await;
        }
    })
    .await;
    let left = shared.active.load(Ordering::Relaxed);
    shared.out.flush().await;
    eprintln!(
        "sockkit: lab-server stopped: {} students acknowledged, {} clients rejected{}",
        shared.served.load(Ordering::Relaxed),
        shared.rejected.load(Ordering::Relaxed),
        if drained.is_err() {
            format!(", {left} still connected were cut off")
        } else {
            String::new()
        }
    );
    Ok(code)
}

/// One client: welcome, then read, check, print and acknowledge student dicts until it closes.
async fn serve(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) -> Result<()> {
    let _ = stream.set_nodelay(true);
    let welcome = encode(&Welcome::dict(i64::from(peer.port())), PROTOCOL)
        .map_err(|e| anyhow!("cannot encode the welcome: {e}"))?;
    stream
        .write_all(&welcome)
        .await
        .map_err(|e| anyhow!("could not send the client id: {}", describe_io(&e)))?;
    let mut pickles = PickleStream::new(
        Framing::Stop,
        Limits {
            max_message: shared.max_message,
            ..Limits::default()
        },
    );
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut acked = 0u64;
    loop {
        buf.clear();
        let read = tokio::time::timeout(shared.handshake_timeout, stream.read_buf(&mut buf)).await;
        let n = match read {
            Err(_) if acked == 0 => bail!(
                "no student record within {} (--handshake-timeout); closed",
                humantime::format_duration(shared.handshake_timeout)
            ),
            Err(_) => bail!(
                "silent for {} after {acked} acknowledged; closed",
                humantime::format_duration(shared.handshake_timeout)
            ),
            Ok(Err(e)) => bail!("connection lost: {}", describe_io(&e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            if let Some(event) = pickles.finish() {
                check_event(event, peer, shared, &mut stream, &mut acked).await?;
            }
            if acked == 0 {
                bail!("closed the connection without sending a student record");
            }
            return Ok(());
        }
        pickles.push(&buf[..n]);
        while let Some(event) = pickles.next_event() {
            check_event(event, peer, shared, &mut stream, &mut acked).await?;
        }
        // Bad bytes held back while more may follow (an oversized FRAME, garbage): drop the client now.
        if let Some(event) = pickles.take_invalid() {
            check_event(event, peer, shared, &mut stream, &mut acked).await?;
        }
    }
}

async fn check_event(
    event: Event,
    peer: SocketAddr,
    shared: &Shared,
    stream: &mut TcpStream,
    acked: &mut u64,
) -> Result<()> {
    let decoded = match event {
        Event::Message(decoded) => decoded,
        other => bail!("{}", describe_bad(&other)),
    };
    let value = decoded
        .to_value()
        .map_err(|e| anyhow!("unusable pickle: {e}"))?;
    let student = Student::from_value(&value)
        .map_err(|e| anyhow!("not a student record: {e}; got {}", clip(&decoded.repr())))?;
    if shared.verbose {
        eprintln!("sockkit: {peer}: received {}", clip(&decoded.repr()));
    }
    shared.out.text(student.connected_line()).await;
    if let Some(roster) = &shared.roster {
        roster
            .lock()
            .expect("roster lock")
            .append(peer.port(), &student)
            .context("could not write the roster")?;
    }
    stream
        .write_all(ACK)
        .await
        .map_err(|e| anyhow!("could not send the acknowledgement: {}", describe_io(&e)))?;
    *acked += 1;
    shared.served.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn describe_bad(event: &Event) -> String {
    match event {
        Event::Message(_) => "a message".into(),
        Event::Invalid { reason, bytes, .. } => {
            format!("not a valid pickle: {reason} (starts {})", hex_start(bytes))
        }
        Event::Truncated { bytes } => format!(
            "closed in the middle of a message ({} bytes: {})",
            bytes.len(),
            hex_start(bytes)
        ),
    }
}

fn hex_start(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(16)];
    let mut text = hex::encode(shown);
    if bytes.len() > shown.len() {
        text.push_str("...");
    }
    text
}

/// Keeps log lines short: a hostile client's 60 KB string is not echoed whole.
fn clip(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} chars)", &text[..end], text.chars().count())
}

/// The attendance file: one CSV row per acknowledged student, written through at once.
struct Roster {
    file: File,
}

impl Roster {
    fn open(path: &Path) -> Result<Roster> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the roster {}", path.display()))?;
        let empty = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        if empty {
            file.write_all(b"time,client_id,name,github,sid\n")
                .with_context(|| format!("cannot write the roster {}", path.display()))?;
        }
        Ok(Roster { file })
    }

    fn append(&mut self, client_id: u16, student: &Student) -> std::io::Result<()> {
        let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let row = format!(
            "{time},{client_id},{},{},{}\n",
            csv_field(&student.name),
            csv_field(&student.github),
            student.sid
        );
        // One write per row, straight to the file: the row is there even if we are killed next.
        self.file.write_all(row.as_bytes())
    }
}

/// Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet formulas.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields() {
        assert_eq!(csv_field("Alice Brown"), "Alice Brown");
        assert_eq!(csv_field("Brown, Alice"), "\"Brown, Alice\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
