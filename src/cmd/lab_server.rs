//! `sockkit lab-server`: the instructor's side of the socket-lab handshake (PROTOCOL.md section 1),
//! compatible with the Python original and built to serve a whole class at once.
//!
//! Each client gets its own task: it is sent `{'clientid': <its source port>}` (over `-U`, where there
//! is no port, its number: 1, 2, 3...), and every student dict
//! it sends is printed (`Connected: Student: ...`, `str()` of each value as the original's f-string
//! does, with unprintable characters escaped) and acknowledged with pickled `1`. After that the
//! connection stays open until the client closes it, as the original keeps it: real clients sit in a
//! `recv()` loop after "you passed the test", and a silent client costs only its socket.
//!
//! What the original would fail on (not a pickle, truncated, not a dict, a missing key) and what
//! breaks our limits (`--max-message`, a record not complete by its `--handshake-timeout` deadline,
//! a value whose `str()` would expand past 8 times `--max-message`) is one log line on stderr naming
//! the client and the reason, and that connection is closed; nobody else notices. Ctrl-C stops
//! accepting, closes the acknowledged clients, lets handshakes in flight finish (for at most
//! [`DRAIN`]), prints a summary and exits 130.

use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::accept::{Accept, Admitted, Gate, Peer};
use crate::access::Access;
use crate::cli::LabServerArgs;
use crate::error::{describe_io, ExitCode};
use crate::escape::escape;
use crate::lab::{self, Record, RecordRules, ACK, PROTOCOL};
use crate::net::{self, ListenAddr, Resolve};
use crate::output::Output;
use crate::pickle::encode::encode;
use crate::pickle::Framing;
use crate::pickle::{Decoded, Event, Limits, PickleStream};

/// How long in-flight handshakes may take to finish after Ctrl-C.
const DRAIN: Duration = Duration::from_secs(5);

/// Bytes read from a client at a time (the Python server reads 1024).
const READ_SIZE: usize = 2048;

/// A first record that arrives this soon after the welcome may come from a client that sent it
/// before reading the welcome (a common student bug: `send`, then `recv` twice). Answered at once,
/// such a client's first `recv()` can get the welcome and the acknowledgement together, and its
/// second blocks for ever: measured with bench/lab_race.py, 158 and 170 of 300 such handshakes
/// against an immediate answer, 100 and 115 of 300 against the Python server. Before that
/// acknowledgement the thread yields its CPU once (`sched_yield`), which lets the client reach its
/// `recv()` first (2 to 25 of 300); it costs microseconds, not a timer tick, so the normal handshake
/// is not slowed (README, lab-server).
const EARLY_WINDOW: Duration = Duration::from_millis(1);

/// Bytes of a partial record each client may hold without drawing on [`LARGE_BUDGET`].
const FREE_BYTES: usize = 4096;

/// Bytes of partial records beyond [`FREE_BYTES`] that all clients together may hold.
const LARGE_BUDGET: usize = 32 << 20;

/// At most this much of a message's repr goes into a log line.
const LOGGED: usize = 200;

/// A value's `str()` may be at most this many times `--max-message` long: more than any value that
/// is not shared can need (`None, ` is 6 bytes for the 1-byte opcode `N`), far less than what shared
/// values doubled over and over ask for.
const VALUE_FACTOR: usize = 8;

struct Shared {
    out: Output,
    roster: Option<Mutex<Roster>>,
    rules: RecordRules,
    limits: Limits,
    handshake_timeout: Duration,
    idle_timeout: Option<Duration>,
    verbose: bool,
    /// Clients acknowledged at least once.
    students: AtomicU64,
    /// Clients closed without an acknowledgement (bad input, deadlines, --allow/--deny, -m).
    rejected: AtomicU64,
    active: AtomicUsize,
    /// Bytes of partial records held beyond [`FREE_BYTES`] per client, all clients together.
    large: AtomicUsize,
    idle: Notify,
    /// Turns true on Ctrl-C: acknowledged clients with nothing pending are closed at once.
    stopping: watch::Receiver<bool>,
}

impl Shared {
    /// One log line about one client; whatever it quotes from the client is escaped.
    fn log(&self, who: &str, what: &str) {
        eprintln!("sockkit: {who}: {}", escape(what));
    }
}

/// A client's socket as the lab server reads it: told when it is readable, then read into the
/// stack, so that an idle client holds no buffer.
trait Polled: AsyncWrite + Unpin + Send + 'static {
    fn readable(&self) -> impl Future<Output = std::io::Result<()>> + Send;
    fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl Polled for TcpStream {
    fn readable(&self) -> impl Future<Output = std::io::Result<()>> + Send {
        TcpStream::readable(self)
    }

    fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        TcpStream::try_read(self, buf)
    }
}

#[cfg(unix)]
impl Polled for tokio::net::UnixStream {
    fn readable(&self) -> impl Future<Output = std::io::Result<()>> + Send {
        tokio::net::UnixStream::readable(self)
    }

    fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        tokio::net::UnixStream::try_read(self, buf)
    }
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
    crate::cli::check_unix_mode(&args.unix, args.unix_mode)?;
    #[cfg(not(unix))]
    if args.unix.is_some() {
        return Err(crate::error::usage(crate::error::NO_UNIX_SOCKETS));
    }
    let access = Access::from_args(&args.allow, &args.deny)?;
    let roster = match &args.roster {
        Some(path) => Some(Mutex::new(Roster::open(path)?)),
        None => None,
    };
    let max_value = args.max_message.saturating_mul(VALUE_FACTOR);
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        out,
        roster,
        rules: RecordRules {
            strict: args.strict,
            max_value,
        },
        limits: Limits {
            // The repr in a log line and a value's str() share one budget.
            max_output: max_value,
            // Decoding one record may use 6 times --max-message (at least 1 MiB) of memory.
            ..Limits::with_max_message(args.max_message)
        },
        handshake_timeout: args.handshake_timeout,
        idle_timeout: args.idle_timeout,
        verbose: args.verbose,
        students: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        active: AtomicUsize::new(0),
        large: AtomicUsize::new(0),
        idle: Notify::new(),
        stopping,
    });
    #[cfg(unix)]
    if let Some(path) = &args.unix {
        let addr = crate::unix::UnixAddr::parse(path)?;
        let opts = crate::unix::BindOpts {
            mode: args.unix_mode,
        };
        // Held until the server returns (on a signal too): then the socket file goes.
        let (listener, _file) = crate::unix::listen(&addr, opts, 4096)?;
        shared.out.text(format!("Listening at {addr}")).await;
        shared.out.flush().await;
        let gate = Gate::new(listener, access, args.max_conns);
        return Ok(serve(gate, shared, stop).await);
    }
    let at = ListenAddr {
        host: Some(args.host.clone()),
        port: args.port,
    };
    let listener = net::listen_tcp(&at, Resolve::default(), 4096).await?;
    let local = listener.local_addr()?;
    shared
        .out
        .text(format!("Listening at {}/{}", local.ip(), local.port()))
        .await;
    shared.out.flush().await;
    let gate = Gate::new(listener, access, args.max_conns);
    Ok(serve(gate, shared, stop).await)
}

/// Serves the class until a signal, then winds down: the exit status the signal asks for.
async fn serve<L: Accept>(gate: Gate<L>, shared: Arc<Shared>, stop: watch::Sender<bool>) -> ExitCode
where
    L::Stream: Polled,
{
    let signal = crate::signal();
    tokio::pin!(signal);
    let mut count_refused = || {
        shared.rejected.fetch_add(1, Ordering::Relaxed);
    };
    let mut joined: u64 = 0;
    let code = loop {
        tokio::select! {
            code = &mut signal => break code,
            client = gate.next(&mut count_refused) => {
                let Admitted { stream, peer, slot } = client;
                joined += 1;
                // A TCP client's id is its port, as the original's; a Unix socket's client has no
                // port, so it gets its number.
                let (id, who) = match peer.into() {
                    Peer::Ip(addr) => (u64::from(addr.port()), addr.to_string()),
                    Peer::Local(name) => (joined, format!("client {joined}, {name}")),
                };
                shared.active.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut client = Client::new(stream, id, who, &shared);
                    let result = client.serve(&shared).await;
                    if let Err(e) = result {
                        shared.log(&client.who, &format!("{e:#}"));
                    }
                    drop(slot);
                    shared.large.fetch_sub(client.counted, Ordering::Relaxed);
                    if client.acked == 0 {
                        shared.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                    if shared.active.fetch_sub(1, Ordering::Relaxed) == 1 {
                        shared.idle.notify_waiters();
                    }
                });
            }
        }
    };
    // Stop accepting; close the acknowledged clients; let handshakes in flight finish, for a bounded time.
    drop(gate);
    let _ = stop.send(true);
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
        "sockkit: lab-server stopped: {}, {}{}",
        plural(
            shared.students.load(Ordering::Relaxed),
            "student",
            "acknowledged"
        ),
        plural(
            shared.rejected.load(Ordering::Relaxed),
            "client",
            "rejected"
        ),
        if drained.is_err() {
            format!(
                ", {} cut off in mid-handshake",
                plural(left as u64, "client", "").trim_end()
            )
        } else {
            String::new()
        }
    );
    code
}

/// `1 student acknowledged`, `2 students acknowledged`.
fn plural(n: u64, noun: &str, what: &str) -> String {
    format!("{n} {noun}{} {what}", if n == 1 { "" } else { "s" })
}

/// One connected client.
struct Client<S> {
    stream: S,
    /// Its client id: the TCP port, or its number on a Unix socket.
    id: u64,
    /// How log lines name it: its address.
    who: String,
    pickles: PickleStream,
    /// Bytes of this client's partial record counted in [`Shared::large`].
    counted: usize,
    /// Records acknowledged on this connection.
    acked: u64,
    /// When the welcome went out.
    welcomed: Instant,
}

impl<S: Polled> Client<S> {
    fn new(stream: S, id: u64, who: String, shared: &Shared) -> Client<S> {
        Client {
            stream,
            id,
            who,
            pickles: PickleStream::new(Framing::Stop, shared.limits),
            counted: 0,
            acked: 0,
            welcomed: Instant::now(),
        }
    }

    /// Welcome, then read, print and acknowledge student records until the client closes.
    ///
    /// Deadlines, not idle timers: the first record must be complete within --handshake-timeout of
    /// the connection, and each later one within --handshake-timeout of the moment its first bytes
    /// were seen, however slowly they trickle in. Between records the client may be silent for as
    /// long as it likes (unless --idle-timeout is given).
    async fn serve(&mut self, shared: &Shared) -> Result<()> {
        let timeout = shared.handshake_timeout;
        let first = Instant::now() + timeout;
        let mut deadline = Some(first);
        let welcome = encode(&lab::welcome(self.id as i64), PROTOCOL)
            .map_err(|e| anyhow!("cannot encode the welcome: {e}"))?;
        self.write(&welcome, first, "the client id").await?;
        self.welcomed = Instant::now();
        let mut stopping = shared.stopping.clone();
        loop {
            let wait = deadline.or_else(|| shared.idle_timeout.map(|t| Instant::now() + t));
            let ready = tokio::select! {
                r = self.stream.readable() => Some(r),
                () = crate::sleep_until(wait) => None,
                // At shutdown an acknowledged client with nothing pending is done; others may finish.
                _ = stopping.wait_for(|s| *s), if self.acked > 0 && deadline.is_none() => return Ok(()),
            };
            match ready {
                None if self.acked == 0 => bail!(
                    "no complete student record within {} of connecting (--handshake-timeout); closed",
                    humantime::format_duration(timeout)
                ),
                None if deadline.is_some() => bail!(
                    "a record begun was not complete within {} (--handshake-timeout); closed",
                    humantime::format_duration(timeout)
                ),
                None => bail!(
                    "silent for {} (--idle-timeout); closed",
                    humantime::format_duration(shared.idle_timeout.unwrap_or_default())
                ),
                Some(Err(e)) => bail!("connection lost: {}", describe_io(&e)),
                Some(Ok(())) => {}
            }
            // Read into the stack, not a buffer per client: ten thousand idle clients hold nothing
            // but their sockets and what they sent of a record.
            let n = {
                let mut chunk = [0u8; READ_SIZE];
                match self.stream.try_read(&mut chunk) {
                    Ok(n) => {
                        self.pickles.push(&chunk[..n]);
                        n
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    // An acknowledged student that resets between records has simply left.
                    Err(e) if self.acked > 0 && self.pickles.pending() == 0 => {
                        return self.left(shared, &describe_io(&e));
                    }
                    Err(e) => bail!("connection lost: {}", describe_io(&e)),
                }
            };
            if n == 0 && self.acked > 0 && self.pickles.pending() == 0 {
                return self.left(shared, "closed the connection");
            }
            if n == 0 {
                if let Some(event) = self.pickles.finish() {
                    self.event(event, shared).await?;
                }
                if self.acked == 0 {
                    bail!("closed the connection without sending a student record");
                }
                return Ok(());
            }
            self.budget(shared)?;
            while let Some(event) = self.pickles.next_event() {
                self.event(event, shared).await?;
            }
            // Bad bytes held back while more may follow (an oversized FRAME, garbage): drop the client now.
            if let Some(event) = self.pickles.take_invalid() {
                self.event(event, shared).await?;
            }
            if self.pickles.pending() == 0 {
                // Between records: let go of whatever a large record made the reader keep.
                self.pickles = PickleStream::new(Framing::Stop, shared.limits);
            }
            self.budget(shared)?;
            deadline = match (self.acked, self.pickles.pending()) {
                // Still waiting for the first record: the deadline from the connection stands.
                (0, _) => deadline,
                // Between records: no deadline.
                (_, 0) => None,
                // A later record has begun: it gets its own deadline.
                _ => deadline.or_else(|| Some(Instant::now() + timeout)),
            };
        }
    }

    /// An acknowledged client left between records: a normal end, logged only with -v.
    fn left(&self, shared: &Shared, how: &str) -> Result<()> {
        if shared.verbose {
            let records = plural(self.acked, "record", "acknowledged");
            shared.log(&self.who, &format!("{how} after {records}"));
        }
        Ok(())
    }

    /// Accounts for the bytes of a record still arriving: up to [`FREE_BYTES`] each client may hold
    /// freely; beyond that, bytes come from one budget shared by all clients, so a few thousand
    /// hostile clients each sending most of a `--max-message` record cannot exhaust memory, and a
    /// student's record (about a hundred bytes) never needs the budget.
    fn budget(&mut self, shared: &Shared) -> Result<()> {
        let want = self.pickles.pending().saturating_sub(FREE_BYTES);
        if want > self.counted {
            let more = want - self.counted;
            let before = shared.large.fetch_add(more, Ordering::Relaxed);
            if before + more > LARGE_BUDGET {
                shared.large.fetch_sub(more, Ordering::Relaxed);
                bail!(
                    "a record over {FREE_BYTES} bytes while the server's {} MiB for large records is in use; closed",
                    LARGE_BUDGET >> 20
                );
            }
        } else {
            shared
                .large
                .fetch_sub(self.counted - want, Ordering::Relaxed);
        }
        self.counted = want;
        Ok(())
    }

    async fn event(&mut self, event: Event, shared: &Shared) -> Result<()> {
        // The decoded message is dropped before anything is awaited: only the printed text is kept.
        let record = match event {
            Event::Message(decoded) => self.record(&decoded, shared)?,
            other => bail!("{}", describe_bad(&other)),
        };
        shared.out.text(record.connected_line()).await;
        // Written out before the acknowledgement: a student who has passed is already in the log.
        shared.out.flush().await;
        if let Some(roster) = &shared.roster {
            roster
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(self.id, &record)
                .context("could not write the roster")?;
        }
        if self.acked == 0 && self.welcomed.elapsed() < EARLY_WINDOW {
            // See EARLY_WINDOW: let a client that sent before it read reach its recv() first.
            std::thread::yield_now();
        }
        let deadline = Instant::now() + shared.handshake_timeout;
        self.write(ACK, deadline, "the acknowledgement").await?;
        self.acked += 1;
        if self.acked == 1 {
            shared.students.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn record(&self, decoded: &Decoded, shared: &Shared) -> Result<Record> {
        if shared.verbose {
            shared.log(
                &self.who,
                &format!("received {}", decoded.repr_prefix(LOGGED)),
            );
        }
        Record::from_decoded(decoded, &shared.rules).map_err(|why| {
            anyhow!(
                "not a student record: {why}; got {}",
                decoded.repr_prefix(LOGGED)
            )
        })
    }

    /// Writes `bytes`, giving up at `deadline` (a client that does not read).
    async fn write(&mut self, bytes: &[u8], deadline: Instant, what: &str) -> Result<()> {
        match tokio::time::timeout_at(deadline, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => bail!("could not send {what}: {}", describe_io(&e)),
            Err(_) => {
                bail!("did not take {what} within the --handshake-timeout (not reading?); closed")
            }
        }
    }
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

    fn append(&mut self, client_id: u64, record: &Record) -> std::io::Result<()> {
        let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let row = format!(
            "{time},{client_id},{},{},{}\n",
            csv_field(&record.name),
            csv_field(&record.github),
            csv_field(&record.sid)
        );
        // One write per row, straight to the file: the row is there even if we are killed next.
        self.file.write_all(row.as_bytes())
    }
}

/// Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet formulas (a number such
/// as `-5` stays a number). The text is already escaped: it holds no control characters.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
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
        assert_eq!(csv_field("-1+2"), "'-1+2");
        assert_eq!(csv_field("-5"), "-5");
        assert_eq!(csv_field("920652002"), "920652002");
    }
}
