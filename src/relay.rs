//! The bidirectional copy between one connection and stdin/stdout, with the end-of-stream rules:
//!
//! - stdin EOF: half-close (shutdown of our write side) unless `no_shutdown`, then keep printing until
//!   the peer closes; with `quit_after_eof`, stop that long after EOF anyway.
//! - peer EOF: stop at once when stdin is a terminal, has ended, is not read, or sending has failed;
//!   when stdin is a pipe or file still delivering data, keep sending it (the peer may only have
//!   half-closed, as in a transfer both ways at once) and stop when it ends or stays quiet for
//!   [`PEER_CLOSED_GRACE`]. No lingering in CLOSE_WAIT.
//! - `idle_timeout`: stop with an error when no byte moved either way for that long.
//! - a failed send (the peer reset the connection): stop reading stdin, keep printing what the peer
//!   still sends until it closes, then fail with the send's error; what stdin had was not delivered.
//!
//! When nothing needs to see the bytes (raw both ways, stdin a pipe or not read, stdout no terminal),
//! [`relay`] hands the connection to [`crate::poll_relay`], which keeps these rules in a poll(2) loop.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, Notify};

use crate::error::describe_io;
use crate::output::{Output, StreamId};
use crate::render::StreamLabel;

/// How a relay behaves at the ends of its streams.
#[derive(Debug, Clone, Default)]
pub struct RelayConfig {
    pub no_shutdown: bool,
    pub quit_after_eof: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    /// Ignore what the peer sends; end when stdin ends.
    pub send_only: bool,
    pub verbose: bool,
    /// Show a live byte count and rate on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// Move stdin (a pipe) to the socket with splice(2) instead of reading it (`input` is then None).
    pub splice_stdin: bool,
    /// Move the socket's data to stdout with splice(2) instead of through the stdout thread.
    pub splice_stdout: bool,
}

/// Why a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The peer closed its side.
    PeerClosed,
    /// `-q` expired after stdin EOF.
    QuitAfterEof,
    /// `--send-only` and stdin ended.
    SendDone,
}

/// What moved through a relay.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub sent: u64,
    pub received: u64,
    pub elapsed: Duration,
    pub end: End,
}

impl Summary {
    /// `sent 12 B, received 3.4 MB in 1.20s (2.8 MB/s)`.
    pub fn describe(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let rate = (self.sent + self.received) as f64 / secs;
        format!(
            "sent {}, received {} in {:.2}s ({}/s)",
            human_bytes(self.sent as f64),
            human_bytes(self.received as f64),
            secs,
            human_bytes(rate)
        )
    }
}

/// `512 B`, `1.5 KB`, `3.2 MB`, `1.1 GB` (decimal units).
pub fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", n as u64)
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// After the peer closes, how long stdin (a pipe or file) may stay quiet before we stop sending it.
pub const PEER_CLOSED_GRACE: Duration = Duration::from_secs(1);

/// Size of each socket read.
pub const READ_SIZE: usize = 128 * 1024;

/// Relays `input` (stdin messages; `None` to send nothing) to `writer` and `reader` to `out` as stream
/// `id`, until one of the end-of-stream rules says stop.
pub async fn relay(
    mut reader: OwnedReadHalf,
    mut writer: OwnedWriteHalf,
    input: Option<mpsc::Receiver<Bytes>>,
    out: &Output,
    id: StreamId,
    label: StreamLabel,
    cfg: &RelayConfig,
) -> Result<Summary> {
    let show_progress = cfg.progress && std::io::stderr().is_terminal();
    if cfg.splice_stdout
        && !cfg.send_only
        && !show_progress
        && (cfg.splice_stdin || input.is_none())
    {
        // Nothing to look at, nothing to show: a poll(2) loop on a thread of its own does the same
        // for less (see poll_relay). This thread keeps handling signals meanwhile.
        let stream = reader
            .reunite(writer)
            .map_err(|_| anyhow!("internal error: the halves of two connections"))?
            .into_std()?;
        let (has_input, cfg) = (cfg.splice_stdin, cfg.clone());
        return crate::poll_relay::on_thread("relay", move || {
            crate::poll_relay::relay(stream, has_input, &cfg)
        })
        .await;
    }
    let start = Instant::now();
    let sent = AtomicU64::new(0);
    let received = AtomicU64::new(0);
    let last_activity = AtomicU64::new(0);
    let has_input = input.is_some() || cfg.splice_stdin;
    let stdin_done = AtomicBool::new(false);
    let touch = || last_activity.store(start.elapsed().as_millis() as u64, Ordering::Relaxed);

    // Set when the peer closes its side while we may still have stdin to send.
    let peer_closed = AtomicBool::new(false);
    let peer_closed_signal = Notify::new();
    let stdin_is_terminal = std::io::stdin().is_terminal();

    // Sending failed: the end if the peer has closed (nothing more can be delivered) or only sending
    // was asked for. Otherwise whatever the peer still sends is read by `down`, which ends the relay
    // when the peer closes, as after stdin's end; the relay then fails with this error.
    let send_error = std::sync::OnceLock::new();
    let send_failed = |e: &std::io::Error| -> Option<Result<End>> {
        if peer_closed.load(Ordering::Acquire) {
            if cfg.verbose {
                eprintln!("sockkit: the peer closed; dropping the rest of stdin");
            }
            return Some(Ok(End::PeerClosed));
        }
        if cfg.send_only {
            return Some(Err(anyhow!("could not send: {}", describe_io(e))));
        }
        if cfg.verbose {
            eprintln!(
                "sockkit: could not send: {} (still reading)",
                describe_io(e)
            );
        }
        let _ = send_error.set(describe_io(e));
        stdin_done.store(true, Ordering::Release);
        None
    };

    let up = async {
        if cfg.splice_stdin {
            let spliced = crate::splice::stdin_to_socket(&mut writer, &sent, touch);
            let watch = async {
                // Once the peer has closed, stop when stdin stays quiet for the grace period.
                peer_closed_signal.notified().await;
                loop {
                    let before = sent.load(Ordering::Relaxed);
                    tokio::time::sleep(PEER_CLOSED_GRACE).await;
                    if sent.load(Ordering::Relaxed) == before {
                        return;
                    }
                }
            };
            tokio::select! {
                r = spliced => {
                    if let Err(e) = r {
                        if let Some(end) = send_failed(&e) {
                            return end;
                        }
                        return std::future::pending().await;
                    }
                }
                () = watch => return Ok(End::PeerClosed),
            }
        } else {
            let Some(mut input) = input else {
                return std::future::pending::<Result<End>>().await;
            };
            loop {
                let next = if peer_closed.load(Ordering::Acquire) {
                    // The peer may only have half-closed: deliver what stdin still has, but stop once stdin
                    // goes quiet, so an idle pipe does not keep us hanging on a closed connection.
                    match tokio::time::timeout(PEER_CLOSED_GRACE, input.recv()).await {
                        Ok(next) => next,
                        Err(_) => return Ok(End::PeerClosed),
                    }
                } else {
                    tokio::select! {
                        next = input.recv() => next,
                        () = peer_closed_signal.notified() => continue,
                    }
                };
                let Some(chunk) = next else { break };
                if let Err(e) = writer.write_all(&chunk).await {
                    if let Some(end) = send_failed(&e) {
                        return end;
                    }
                    return std::future::pending().await;
                }
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                touch();
            }
        }
        if !cfg.no_shutdown {
            let _ = writer.shutdown().await;
            if cfg.verbose {
                eprintln!("sockkit: stdin ended; sent EOF to the peer (half-close)");
            }
        } else if cfg.verbose {
            eprintln!("sockkit: stdin ended; keeping the connection open (--no-shutdown)");
        }
        if cfg.send_only {
            return Ok(End::SendDone);
        }
        if peer_closed.load(Ordering::Acquire) {
            return Ok(End::PeerClosed);
        }
        stdin_done.store(true, Ordering::Release);
        match cfg.quit_after_eof {
            Some(d) => {
                tokio::time::sleep(d).await;
                Ok(End::QuitAfterEof)
            }
            None => std::future::pending().await,
        }
    };

    let down = async {
        if cfg.send_only {
            return std::future::pending::<Result<End>>().await;
        }
        if cfg.splice_stdout {
            crate::splice::socket_to_stdout(&mut reader, &received, touch).await?;
            if cfg.verbose {
                eprintln!("sockkit: peer closed its write side");
            }
            if !has_input || stdin_is_terminal || stdin_done.load(Ordering::Acquire) {
                return Ok(End::PeerClosed);
            }
            peer_closed.store(true, Ordering::Release);
            peer_closed_signal.notify_one();
            return std::future::pending().await;
        }
        out.open(id, label).await;
        let mut buf = BytesMut::with_capacity(READ_SIZE);
        loop {
            if buf.capacity() < READ_SIZE / 4 {
                buf.reserve(READ_SIZE);
            }
            let n = match reader.read_buf(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    out.close(id).await;
                    return Err(anyhow!("connection lost: {}", describe_io(&e)));
                }
            };
            if n == 0 {
                out.close(id).await;
                if cfg.verbose {
                    eprintln!("sockkit: peer closed its write side");
                }
                if !has_input || stdin_is_terminal || stdin_done.load(Ordering::Acquire) {
                    return Ok(End::PeerClosed);
                }
                peer_closed.store(true, Ordering::Release);
                peer_closed_signal.notify_one();
                return std::future::pending().await;
            }
            received.fetch_add(n as u64, Ordering::Relaxed);
            touch();
            out.data(id, buf.split().freeze()).await;
        }
    };

    let idle = async {
        let Some(limit) = cfg.idle_timeout else {
            return std::future::pending::<Result<End>>().await;
        };
        loop {
            let last = Duration::from_millis(last_activity.load(Ordering::Relaxed));
            let quiet = start.elapsed().saturating_sub(last);
            if quiet >= limit {
                return Err(anyhow!(
                    "no data for {} (idle timeout)",
                    humantime::format_duration(limit)
                ));
            }
            tokio::time::sleep(limit - quiet).await;
        }
    };

    let progress = async {
        if !show_progress {
            return std::future::pending::<Result<End>>().await;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let secs = start.elapsed().as_secs_f64().max(1e-3);
            let (up, down) = (
                sent.load(Ordering::Relaxed),
                received.load(Ordering::Relaxed),
            );
            eprint!(
                "\r\x1b[2Ksent {} ({}/s)  received {} ({}/s)",
                human_bytes(up as f64),
                human_bytes(up as f64 / secs),
                human_bytes(down as f64),
                human_bytes(down as f64 / secs)
            );
        }
    };

    let end = tokio::select! {
        r = up => r,
        r = down => r,
        r = idle => r,
        r = progress => r,
    };
    if show_progress {
        // Clear the progress line.
        eprint!("\r\x1b[2K");
    }
    let end = end?;
    if let Some(e) = send_error.get() {
        return Err(anyhow!("could not send: {e}"));
    }
    Ok(Summary {
        sent: sent.load(Ordering::Relaxed),
        received: received.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
        end,
    })
}
