//! The stdout thread: renders received data in the chosen display mode and writes it, buffered,
//! flushing whenever no more data is ready. Everything shown on stdout goes through it, except the
//! bytes the relay engine's Linux fast path moves itself (raw display, nothing to look at).
//!
//! Network tasks send it [`OutMsg`]s over a bounded channel, so a slow stdout slows the readers
//! (backpressure) instead of growing memory. Rendering runs on this thread, beside the network thread,
//! which uses the second core for hex and pickle display. When stdout fails the thread says so
//! ([`Output::failed`]) and the command ends: quietly with status 0 for a closed stdout (`| head`),
//! as ripgrep does, with an error otherwise.

use std::collections::HashMap;
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::dgram::Batch;
use crate::net::display_addr;
use crate::render::DisplayMode;
use crate::render::{self, Render, RenderOpts, StreamLabel};

/// Identifies one stream of received bytes (one connection and direction).
pub type StreamId = u64;

/// What the network side asks of stdout.
pub enum OutMsg {
    /// A new stream starts; its blocks are labelled `label`.
    Open { id: StreamId, label: StreamLabel },
    /// The next bytes of a stream.
    Data { id: StreamId, bytes: Bytes },
    /// A stream ended: show what is left of it.
    Close { id: StreamId },
    /// A self-contained message (a datagram): rendered on its own, after an optional header line.
    Datagram {
        header: Option<String>,
        label: StreamLabel,
        bytes: Bytes,
    },
    /// Datagrams received together, each shown as a [`OutMsg::Datagram`] of its own (raw payloads
    /// without senders in one write).
    Datagrams { batch: Batch, show_sender: bool },
    /// A line of text for stdout, written as is (the lab server's report lines).
    Text(String),
    /// Reply once everything before this message is written and flushed.
    Flush(oneshot::Sender<()>),
    /// The program is ending: every stream still open ends here (what is left of it is shown,
    /// a pickle cut off as `# truncated`).
    CloseAll,
    /// Show data in this mode from now on (the REPL's /mode).
    SetMode(DisplayMode),
    /// Print above the REPL's prompt from now on, while it is active.
    AttachRepl(ReplSink),
}

/// What the stdout thread was given and what reached stdout, so the end of the program can wait for
/// it while it makes progress, and say what was not shown when it has to stop.
#[derive(Debug, Default)]
struct Progress {
    /// Received bytes handed to the stdout thread.
    queued: AtomicU64,
    /// Of those, bytes whose display was written to stdout and flushed.
    shown: AtomicU64,
    /// When the write to stdout in progress began ([`millis`] + 1), or 0 when none is.
    writing_since: AtomicU64,
    /// Why writing to stdout failed, once it has; the stdout thread then discards what it is sent.
    failure: OnceLock<io::Error>,
    failed: tokio::sync::Notify,
}

/// Milliseconds since the first call: a monotonic clock that fits in an atomic.
fn millis() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

impl Progress {
    /// How long the current write to stdout has been blocked (zero when none is under way).
    fn stuck_for(&self) -> Duration {
        match self.writing_since.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            t => Duration::from_millis(millis().saturating_sub(t - 1)),
        }
    }

    fn unshown(&self) -> u64 {
        let queued = self.queued.load(Ordering::Relaxed);
        queued.saturating_sub(self.shown.load(Ordering::Relaxed))
    }
}

/// stdout, with the start of each write recorded so a blocked stdout can be told from a busy
/// renderer.
struct Watched<W: Write> {
    inner: W,
    progress: Arc<Progress>,
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.progress
            .writing_since
            .store(millis() + 1, Ordering::Relaxed);
        let r = self.inner.write(buf);
        self.progress.writing_since.store(0, Ordering::Relaxed);
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Received bytes a message carries (what has to be shown).
fn received_len(msg: &OutMsg) -> u64 {
    match msg {
        OutMsg::Data { bytes, .. } | OutMsg::Datagram { bytes, .. } => bytes.len() as u64,
        OutMsg::Datagrams { batch, .. } => batch.payloads().len() as u64,
        _ => 0,
    }
}

impl OutMsg {
    /// The display of one received datagram. With `show_sender`, raw mode puts a header line
    /// `ADDRESS LENGTH` before the payload and a newline after it (the format scripts rely on);
    /// hex and pickle modes name the sender at the head of the block instead.
    pub fn datagram(
        from: impl std::fmt::Display,
        data: &[u8],
        mode: DisplayMode,
        show_sender: bool,
    ) -> OutMsg {
        let header =
            (show_sender && mode == DisplayMode::Raw).then(|| format!("{from} {}", data.len()));
        let label = StreamLabel {
            peer: show_sender.then(|| from.to_string()),
            direction: "received",
        };
        let mut bytes = Vec::with_capacity(data.len() + 1);
        bytes.extend_from_slice(data);
        if header.is_some() {
            bytes.push(b'\n');
        }
        OutMsg::Datagram {
            header,
            label,
            bytes: Bytes::from(bytes),
        }
    }
}

/// Where the stdout thread writes: stdout itself, or above the REPL's prompt while it is active.
pub struct ReplSink {
    pub printer: Box<dyn rustyline::ExternalPrinter + Send>,
    /// False once the REPL has ended (Ctrl-D, /close): output goes to stdout again.
    pub active: Arc<AtomicBool>,
}

/// A cheap handle for sending to stdout.
#[derive(Clone)]
pub struct Output {
    tx: mpsc::Sender<OutMsg>,
    progress: Arc<Progress>,
    /// Received data is dropped here instead of handed to the stdout thread: stdout is /dev/null and
    /// raw data has nothing to report. Cleared if a REPL attaches or the display mode changes.
    discard: Arc<AtomicBool>,
}

impl Output {
    /// Starts the stdout thread.
    pub fn start(opts: RenderOpts) -> (Output, thread::JoinHandle<()>) {
        Output::start_with(opts, None)
    }

    /// Starts the stdout thread, printing through the REPL while it runs.
    pub fn start_with(
        opts: RenderOpts,
        repl: Option<ReplSink>,
    ) -> (Output, thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(64);
        let discard = repl.is_none() && opts.mode == DisplayMode::Raw && stdout_is_dev_null();
        let progress = Arc::new(Progress::default());
        let watched = progress.clone();
        let handle = thread::Builder::new()
            .name("stdout".into())
            .spawn(move || {
                let file = stdout_file();
                let sink = Watched {
                    inner: &*file,
                    progress: watched.clone(),
                };
                writer_loop(rx, opts, sink, repl, &watched)
            })
            .expect("spawn the stdout thread");
        let discard = Arc::new(AtomicBool::new(discard));
        (
            Output {
                tx,
                progress,
                discard,
            },
            handle,
        )
    }

    /// Whether `msg` is to be passed on (counting what it carries), or dropped here.
    fn admit(&self, msg: &OutMsg) -> bool {
        // Handing bytes bound for /dev/null to the stdout thread costs a thread wake-up per read:
        // measured on an echo server with stdout on /dev/null, 58 µs round trips instead of 53.
        match msg {
            OutMsg::Data { .. } | OutMsg::Datagram { .. } | OutMsg::Datagrams { .. }
                if self.discard.load(Ordering::Relaxed) =>
            {
                return false
            }
            OutMsg::AttachRepl(_) | OutMsg::SetMode(_) => {
                self.discard.store(false, Ordering::Relaxed)
            }
            _ => {}
        }
        self.progress
            .queued
            .fetch_add(received_len(msg), Ordering::Relaxed);
        true
    }

    pub async fn send(&self, msg: OutMsg) {
        if self.admit(&msg) {
            // The receiver only goes away when the process is ending.
            let _ = self.tx.send(msg).await;
        }
    }

    /// Waits for room in the stdout thread's queue (cancel-safe), so a relay can wait for it beside
    /// its other work.
    pub(crate) async fn reserve(&self) -> Permit<'_> {
        Permit {
            out: self,
            permit: self.tx.reserve().await.ok(),
        }
    }

    /// Resolves once writing to stdout has failed, with the error the command ends with: a quiet
    /// end (status 0) when stdout's reader closed it, as after `| head`.
    pub(crate) async fn failed(&self) -> anyhow::Error {
        loop {
            let notified = self.progress.failed.notified();
            if let Some(e) = self.failure() {
                return e;
            }
            notified.await;
        }
    }

    /// The error the command ends with if writing to stdout has failed (see [`Output::failed`]).
    pub(crate) fn failure(&self) -> Option<anyhow::Error> {
        self.progress.failure.get().map(crate::error::stdout_failed)
    }

    pub async fn open(&self, id: StreamId, label: StreamLabel) {
        self.send(OutMsg::Open { id, label }).await
    }

    pub async fn data(&self, id: StreamId, bytes: Bytes) {
        self.send(OutMsg::Data { id, bytes }).await
    }

    pub async fn close(&self, id: StreamId) {
        self.send(OutMsg::Close { id }).await
    }

    pub async fn text(&self, line: String) {
        self.send(OutMsg::Text(line)).await
    }

    /// Waits until everything sent so far is on stdout.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(OutMsg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// The end of the program: ends every open stream (showing what is left of it), then waits
    /// until everything is on stdout for as long as the stdout thread makes progress. It gives up
    /// when one write to stdout has been blocked for `stuck` (a reader that stopped reading), or
    /// after `deadline` if one is given (a signal). Returns how many received bytes were not
    /// shown: 0 when everything was.
    pub async fn drain(&self, stuck: Duration, deadline: Option<Duration>) -> u64 {
        let start = Instant::now();
        let done = async {
            let _ = self.tx.send(OutMsg::CloseAll).await;
            self.flush().await;
        };
        tokio::pin!(done);
        loop {
            tokio::select! {
                // Everything sent before the flush is on stdout.
                () = &mut done => return 0,
                () = tokio::time::sleep(Duration::from_millis(50)) => {
                    let late = deadline.is_some_and(|d| start.elapsed() >= d);
                    if late || self.progress.stuck_for() >= stuck {
                        return self.progress.unshown();
                    }
                }
            }
        }
    }
}

/// Room for one message in the stdout thread's queue.
pub(crate) struct Permit<'a> {
    out: &'a Output,
    permit: Option<mpsc::Permit<'a, OutMsg>>,
}

impl Permit<'_> {
    /// The next bytes of stream `id`.
    pub(crate) fn data(self, id: StreamId, bytes: Bytes) {
        let msg = OutMsg::Data { id, bytes };
        if let (true, Some(p)) = (self.out.admit(&msg), self.permit) {
            p.send(msg);
        }
    }
}

/// stdout as a file, borrowed: dropping it leaves fd 1 open. Written to directly, without the
/// standard library's line buffering (the stdout thread buffers and flushes itself).
#[cfg(unix)]
pub(crate) fn stdout_file() -> ManuallyDrop<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: fd 1 stays open for the life of the process; ManuallyDrop keeps us from closing it.
    ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) })
}

/// stdout, where it has no file descriptor to borrow.
#[cfg(not(unix))]
pub(crate) fn stdout_file() -> ManuallyDrop<io::Stdout> {
    ManuallyDrop::new(io::stdout())
}

/// Whether stdout is /dev/null (the same character device), where written bytes go nowhere.
#[cfg(unix)]
pub(crate) fn stdout_is_dev_null() -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let stdout = stdout_file();
    match (stdout.metadata(), std::fs::metadata("/dev/null")) {
        (Ok(out), Ok(null)) => out.file_type().is_char_device() && out.rdev() == null.rdev(),
        _ => false,
    }
}

/// Whether stdout is the null device: not asked where there is no /dev/null to compare with.
#[cfg(not(unix))]
pub(crate) fn stdout_is_dev_null() -> bool {
    false
}

struct Writer<W: Write> {
    out: io::BufWriter<W>,
    repl: Option<ReplSink>,
    opts: RenderOpts,
    streams: HashMap<StreamId, Box<dyn Render>>,
    labels: HashMap<StreamId, StreamLabel>,
    scratch: Vec<u8>,
    diag: Vec<String>,
}

fn writer_loop(
    mut rx: mpsc::Receiver<OutMsg>,
    opts: RenderOpts,
    sink: impl Write,
    repl: Option<ReplSink>,
    progress: &Progress,
) {
    let mut w = Writer {
        out: io::BufWriter::with_capacity(128 * 1024, sink),
        repl,
        opts,
        streams: HashMap::new(),
        labels: HashMap::new(),
        scratch: Vec::with_capacity(256 * 1024),
        diag: Vec::new(),
    };
    while let Some(msg) = rx.blocking_recv() {
        let mut next = Some(msg);
        let mut handled = 0;
        while let Some(msg) = next.take() {
            handled += received_len(&msg);
            match msg {
                // Answered only once a failure, if any, is recorded: whoever waits for the flush
                // then learns of it.
                OutMsg::Flush(done) => {
                    if progress.failure.get().is_none() {
                        if let Err(e) = w.out.flush() {
                            fail(progress, e);
                        }
                    }
                    let _ = done.send(());
                }
                msg if progress.failure.get().is_none() => {
                    if let Err(e) = w.handle(msg) {
                        fail(progress, e);
                    }
                }
                _ => {}
            }
            next = rx.try_recv().ok();
        }
        if progress.failure.get().is_none() {
            if let Err(e) = w.out.flush() {
                fail(progress, e);
            }
        }
        progress.shown.fetch_add(handled, Ordering::Relaxed);
        // One huge message should not leave its buffer behind for the rest of the program.
        if w.scratch.capacity() > 4 << 20 {
            w.scratch = Vec::with_capacity(256 * 1024);
        }
    }
    let _ = w.out.flush();
}

/// stdout failed: the stdout thread says so once and discards what it is sent from then on (so no
/// sender waits for it); the command ends through [`Output::failed`].
fn fail(progress: &Progress, e: io::Error) {
    if progress.failure.set(e).is_ok() {
        progress.failed.notify_waiters();
    }
}

impl<W: Write> Writer<W> {
    fn repl_active(&self) -> bool {
        self.repl
            .as_ref()
            .is_some_and(|r| r.active.load(Ordering::Relaxed))
    }

    fn handle(&mut self, msg: OutMsg) -> io::Result<()> {
        match msg {
            OutMsg::Open { id, label } => {
                self.streams
                    .insert(id, render::renderer(&self.opts, label.clone()));
                self.labels.insert(id, label);
            }
            OutMsg::Data { id, bytes } => {
                if self.opts.mode == DisplayMode::Raw && !self.repl_active() {
                    return self.out.write_all(&bytes);
                }
                let opts = &self.opts;
                let r = self
                    .streams
                    .entry(id)
                    .or_insert_with(|| render::renderer(opts, StreamLabel::default()));
                self.scratch.clear();
                r.feed(&bytes, &mut self.scratch, &mut self.diag);
                self.emit()?;
            }
            OutMsg::Close { id } => {
                self.labels.remove(&id);
                if let Some(mut r) = self.streams.remove(&id) {
                    self.scratch.clear();
                    r.finish(&mut self.scratch, &mut self.diag);
                    self.emit()?;
                }
            }
            OutMsg::Datagram {
                header,
                label,
                bytes,
            } => {
                self.scratch.clear();
                if let Some(h) = header {
                    self.scratch.extend_from_slice(h.as_bytes());
                    self.scratch.push(b'\n');
                }
                let mut r = render::renderer(&self.opts, label);
                r.feed(&bytes, &mut self.scratch, &mut self.diag);
                r.finish(&mut self.scratch, &mut self.diag);
                self.emit()?;
            }
            OutMsg::Datagrams { batch, show_sender } => {
                if self.opts.mode == DisplayMode::Raw && !show_sender && !self.repl_active() {
                    return self.out.write_all(batch.payloads());
                }
                for (from, payload) in batch.iter() {
                    let shown = display_addr(from);
                    self.handle(OutMsg::datagram(
                        shown,
                        payload,
                        self.opts.mode,
                        show_sender,
                    ))?;
                }
            }
            OutMsg::Text(line) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(line.as_bytes());
                self.scratch.push(b'\n');
                self.emit()?;
            }
            OutMsg::AttachRepl(sink) => {
                self.out.flush()?;
                self.repl = Some(sink);
            }
            OutMsg::SetMode(mode) => {
                self.opts.mode = mode;
                for (id, r) in self.streams.iter_mut() {
                    let label = self.labels.get(id).cloned().unwrap_or_default();
                    *r = render::renderer(&self.opts, label);
                }
            }
            OutMsg::CloseAll => {
                self.labels.clear();
                let mut ids: Vec<StreamId> = self.streams.keys().copied().collect();
                ids.sort_unstable();
                for id in ids {
                    if let Some(mut r) = self.streams.remove(&id) {
                        self.scratch.clear();
                        r.finish(&mut self.scratch, &mut self.diag);
                        self.emit()?;
                    }
                }
            }
            OutMsg::Flush(done) => {
                // Handled by the loop; here only for completeness.
                self.out.flush()?;
                let _ = done.send(());
            }
        }
        Ok(())
    }

    /// Writes the rendered scratch buffer, then any warnings (stdout first, so they line up).
    fn emit(&mut self) -> io::Result<()> {
        if self.repl_active() && !self.scratch.is_empty() {
            let text = crate::escape::terminal_safe(&self.scratch);
            if let Some(repl) = self.repl.as_mut() {
                if repl.printer.print(text).is_err() {
                    repl.active.store(false, Ordering::Relaxed);
                }
            }
        } else {
            self.out.write_all(&self.scratch)?;
        }
        if !self.diag.is_empty() {
            self.out.flush()?;
            for d in self.diag.drain(..) {
                eprintln!("sockkit: warning: {d}");
            }
        }
        Ok(())
    }
}
