//! The one copy loop: relays one connection, any byte stream, under the [`Policy`].
//!
//! Every relay of the crate is this loop: `connect` and `listen`'s one connection, each client of
//! a `-k`, echo, broker or chat server ([`super::hub`]), the lab client's REPL. What differs is
//! plugged in:
//! - the stream, as a reader ([`PeerRead`]) and a writer (`AsyncWrite`): a TCP socket's halves, or
//!   the halves of any `AsyncRead + AsyncWrite` (a Unix socket, a TLS session, a child process);
//! - where up's bytes come from ([`Up`]): stdin through the stdin thread or the REPL, a client's
//!   queue, the peer's own bytes (echo), or stdin read here on Linux;
//! - where the peer's bytes go ([`Down`]): the stdout thread (rendered there), nowhere, or stdout
//!   written here on Linux;
//! - what else sees them ([`Tap`]): a server passing them to its other clients, holding partial
//!   lines.
//!
//! Why one async task with `select!` rather than a poll(2) loop: the same loop then serves TCP, Unix
//! sockets, TLS and child processes, one task per client in a server, on every platform tokio runs
//! on. Each side does one cancel-safe step per turn of the loop; what a step read is kept in the
//! loop's own state, never in a future that could be dropped. Measured figures are in the README.

use std::io;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::fast;
use super::policy::{Action, End, Event, Policy, Read, Rules};
use super::{Side, Summary};
pub(crate) use crate::conn::PeerRead;
use crate::conn::{ConnRead, ConnWrite, PeerWrite};
use crate::error::describe_io;
use crate::output::{Output, StreamId};
use crate::units::human_bytes;

/// Size of each read from the peer.
const READ_SIZE: usize = 64 * 1024;

/// At the end, what is still on its way to stdout gets this long to get there.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// How often `--progress` redraws its line.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Where the bytes sent to the peer come from.
pub(crate) enum Up {
    /// Nothing is sent (`--recv-only`, or a server's client nobody writes to).
    None,
    /// Messages from the stdin thread, the REPL or a server's queue for this client.
    Queue(mpsc::Receiver<Bytes>),
    /// The peer's own bytes, sent back (echo servers).
    Echo,
    /// stdin read on this thread (the Linux fast path).
    Stdin(fast::Stdin),
    /// Another connection's bytes (a relay's target).
    Stream(Box<StreamUp>),
}

/// The reading side of a relay's other connection.
pub(crate) struct StreamUp {
    reader: ConnRead,
    buf: BytesMut,
}

impl Up {
    /// Up reads `reader`: the other connection of a relay.
    pub(crate) fn stream(reader: ConnRead) -> Up {
        Up::Stream(Box::new(StreamUp {
            reader,
            buf: BytesMut::new(),
        }))
    }

    async fn next(&mut self) -> io::Result<Option<Bytes>> {
        match self {
            Up::Queue(rx) => Ok(rx.recv().await),
            Up::Stdin(s) => s.next().await,
            Up::Stream(s) => {
                if s.buf.capacity() < READ_SIZE / 4 {
                    s.buf.reserve(READ_SIZE);
                }
                match s.reader.read_buf(&mut s.buf).await? {
                    0 => Ok(None),
                    _ => Ok(Some(s.buf.split().freeze())),
                }
            }
            Up::None | Up::Echo => std::future::pending().await,
        }
    }

    /// The relay's error when reading up failed.
    fn failed(&self, e: &io::Error) -> anyhow::Error {
        match self {
            Up::Stream(_) => {
                anyhow::anyhow!("the target's connection was lost: {}", describe_io(e))
            }
            _ => anyhow::anyhow!("could not read stdin: {}", describe_io(e)),
        }
    }

    /// What is queued already, without waiting.
    fn try_next(&mut self) -> Option<Bytes> {
        match self {
            Up::Queue(rx) => rx.try_recv().ok(),
            _ => None,
        }
    }
}

/// Where the peer's bytes go.
pub(crate) enum Down {
    /// To the stdout thread, as stream `id` (opened by the caller, closed by the engine).
    Output { out: Output, id: StreamId },
    /// Nowhere (`--send-only`).
    Discard,
    /// Straight to stdout (the Linux fast path).
    Stdout(fast::Stdout),
    /// To another connection (a relay's target); the peer's end is passed on to it.
    Stream(ConnWrite),
}

/// What else sees the bytes received, between the peer and stdout.
pub(crate) trait Tap {
    /// Passes received bytes on wherever they go besides stdout; returns what stdout is to show of
    /// them now (part may be held back, as a partial line).
    async fn received(&mut self, data: Bytes) -> Option<Bytes>;
    /// Sees the bytes up gives before they are sent to the peer (a relay shows both ways).
    async fn sending(&mut self, _data: &Bytes) {}
    /// Whether received bytes still wait to be passed on elsewhere (a server's other clients): the
    /// peer is not read meanwhile, but up keeps flowing, so two clients passing bytes to each
    /// other cannot wait on each other for ever.
    fn busy(&self) -> bool {
        false
    }
    /// Passes on what waits, as room comes. Cancel-safe: what went is not sent again.
    async fn pass_on(&mut self) {}
    /// What is held back and due at `now`, or all of it when `end`.
    async fn flush(&mut self, now: Instant, end: bool) -> Option<Bytes>;
    /// When something held back is due.
    fn deadline(&self) -> Option<Instant>;
    /// Whether bytes go to stdout unchanged and nowhere else (the fast path may then move them).
    fn transparent(&self) -> bool;
}

/// No tap: bytes go to stdout as they come.
pub(crate) struct Plain;

impl Tap for Plain {
    async fn received(&mut self, data: Bytes) -> Option<Bytes> {
        Some(data)
    }

    async fn flush(&mut self, _: Instant, _: bool) -> Option<Bytes> {
        None
    }

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn transparent(&self) -> bool {
        true
    }
}

/// How a relay runs, besides its [`Rules`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub rules: Rules,
    /// Say on stderr what happens at the ends of the streams.
    pub verbose: bool,
    /// A live byte count and rate on stderr (only when stderr is a terminal).
    pub progress: bool,
}

/// One step of the sending side.
enum UpStep {
    Sent(usize),
    Next(Bytes),
    Ended,
    SendFailed(io::Error),
    InputFailed(io::Error),
}

/// One step of the receiving side.
enum DownStep {
    /// Bytes to look at (echo them, tap them, show them).
    Data(Bytes),
    /// Bytes moved to stdout by the fast path.
    Moved(usize),
    /// What waited for stdout has gone.
    Delivered,
    PeerEnded,
    Lost(io::Error),
    StdoutFailed(io::Error),
    /// Passing the bytes on to a relay's target failed.
    PassFailed(io::Error),
}

/// The relay's state between turns.
struct Relay<R, W> {
    reader: R,
    writer: W,
    up: Up,
    down: Down,
    /// Bytes of up being sent.
    sending: Option<Bytes>,
    /// Sent bytes may sit in the writer's buffer (TLS): flush before waiting for more.
    flushing: bool,
    /// Bytes for the stdout thread, waiting for room in its queue.
    showing: Option<Bytes>,
    buf: BytesMut,
    sent: u64,
    received: u64,
    half_closed: bool,
    first_end: Option<Side>,
}

/// Relays until the policy says stop, then delivers what it holds (bounded) and returns what moved.
pub(crate) async fn run<R: PeerRead, W: PeerWrite, T: Tap>(
    reader: R,
    writer: W,
    up: Up,
    down: Down,
    tap: &mut T,
    settings: &Settings,
) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let echo = matches!(up, Up::Echo);
    let mut policy = Policy::new(settings.rules, !matches!(up, Up::None), start);
    let mut r = Relay {
        reader,
        writer,
        up,
        down,
        sending: None,
        flushing: false,
        showing: None,
        buf: BytesMut::new(),
        sent: 0,
        received: 0,
        half_closed: false,
        first_end: None,
    };
    // The fast path moves bytes itself only when nothing else needs to see them.
    let moves_itself = !echo && tap.transparent();
    let progress = settings.progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut next_progress = start + PROGRESS_EVERY;
    let mut stop = std::pin::pin!(crate::stopped());
    let mut events = Vec::with_capacity(2);
    let outcome: anyhow::Result<End> = 'turns: loop {
        if r.sending.is_none() && policy.read_up() == Read::Drain {
            match r.up.try_next() {
                Some(b) => r.sending = Some(b),
                None => events.push(Event::UpEmpty),
            }
        }
        let read_up = r.sending.is_none() && !r.flushing && policy.read_up() == Read::Wait;
        let read_peer = policy.read_peer() && !(echo && r.sending.is_some()) && !tap.busy();
        let deadline = [
            policy.deadline(),
            tap.deadline(),
            progress.then_some(next_progress),
        ]
        .into_iter()
        .flatten()
        .min();
        if events.is_empty() {
            let Relay {
                reader,
                writer,
                up,
                down,
                sending,
                flushing,
                showing,
                buf,
                ..
            } = &mut r;
            tokio::select! {
                biased;
                () = &mut stop => events.push(Event::Interrupt),
                step = up_step(writer, sending, flushing, up, read_up) => match step {
                    UpStep::Sent(n) => {
                        r.sent += n as u64;
                        events.push(Event::Sent);
                    }
                    UpStep::Next(b) => {
                        tap.sending(&b).await;
                        r.sending = Some(b);
                    }
                    UpStep::Ended => events.push(Event::UpEnded),
                    UpStep::SendFailed(e) => {
                        r.sending = None;
                        r.flushing = false;
                        events.push(Event::SendFailed(describe_io(&e)));
                    }
                    UpStep::InputFailed(e) => {
                        if e.kind() == io::ErrorKind::ConnectionReset {
                            // A relay's target reset: so is its client.
                            r.writer.abort();
                        }
                        break 'turns Err(r.up.failed(&e));
                    }
                },
                step = down_step(reader, down, showing, buf, read_peer, moves_itself) => match step {
                    DownStep::Data(data) => {
                        r.received += data.len() as u64;
                        events.push(Event::Received);
                        if echo {
                            r.sending = Some(data.clone());
                        }
                        if let Some(shown) = tap.received(data).await {
                            if let Err(e) = r.show(shown) {
                                break 'turns Err(stdout_error(&e));
                            }
                        }
                    }
                    DownStep::Moved(n) => {
                        r.received += n as u64;
                        events.push(Event::Received);
                    }
                    DownStep::Delivered => {}
                    DownStep::PeerEnded => events.push(Event::PeerEnded),
                    DownStep::Lost(e) => {
                        let reset = e.kind() == io::ErrorKind::ConnectionReset;
                        if let (Down::Stream(w), true) = (&mut r.down, reset) {
                            // A relay's client reset: so is its target.
                            w.abort();
                        }
                        events.push(Event::Lost(describe_io(&e)));
                    }
                    DownStep::StdoutFailed(e) => break 'turns Err(stdout_error(&e)),
                    DownStep::PassFailed(e) => {
                        if e.kind() == io::ErrorKind::ConnectionReset {
                            r.writer.abort();
                        }
                        let what = describe_io(&e);
                        break 'turns Err(anyhow::anyhow!("could not send to the target: {what}"));
                    }
                },
                () = tap.pass_on(), if tap.busy() => {}
                () = crate::sleep_until(deadline.map(tokio::time::Instant::from_std)) => {
                    let now = Instant::now();
                    if let Some(held) = tap.flush(now, false).await {
                        if let Err(e) = r.show(held) {
                            break 'turns Err(stdout_error(&e));
                        }
                    }
                    if progress && now >= next_progress {
                        next_progress = now + PROGRESS_EVERY;
                        show_progress(r.sent, r.received, start.elapsed());
                    }
                    events.push(Event::Tick);
                }
            }
        }
        for event in events.drain(..) {
            match event {
                Event::PeerEnded => _ = r.first_end.get_or_insert(Side::Peer),
                Event::UpEnded => _ = r.first_end.get_or_insert(Side::Up),
                _ => {}
            }
            for action in policy.on(event, Instant::now()) {
                match action {
                    Action::HalfClose => {
                        let _ = tokio::time::timeout(FINAL_FLUSH, r.writer.shutdown()).await;
                        r.half_closed = true;
                    }
                    Action::PassEnd => {
                        if let Down::Stream(w) = &mut r.down {
                            let _ = tokio::time::timeout(FINAL_FLUSH, w.shutdown()).await;
                        }
                    }
                    Action::Note(text) => {
                        if settings.verbose {
                            eprintln!("sockkit: {text}");
                        }
                    }
                    Action::Stop(result) => break 'turns result.map_err(anyhow::Error::new),
                }
            }
        }
    };
    if progress {
        // Clear the progress line.
        eprint!("\r\x1b[2K");
    }
    let delivered = r.finish(tap).await;
    let end = outcome?;
    delivered?;
    Ok(Summary {
        sent: r.sent,
        received: r.received,
        elapsed: start.elapsed(),
        end,
        first_end: r.first_end,
    })
}

impl<R: PeerRead, W: PeerWrite> Relay<R, W> {
    /// Hands bytes to stdout: queued for the stdout thread, or written by the fast path.
    fn show(&mut self, data: Bytes) -> io::Result<()> {
        match &mut self.down {
            Down::Output { .. } | Down::Stream(_) => {
                self.showing = Some(match self.showing.take() {
                    None => data,
                    // A tap's flush right after a read: both wait together.
                    Some(first) => [first, data].concat().into(),
                });
                Ok(())
            }
            Down::Discard => Ok(()),
            Down::Stdout(s) => s.deliver(&data),
        }
    }

    /// The end: what was received reaches stdout if stdout lets it, within a bound; the write side
    /// is closed properly (a TLS session says goodbye).
    async fn finish<T: Tap>(&mut self, tap: &mut T) -> anyhow::Result<()> {
        let mut result = Ok(());
        // Nothing more is taken from up: whoever waits to queue bytes for us is let go at once
        // (another client of a server, passing its bytes on while we pass ours to it).
        if let Up::Queue(rx) = &mut self.up {
            rx.close();
        }
        if let Some(held) = tap.flush(Instant::now(), true).await {
            if let Err(e) = self.show(held) {
                result = Err(stdout_error(&e));
            }
        }
        match &mut self.down {
            Down::Output { out, id } => {
                if let Some(data) = self.showing.take() {
                    out.data(*id, data).await;
                }
                out.close(*id).await;
            }
            Down::Discard => {}
            Down::Stream(w) => {
                if let Some(data) = self.showing.take() {
                    let _ = tokio::time::timeout(FINAL_FLUSH, w.write_all(&data)).await;
                }
                let _ = tokio::time::timeout(FINAL_FLUSH, w.shutdown()).await;
            }
            Down::Stdout(s) => {
                if s.pending() {
                    match tokio::time::timeout(FINAL_FLUSH, s.drain()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => result = Err(stdout_error(&e)),
                        Err(_) => {
                            result = Err(anyhow::anyhow!(
                                "stdout took nothing for {}s; what it did not take is lost",
                                FINAL_FLUSH.as_secs()
                            ))
                        }
                    }
                }
            }
        }
        if !self.half_closed {
            let _ = tokio::time::timeout(FINAL_FLUSH, self.writer.shutdown()).await;
        }
        result
    }
}

/// One step of the sending side: send, flush, or take up's next bytes.
async fn up_step<W: AsyncWrite + Unpin>(
    writer: &mut W,
    sending: &mut Option<Bytes>,
    flushing: &mut bool,
    up: &mut Up,
    read_up: bool,
) -> UpStep {
    if let Some(bytes) = sending.as_mut() {
        let n = match writer.write(bytes).await {
            Ok(0) => return UpStep::SendFailed(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) => return UpStep::SendFailed(e),
        };
        if n < bytes.len() {
            let _ = bytes.split_to(n);
            return UpStep::Sent(n);
        }
        *sending = None;
        // At once, in the same step: a socket's flush is a no-op; a TLS session's may wait, and if
        // this step is dropped meanwhile, `flushing` has it finished on a later turn.
        *flushing = true;
        if let Err(e) = writer.flush().await {
            return UpStep::SendFailed(e);
        }
        *flushing = false;
        return UpStep::Sent(n);
    }
    if *flushing {
        return match writer.flush().await {
            Ok(()) => {
                *flushing = false;
                UpStep::Sent(0)
            }
            Err(e) => UpStep::SendFailed(e),
        };
    }
    if !read_up {
        return std::future::pending().await;
    }
    match up.next().await {
        Ok(Some(b)) if b.is_empty() => UpStep::Sent(0),
        Ok(Some(b)) => UpStep::Next(b),
        Ok(None) => UpStep::Ended,
        Err(e) => UpStep::InputFailed(e),
    }
}

/// One step of the receiving side: deliver what waits for stdout, or receive.
async fn down_step<R: PeerRead>(
    reader: &mut R,
    down: &mut Down,
    showing: &mut Option<Bytes>,
    buf: &mut BytesMut,
    read_peer: bool,
    moves_itself: bool,
) -> DownStep {
    match down {
        Down::Stdout(s) if s.pending() => {
            return match s.drain().await {
                Ok(()) => DownStep::Delivered,
                Err(e) => DownStep::StdoutFailed(e),
            }
        }
        Down::Stream(w) if showing.is_some() => {
            let Some(data) = showing.as_mut() else {
                return DownStep::Delivered;
            };
            return match w.write(data).await {
                Ok(0) => DownStep::PassFailed(io::ErrorKind::WriteZero.into()),
                Ok(n) if n < data.len() => {
                    let _ = data.split_to(n);
                    DownStep::Delivered
                }
                Ok(_) => {
                    *showing = None;
                    match w.flush().await {
                        Ok(()) => DownStep::Delivered,
                        Err(e) => DownStep::PassFailed(e),
                    }
                }
                Err(e) => DownStep::PassFailed(e),
            };
        }
        Down::Output { out, id } if showing.is_some() => {
            let permit = out.reserve().await;
            if let Some(data) = showing.take() {
                permit.data(*id, data);
            }
            return DownStep::Delivered;
        }
        _ => {}
    }
    if !read_peer {
        return std::future::pending().await;
    }
    if let (Down::Stdout(s), true) = (&mut *down, moves_itself) {
        return match s.receive(reader).await {
            Ok(0) => DownStep::PeerEnded,
            Ok(n) => DownStep::Moved(n),
            Err(e) if fast::is_stdout_error(&e) => DownStep::StdoutFailed(e),
            Err(e) => DownStep::Lost(e),
        };
    }
    if buf.capacity() < READ_SIZE / 4 {
        buf.reserve(READ_SIZE);
    }
    // The fast stdout takes at most one of its pieces at a time.
    let limit = match down {
        Down::Stdout(_) => fast::PIECE,
        _ => READ_SIZE,
    };
    match (&mut *reader).take(limit as u64).read_buf(buf).await {
        Ok(0) => DownStep::PeerEnded,
        Ok(_) => DownStep::Data(buf.split().freeze()),
        Err(e) => DownStep::Lost(e),
    }
}

fn stdout_error(e: &io::Error) -> anyhow::Error {
    crate::error::stdout_failed(e)
}

fn show_progress(sent: u64, received: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-3);
    eprint!(
        "\r\x1b[2Ksent {} ({}/s)  received {} ({}/s)",
        human_bytes(sent as f64),
        human_bytes(sent as f64 / secs),
        human_bytes(received as f64),
        human_bytes(received as f64 / secs)
    );
}
