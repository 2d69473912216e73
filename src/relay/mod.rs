//! Relaying bytes between a stream and stdin/stdout (or a server's other clients), under one
//! end-of-stream policy.
//!
//! - [`policy`]: the end-of-stream rules, a pure state machine (no I/O, no clock);
//! - [`engine`]: the one copy loop, generic over the byte stream, that runs every relay;
//! - [`hub`]: many clients at once (`listen -k`, `--echo`, `--broker`, `--chat`), each relayed by
//!   the engine;
//! - `fast`: the Linux fast paths (splice(2), `RWF_NOWAIT`, timerfd), used inside the engine when
//!   nothing needs to see the bytes; on other systems, or without the `linux-fast-paths` feature,
//!   stand-ins with no values take its place and the portable path runs.
//!
//! The data flow, each way:
//! - stdin -> the stdin thread ([`crate::input`], or the REPL's editor thread) -> a bounded channel
//!   -> [`engine`] (`Up::Queue`) -> the stream's writer -> the socket. On Linux, raw stdin from a
//!   pipe: stdin -> `fast::Stdin` (on the engine's thread) -> the writer -> the socket.
//! - socket -> the stream's reader -> [`engine`] (and its tap: a server's other clients, held
//!   partial lines) -> a bounded channel -> the stdout thread ([`crate::output`], which renders raw,
//!   hex or pickle) -> stdout. On Linux, raw display to a pipe or file: socket -> `fast::Stdout`
//!   (splice through a pipe of our own, or `recv` then a write that cannot block) -> stdout.
//!
//! Which path runs is decided in one place: [`stdin_up`] and [`stdout_down`] (and, for a command
//! that is not a relay but shows what it receives raw, [`RawStdout::new`]).

pub(crate) mod engine;
pub(crate) mod hub;
pub(crate) mod lines;
pub(crate) mod policy;

#[cfg(all(target_os = "linux", feature = "linux-fast-paths"))]
#[path = "fast.rs"]
mod fast;
#[cfg(not(all(target_os = "linux", feature = "linux-fast-paths")))]
#[path = "portable.rs"]
mod fast;

use std::time::Duration;

use anyhow::Result;

use crate::conn::Conn;
use crate::input::{self, InputOpts};
use crate::output::{Output, StreamId};
use crate::render::StreamLabel;
use crate::units::{byte_count, human_bytes};
pub(crate) use engine::{Down, Up};
use engine::{Plain, Settings};
pub(crate) use policy::End;
use policy::{AfterPeer, Rules};

/// How a relay behaves at the ends of its streams, as the command line says.
#[derive(Debug, Clone, Default)]
pub(crate) struct RelayConfig {
    pub no_shutdown: bool,
    pub quit_after_eof: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    /// Ignore what the peer sends; end when stdin ends.
    pub send_only: bool,
    pub verbose: bool,
    /// Show a live byte count and rate on stderr (only when stderr is a terminal).
    pub progress: bool,
}

impl RelayConfig {
    /// The engine's settings, with what the peer closing means for this kind of up.
    fn settings(&self, after_peer: AfterPeer) -> Settings {
        Settings {
            rules: Rules {
                half_close: !self.no_shutdown,
                quit_after_eof: self.quit_after_eof,
                idle_timeout: self.idle_timeout,
                send_only: self.send_only,
                after_peer,
            },
            verbose: self.verbose,
            progress: self.progress,
        }
    }
}

/// After the peer closes, how long stdin (a pipe or file) may stay quiet before we stop sending
/// it; and how long a client of a broker or chat server may stay after it stopped sending.
pub(crate) const PEER_CLOSED_GRACE: Duration = Duration::from_secs(1);

/// What moved through a relay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    pub sent: u64,
    pub received: u64,
    pub elapsed: Duration,
    pub end: End,
    /// Which side ended its stream first, if either did.
    pub first_end: Option<Side>,
}

/// A side of a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The connection the engine reads and writes.
    Peer,
    /// Where up's bytes come from (stdin, a relay's target).
    Up,
}

impl Summary {
    /// `sent 12 bytes, received 3400000 bytes (3.4 MB) in 1.20s (2.8 MB/s)`: exact counts, for
    /// scripts, and readable ones.
    pub(crate) fn describe(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let rate = (self.sent + self.received) as f64 / secs;
        format!(
            "sent {}, received {} in {:.2}s ({}/s)",
            byte_count(self.sent),
            byte_count(self.received),
            secs,
            human_bytes(rate)
        )
    }
}

/// Where up's bytes come from when stdin is read as `input` (`None`: not read): stdin read on the
/// engine's thread when it is a pipe of raw bytes and the fast path is built, else the stdin thread.
pub(crate) fn stdin_up(input: Option<InputOpts>) -> Up {
    match input {
        None => Up::None,
        Some(opts) if opts.is_raw_stream() && fast::stdin_is_pipe() => match fast::Stdin::new() {
            Ok(s) => Up::Stdin(s),
            Err(_) => Up::Queue(input::spawn(opts)),
        },
        Some(opts) => Up::Queue(input::spawn(opts)),
    }
}

/// Where the peer's bytes go: nowhere with `--send-only`; straight to stdout when they are shown raw, to no terminal or REPL, and the fast path is built;
/// else to the stdout thread as stream `id` (opened here, labelled `label`).
pub(crate) async fn stdout_down(
    out: &Output,
    id: StreamId,
    label: StreamLabel,
    raw_to_stdout: bool,
    send_only: bool,
) -> Down {
    if send_only {
        return Down::Discard;
    }
    if raw_to_stdout && fast::stdout_spliceable() {
        if let Ok(s) = fast::Stdout::new() {
            return Down::Stdout(s);
        }
    }
    out.open(id, label).await;
    Down::Output {
        out: out.clone(),
        id,
    }
}

/// Raw bytes written to stdout by the task that has them, without the stdout thread in between:
/// `udp-listen`'s datagrams, shown raw with nothing else writing to stdout. It is the engine's
/// Linux fast stdout (a write that cannot block, then waiting for room), so a full pipe holds the
/// task up without holding up the runtime.
pub(crate) struct RawStdout(fast::Stdout);

impl RawStdout {
    /// `None` where the fast path does not take stdout (a terminal, a file opened for appending,
    /// other systems, or without the `linux-fast-paths` feature): the stdout thread writes then.
    pub(crate) fn new() -> Option<RawStdout> {
        if !fast::stdout_spliceable() {
            return None;
        }
        fast::Stdout::new().ok().map(RawStdout)
    }

    /// Writes all of `data`, waiting for room as long as stdout needs. An error is stdout's, as
    /// [`crate::error::stdout_failed`] tells it (a closed pipe ends the command quietly).
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        let failed = |e: std::io::Error| crate::error::stdout_failed(&e);
        for piece in data.chunks(fast::PIECE) {
            self.0.deliver(piece).map_err(failed)?;
            if self.0.pending() {
                self.0.drain().await.map_err(failed)?;
            }
        }
        Ok(())
    }
}

/// Relays one connection with `up` and `down` until the end-of-stream rules say stop.
/// `interactive`: up is a person (a terminal or the REPL), so the peer closing ends the relay.
pub(crate) async fn relay_conn(
    conn: Conn,
    up: Up,
    down: Down,
    cfg: &RelayConfig,
    interactive: bool,
) -> Result<Summary> {
    let after_peer = match up {
        // An echo server's client has only its own bytes to get back.
        Up::Echo => AfterPeer::Drain,
        _ if interactive => AfterPeer::Stop,
        _ => AfterPeer::Linger(PEER_CLOSED_GRACE),
    };
    let (reader, writer) = conn.split();
    let settings = cfg.settings(after_peer);
    // A task of its own: each wake-up polls the engine alone, not the command's futures around it
    // (the signal handlers, the REPL's controls).
    let relay =
        tokio::spawn(
            async move { engine::run(reader, writer, up, down, &mut Plain, &settings).await },
        );
    relay.await.unwrap_or_else(|e| {
        Err(anyhow::anyhow!(
            "internal error: the relay task failed: {e}"
        ))
    })
}
