//! The relay of one connection as a plain poll(2) loop on a thread of its own, for the case scripts
//! and benchmarks meet most: raw bytes both ways, stdin a pipe (or not read at all) and stdout a pipe,
//! a regular file or /dev/null. [`crate::relay::relay`] hands such a connection over to [`relay`].
//!
//! Why a loop of its own: a message going through the async relay costs the same system calls as
//! here (wait, read, send; wait, recv, write), plus tokio's work around each wake-up. Measured on a
//! 2-core AMD EPYC VM (Linux 6.18), 64-byte ping-pong against a Python echo server: a bare poll(2)
//! loop in C took 51 µs a round trip, nc 58 µs, the async relay 59 µs.
//!
//! The end-of-stream rules are those of [`crate::relay`], which documents them. The socket-to-stdout
//! side is [`Down`], shared with the async relay; stdin is read in pieces of at most [`PIECE`] and bulk
//! input is left [`GATHER`] to gather, as there (see `crate::splice`). Both directions are bounded: a
//! side whose destination is full is not read until it drains.
//!
//! [`echo`] is the one-client echo server's loop in the same spirit: blocking `recv`, `send` back,
//! copy to stdout; two system calls a message where the async one needs three and a wake-up of the
//! runtime.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};

use crate::error::describe_io;
use crate::relay::{End, RelayConfig, Summary, PEER_CLOSED_GRACE, READ_SIZE};
use crate::splice::{lost, read_ready, stdout_error, Down, BULK, CHUNK, GATHER, PIECE};

/// How long, at the end, what is still on its way to stdout may take to get there.
const FINAL_FLUSH: Duration = Duration::from_secs(2);

/// Relays `stream` (non-blocking) with stdin (when `has_input`) and stdout until one of the
/// end-of-stream rules says stop. Blocks the calling thread.
pub fn relay(stream: TcpStream, has_input: bool, cfg: &RelayConfig) -> Result<Summary> {
    let mut relay = Relay::new(stream, has_input, cfg)?;
    let end = relay.run();
    // Whatever the end, what was received reaches stdout if stdout lets it within a bound.
    relay.flush_stdout();
    let end = end?;
    if let Some(e) = &relay.send_error {
        return Err(anyhow!("could not send: {}", describe_io(e)));
    }
    Ok(Summary {
        sent: relay.sent,
        received: relay.received,
        elapsed: relay.start.elapsed(),
        end,
    })
}

/// Runs `work` on a thread of its own and waits for it without blocking the runtime, which keeps
/// handling signals meanwhile.
pub async fn on_thread<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        })?;
    rx.await
        .unwrap_or_else(|_| Err(anyhow!("internal error: the {name} thread failed")))
}

/// Echoes what one client sends back to it, and copies it to stdout (a pipe, a file or /dev/null,
/// which gets nothing), until the client closes; then half-closes. `idle_timeout` limits the wait for
/// each read. Blocks the calling thread; a client that does not read its echo, or a stdout nobody
/// reads, slows the loop down rather than making memory grow.
pub fn echo(stream: TcpStream, idle_timeout: Option<Duration>) -> Result<Summary> {
    let start = Instant::now();
    stream.set_nonblocking(false)?;
    // SO_RCVTIMEO cannot say zero (that means no limit): the shortest it can is 1 µs.
    stream.set_read_timeout(idle_timeout.map(|d| d.max(Duration::from_micros(1))))?;
    let to_stdout = !crate::output::stdout_is_dev_null();
    let mut stdout = crate::output::stdout_file();
    let mut buf = vec![0u8; READ_SIZE];
    let mut received = 0u64;
    let result = loop {
        let n = match (&stream).read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && idle_timeout.is_some() =>
            {
                break Err(anyhow!(
                    "closed after {} without data (idle timeout)",
                    humantime::format_duration(idle_timeout.unwrap_or_default())
                ));
            }
            Err(e) => break Err(anyhow!("connection lost: {}", describe_io(&e))),
        };
        received += n as u64;
        if let Err(e) = (&stream).write_all(&buf[..n]) {
            break Err(anyhow!("could not echo: {}", describe_io(&e)));
        }
        if to_stdout {
            if let Err(e) = stdout.write_all(&buf[..n]) {
                crate::output::stdout_failed(&e);
            }
        }
    };
    let _ = stream.shutdown(Shutdown::Write);
    result?;
    Ok(Summary {
        sent: received,
        received,
        elapsed: start.elapsed(),
        end: End::PeerClosed,
    })
}

struct Relay<'a> {
    stream: TcpStream,
    cfg: &'a RelayConfig,
    start: Instant,
    down: Down,
    /// The peer has closed its write side.
    down_done: bool,
    /// Read from stdin and not yet sent: `up[up_off..up_len]`.
    up: Vec<u8>,
    up_off: usize,
    up_len: usize,
    nowait: bool,
    /// stdin is still read: it has not ended and sending has not failed.
    reading: bool,
    /// stdin ended while a piece was gathering; acted on once that piece is sent.
    eof_pending: bool,
    /// When the piece read last is sent (bulk input gathers a little longer first).
    gather_until: Option<Instant>,
    /// Once the peer has closed while stdin still runs: when stdin last moved.
    grace_from: Option<Instant>,
    /// `-q`: when to stop after stdin ended.
    quit_at: Option<Instant>,
    /// Kept only with an idle timeout.
    last_activity: Instant,
    sent: u64,
    received: u64,
    /// Why sending failed, if it did: the relay's result in the end.
    send_error: Option<io::Error>,
}

impl<'a> Relay<'a> {
    fn new(stream: TcpStream, has_input: bool, cfg: &'a RelayConfig) -> Result<Relay<'a>> {
        let start = Instant::now();
        if has_input {
            // A bigger pipe means fewer wake-ups for us and the writer; it changes no file status flag.
            // SAFETY: F_SETPIPE_SZ only resizes the pipe; failure keeps its size.
            unsafe {
                libc::fcntl(0, libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
            }
        }
        Ok(Relay {
            stream,
            cfg,
            start,
            down: Down::new()?,
            down_done: false,
            up: vec![0; if has_input { PIECE } else { 0 }],
            up_off: 0,
            up_len: 0,
            nowait: true,
            reading: has_input,
            eof_pending: false,
            gather_until: None,
            grace_from: None,
            quit_at: None,
            last_activity: start,
            sent: 0,
            received: 0,
            send_error: None,
        })
    }

    fn run(&mut self) -> Result<End> {
        let sock = self.stream.as_raw_fd();
        loop {
            if let Some(end) = self.timers()? {
                return Ok(end);
            }
            let mut fds = [libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            }; 3];
            let mut count = 0;
            let mut add = |fd, events| {
                fds[count] = libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                };
                count += 1;
                count - 1
            };
            let gathering = self.gather_until.is_some();
            let read_stdin = self.reading && self.up_len == 0 && !gathering;
            let stdin_at = read_stdin.then(|| add(0, libc::POLLIN));
            let mut sock_events = 0;
            if !self.down_done && !self.down.pending() {
                sock_events |= libc::POLLIN;
            }
            if self.up_len > 0 && !gathering {
                sock_events |= libc::POLLOUT;
            }
            let sock_at = (sock_events != 0).then(|| add(sock, sock_events));
            let stdout_at = self.down.pending().then(|| add(1, libc::POLLOUT));
            let timeout = self
                .next_deadline()
                .map(|t| t.saturating_duration_since(Instant::now()));
            ppoll(&mut fds[..count], timeout)?;

            if stdout_at.is_some_and(|i| fds[i].revents != 0) {
                self.drain_stdout()?;
            }
            if let Some(i) = sock_at {
                let ready = fds[i].revents;
                let failed = libc::POLLERR | libc::POLLHUP;
                if sock_events & libc::POLLOUT != 0 && ready & (libc::POLLOUT | failed) != 0 {
                    if let Some(end) = self.send()? {
                        return Ok(end);
                    }
                }
                if sock_events & libc::POLLIN != 0 && ready & (libc::POLLIN | failed) != 0 {
                    if let Some(end) = self.receive()? {
                        return Ok(end);
                    }
                }
            }
            if stdin_at.is_some_and(|i| fds[i].revents != 0) {
                if let Some(end) = self.read_stdin()? {
                    return Ok(end);
                }
            }
        }
    }

    /// The earliest time something is due, if anything is.
    fn next_deadline(&self) -> Option<Instant> {
        // A limit too far away for an Instant never comes.
        let idle = self
            .cfg
            .idle_timeout
            .and_then(|d| self.last_activity.checked_add(d));
        let grace = self.grace_from.map(|t| t + PEER_CLOSED_GRACE);
        [self.gather_until, self.quit_at, idle, grace]
            .into_iter()
            .flatten()
            .min()
    }

    /// Acts on what is due: `-q`, the idle timeout, the end of the grace after the peer closed, and
    /// the end of a gathering piece.
    fn timers(&mut self) -> Result<Option<End>> {
        if self.next_deadline().is_none() {
            return Ok(None);
        }
        let now = Instant::now();
        if self.quit_at.is_some_and(|t| now >= t) {
            return Ok(Some(End::QuitAfterEof));
        }
        if let Some(limit) = self.cfg.idle_timeout {
            if self
                .last_activity
                .checked_add(limit)
                .is_some_and(|t| now >= t)
            {
                return Err(anyhow!(
                    "no data for {} (idle timeout)",
                    humantime::format_duration(limit)
                ));
            }
        }
        if self
            .grace_from
            .is_some_and(|t| now >= t + PEER_CLOSED_GRACE)
        {
            // The peer closed and stdin has stayed quiet since: nothing keeps us here.
            return Ok(Some(End::PeerClosed));
        }
        if self.gather_until.is_some_and(|t| now >= t) {
            self.gather_until = None;
            match read_ready(&mut self.up[self.up_len..], &mut self.nowait) {
                Ok(Some(0)) => self.eof_pending = true,
                Ok(Some(m)) => self.up_len += m,
                Ok(None) => {}
                Err(e) => return Err(stdin_error(&e)),
            }
            return self.send();
        }
        Ok(None)
    }

    fn touch(&mut self) {
        if self.cfg.idle_timeout.is_some() {
            self.last_activity = Instant::now();
        }
    }

    fn read_stdin(&mut self) -> Result<Option<End>> {
        let n = match read_ready(&mut self.up, &mut self.nowait) {
            Ok(Some(n)) => n,
            // Another reader of the pipe was quicker.
            Ok(None) => return Ok(None),
            Err(e) => return Err(stdin_error(&e)),
        };
        if n == 0 {
            return self.stdin_ended();
        }
        self.up_len = n;
        if (BULK..PIECE / 2).contains(&n) {
            // Bulk input from a writer slower than us: let it fill the pipe a little longer, then
            // send all at once. Messages under BULK go out at once.
            self.gather_until = Some(Instant::now() + GATHER);
            return Ok(None);
        }
        self.send()
    }

    /// Sends what stdin gave, as far as the socket takes it now.
    fn send(&mut self) -> Result<Option<End>> {
        while self.up_off < self.up_len {
            match (&self.stream).write(&self.up[self.up_off..self.up_len]) {
                Ok(0) => return self.send_failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.up_off += n;
                    self.sent += n as u64;
                    self.touch();
                    if self.grace_from.is_some() {
                        self.grace_from = Some(Instant::now());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.send_failed(e),
            }
        }
        self.up_off = 0;
        self.up_len = 0;
        if self.eof_pending {
            self.eof_pending = false;
            return self.stdin_ended();
        }
        Ok(None)
    }

    fn send_failed(&mut self, e: io::Error) -> Result<Option<End>> {
        if self.down_done {
            // The peer closed completely: nothing more can be delivered.
            if self.cfg.verbose {
                eprintln!("sockkit: the peer closed; dropping the rest of stdin");
            }
            return Ok(Some(End::PeerClosed));
        }
        // The peer is gone for writing; whatever it still sends is still read, and its end is ours.
        if self.cfg.verbose {
            eprintln!(
                "sockkit: could not send: {} (still reading)",
                describe_io(&e)
            );
        }
        self.send_error = Some(e);
        self.reading = false;
        self.eof_pending = false;
        self.up_off = 0;
        self.up_len = 0;
        Ok(None)
    }

    fn stdin_ended(&mut self) -> Result<Option<End>> {
        self.reading = false;
        if !self.cfg.no_shutdown {
            let _ = self.stream.shutdown(Shutdown::Write);
            if self.cfg.verbose {
                eprintln!("sockkit: stdin ended; sent EOF to the peer (half-close)");
            }
        } else if self.cfg.verbose {
            eprintln!("sockkit: stdin ended; keeping the connection open (--no-shutdown)");
        }
        if self.down_done {
            return Ok(Some(End::PeerClosed));
        }
        if let Some(d) = self.cfg.quit_after_eof {
            self.quit_at = Instant::now().checked_add(d);
        }
        Ok(None)
    }

    /// Takes what the socket holds toward stdout.
    fn receive(&mut self) -> Result<Option<End>> {
        let got = if self.down.splicing() {
            self.down.splice_from(self.stream.as_raw_fd())
        } else {
            let got = (&self.stream).read(self.down.buf());
            if let Ok(n @ 1..) = got {
                self.down.received(n).map_err(|e| stdout_error(&e))?;
            }
            got
        };
        let n = match got {
            Ok(n) => n,
            Err(e) if crate::splice::would_block(&e) => return Ok(None),
            Err(e) => return Err(lost(&e)),
        };
        if n == 0 {
            self.down_done = true;
            if self.cfg.verbose {
                eprintln!("sockkit: peer closed its write side");
            }
            if !self.reading {
                return Ok(Some(End::PeerClosed));
            }
            // The peer may only have half-closed: deliver what stdin still has, but stop once stdin
            // goes quiet, so an idle pipe does not keep us hanging on a closed connection.
            self.grace_from = Some(Instant::now());
            return Ok(None);
        }
        self.received += n as u64;
        self.touch();
        self.drain_stdout()?;
        Ok(None)
    }

    fn drain_stdout(&mut self) -> Result<()> {
        self.down.drain().map_err(|e| stdout_error(&e))?;
        Ok(())
    }

    /// At the end: waits (bounded) for stdout to take what is still on its way there.
    fn flush_stdout(&mut self) {
        let until = Instant::now() + FINAL_FLUSH;
        while self.down.pending() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                eprintln!("sockkit: stdout is not being read; dropping what is left");
                return;
            }
            let mut fd = [libc::pollfd {
                fd: 1,
                events: libc::POLLOUT,
                revents: 0,
            }];
            if ppoll(&mut fd, Some(left)).is_err() || self.down.drain().is_err() {
                return;
            }
        }
    }
}

fn stdin_error(e: &io::Error) -> anyhow::Error {
    anyhow!("could not read stdin: {}", describe_io(e))
}

/// Waits until one of `fds` is ready or `timeout` passes (`None`: no limit). A signal is a wake-up
/// like any other.
fn ppoll(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> Result<()> {
    let spec = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    });
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const libc::timespec);
    // SAFETY: the descriptors and the timeout are ours, passed by pointer for the call only; no
    // signal mask is given.
    let n = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            spec_ptr,
            std::ptr::null(),
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(anyhow!("poll failed: {}", describe_io(&e)));
        }
    }
    Ok(())
}
