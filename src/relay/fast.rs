//! Linux fast paths of the relay engine, used when nothing needs to see the bytes (raw display, no
//! --crlf, no REPL). Everything here is an optimisation: without the `linux-fast-paths` feature, or on
//! another system, the engine takes the portable path (the stdin thread and the stdout thread) and
//! behaves the same. This is the only module of the crate that calls Linux-only system calls.
//!
//! - socket to stdout (a pipe, a regular file or /dev/null), [`Stdout`]: `splice(2)` through a pipe of
//!   our own, so bulk bytes never pass through user space; small pieces are received into a buffer and
//!   written with `pwritev2(RWF_NOWAIT)` (two system calls per message instead of three).
//! - stdin (a pipe) to socket, [`Stdin`]: read on the network thread itself, in pieces of up to 64 KiB
//!   from a pipe enlarged to 1 MiB, with `preadv2(RWF_NOWAIT)` when epoll says there is data (a read
//!   that cannot block whatever the pipe's flags; kernels without it get poll(2) then read(2), what nc
//!   does). Measured here, splicing this direction was slower: the writer of the pipe then allocates
//!   fresh pages for every write, which costs more than the copy saved. A writer slower than us (`head`
//!   writes 4 KiB at a time) otherwise gives reads of 16 to 32 KiB, each its own send, segment and
//!   wake-up of the receiver; so after a read of 16 KiB or more (bulk input, never a typed line) we wait
//!   50 µs on a timerfd and take what the pipe gathered meanwhile. Messages under 16 KiB go out at
//!   once, so latency is unchanged. Pieces bigger than 64 KiB were slower (see [`PIECE`]).
//!
//! Both avoid the thread hand-offs of the portable path, which also lowers latency. Readiness comes
//! from epoll (tokio's `AsyncFd` on a duplicate of the descriptor), so stdin and stdout keep their file
//! status flags: nothing here sets O_NONBLOCK on a shared descriptor; `SPLICE_F_NONBLOCK` applies to
//! our pipe. Every wait here is cancel-safe: what was read is kept in the struct, not in a future.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, Interest};

use crate::conn::PeerRead;

/// Bytes asked for per splice call, and the size our pipes are enlarged to.
pub(crate) const CHUNK: usize = 1 << 20;

/// Bytes read from stdin, and so sent, at most at a time. Measured on a 2-core AMD EPYC VM (Linux
/// 6.18), 2 GB from `head` through listen/connect: 0.73 GB/s with 1 MiB pieces, 0.72 with 256 KiB,
/// 1.13 with 64 or 96 KiB, 0.88 with 32 KiB (nc: 0.77). With big pieces the copy out of the pipe took
/// three times the CPU and `head` spun on the pipe's lock while we held it.
pub(crate) const PIECE: usize = 64 << 10;

/// A stdin read at least this big is bulk input (a file or a program piped in), not a typed message.
pub(crate) const BULK: usize = 16 << 10;

/// How long bulk input is left to gather in the pipe before it is sent.
pub(crate) const GATHER: Duration = Duration::from_micros(50);

fn file_type(fd: RawFd) -> Option<libc::mode_t> {
    // SAFETY: fstat fills the struct we pass.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(fd, &mut st) == 0).then_some(st.st_mode & libc::S_IFMT)
    }
}

/// Whether stdin is a pipe (the only kind of stdin spliced).
pub(crate) fn stdin_is_pipe() -> bool {
    file_type(0) == Some(libc::S_IFIFO)
}

/// Whether stdout is a pipe, a regular file or a non-terminal character device (/dev/null), and
/// splice(2) may write to it: the kernel refuses (EINVAL) a file or device opened for appending, as
/// the shell's `>>` does, so such a stdout takes the ordinary path.
pub(crate) fn stdout_spliceable() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(1) } == 1;
    let kind = file_type(1);
    // SAFETY: F_GETFL only reads the descriptor's status flags.
    let append = unsafe { libc::fcntl(1, libc::F_GETFL) } & libc::O_APPEND != 0;
    match kind {
        Some(libc::S_IFIFO) => true,
        Some(libc::S_IFREG) => !append,
        Some(libc::S_IFCHR) => !tty && !append,
        _ => false,
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: plain splice between two descriptors we hold; no user memory involved.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Whether a read of `fd` would return at once (data, or end of input), asked of poll(2) now.
fn readable_now(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polls one descriptor we pass by pointer, without waiting.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
}

/// A registered duplicate of a standard descriptor (so closing ours leaves the real one alone).
struct Dup(OwnedFd);

impl AsRawFd for Dup {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

fn dup_async(fd: RawFd) -> io::Result<AsyncFd<Dup>> {
    // SAFETY: dup returns a new descriptor we own, or -1.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if d < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `d` is a fresh descriptor owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(d) };
    // SAFETY: the descriptor is owned by the `Dup` inside the AsyncFd and stays open while registered.
    unsafe { AsyncFd::register_with_interest(Dup(owned), Interest::READABLE | Interest::WRITABLE) }
        .map_err(|e| e.into())
}

/// stdin (a pipe) read on the network thread. See the module docs.
pub(crate) struct Stdin {
    fd: AsyncFd<Dup>,
    gather: Option<Timer>,
    buf: BytesMut,
    nowait: bool,
    /// Bulk input read and gathering until then.
    gather_until: Option<Instant>,
    ended: bool,
}

impl Stdin {
    pub(crate) fn new() -> io::Result<Stdin> {
        // A bigger pipe means fewer wake-ups for us and the writer; it changes no file status flag.
        // SAFETY: F_SETPIPE_SZ only resizes the pipe; failure keeps its size.
        unsafe {
            libc::fcntl(0, libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
        }
        Ok(Stdin {
            fd: dup_async(0)?,
            gather: Timer::new().ok(),
            buf: BytesMut::new(),
            nowait: true,
            gather_until: None,
            ended: false,
        })
    }

    /// The next piece of stdin, `None` at its end. Cancel-safe.
    pub(crate) async fn next(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            if let Some(at) = self.gather_until {
                if let Some(timer) = &mut self.gather {
                    if timer.sleep_until(at).await.is_err() {
                        self.gather = None;
                    }
                }
                self.gather_until = None;
                let n = self.buf.len();
                // SAFETY (of the slice): read_ready only writes; the bytes it reports are set below.
                match read_ready(spare(&mut self.buf), &mut self.nowait)? {
                    Some(0) => self.ended = true,
                    Some(m) => unsafe { self.buf.set_len(n + m) },
                    None => {}
                }
                return Ok(Some(self.buf.split().freeze()));
            }
            if self.ended {
                return Ok((!self.buf.is_empty()).then(|| self.buf.split().freeze()));
            }
            if self.buf.capacity() < PIECE {
                self.buf.reserve(PIECE);
            }
            let mut ready = self.fd.readable().await?;
            let Some(n) = read_ready(spare(&mut self.buf), &mut self.nowait)? else {
                ready.clear_ready();
                continue;
            };
            if n == 0 {
                self.ended = true;
                continue;
            }
            // SAFETY: read_ready wrote `n` bytes into the spare capacity.
            unsafe { self.buf.set_len(n) };
            if n < PIECE {
                // A pipe read returns all it holds: it is empty now, so wait for epoll rather than
                // try again (one system call less per message). Data written since is a new event.
                ready.clear_ready();
            }
            if (BULK..PIECE / 2).contains(&n) && self.gather.is_some() {
                // Bulk input from a writer slower than us: let it fill the pipe a little longer,
                // then send all at once. Fewer, larger sends cost far less per byte.
                self.gather_until = Some(Instant::now() + GATHER);
                continue;
            }
            return Ok(Some(self.buf.split().freeze()));
        }
    }
}

/// The spare capacity of `buf` (at most [`PIECE`] bytes), as a slice to read into.
fn spare(buf: &mut BytesMut) -> &mut [u8] {
    let len = buf.len();
    let room = (buf.capacity() - len).min(PIECE.saturating_sub(len));
    let spare = &mut buf.spare_capacity_mut()[..room];
    // SAFETY: u8 has no invalid values and the readers only write into this slice; the length of
    // `buf` is set afterwards to cover only what they reported written.
    unsafe { &mut *(spare as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) }
}

/// Reads what stdin holds without blocking: `None` when it is empty (try again when epoll says so),
/// `Some(0)` at its end. Uses `preadv2(RWF_NOWAIT)`, or poll(2) then read(2) on kernels without it
/// (what nc does), remembered in `nowait`.
pub(crate) fn read_ready(buf: &mut [u8], nowait: &mut bool) -> io::Result<Option<usize>> {
    if *nowait {
        match read_nowait(0, buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => *nowait = false,
            Err(e) if would_block(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    if !readable_now(0) {
        return Ok(None);
    }
    // SAFETY: reads into the buffer we were lent, no more than its length; poll said it will not block.
    let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if would_block(&e) { Ok(None) } else { Err(e) };
    }
    Ok(Some(n as usize))
}

pub(crate) fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// A one-shot timer with microsecond precision (a `timerfd`), awaited through epoll so the other
/// direction keeps moving meanwhile; tokio's own timers tick in milliseconds.
struct Timer(AsyncFd<OwnedFd>);

impl Timer {
    fn new() -> io::Result<Self> {
        // SAFETY: timerfd_create returns a new descriptor we own, or -1.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is fresh and owned by nobody else.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the descriptor is owned by the AsyncFd and stays open while registered.
        unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }
            .map(Timer)
            .map_err(|e| e.into())
    }

    /// Waits until `at`. Cancel-safe: a later call re-arms the timer.
    async fn sleep_until(&mut self, at: Instant) -> io::Result<()> {
        let d = at.saturating_duration_since(Instant::now());
        if d.is_zero() {
            return Ok(());
        }
        let fd = self.0.as_raw_fd();
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: d.as_secs() as libc::time_t,
                tv_nsec: d.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: arms our own timer with a spec we pass by pointer; the old value is not asked for.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut ready = self.0.readable().await?;
            let mut expirations = 0u64;
            // SAFETY: a timerfd read fills exactly 8 bytes, the size of the u64 we pass.
            let n = unsafe { libc::read(fd, (&mut expirations as *mut u64).cast(), 8) };
            if n == 8 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if !would_block(&e) {
                return Err(e);
            }
            ready.clear_ready();
        }
    }
}

/// A read that never blocks, even on a blocking pipe and without touching its file status flags:
/// `preadv2(RWF_NOWAIT)`. `WouldBlock` when the pipe is empty; `Unsupported` on kernels that do not
/// take the flag for pipes.
fn read_nowait(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: one iovec over our own buffer; offset -1 reads at the current position, as a pipe needs.
    let n = unsafe { libc::preadv2(fd, &iov, 1, -1, libc::RWF_NOWAIT) };
    nowait_result(n)
}

/// The result of a `preadv2` / `pwritev2` with `RWF_NOWAIT`: the kernel's refusals of the flag
/// become `Unsupported`, so callers can fall back once and for all.
fn nowait_result(n: isize) -> io::Result<usize> {
    if n >= 0 {
        return Ok(n as usize);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) | Some(libc::EINVAL) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        _ => Err(e),
    }
}

/// The way from the socket to stdout (a pipe, a regular file or /dev/null), without the waiting
/// (that is [`Stdout`]'s).
///
/// Bulk data is spliced through a pipe of our own. When stdout is a pipe, small pieces (a message,
/// a reply) instead go through a buffer: `recv`, then a write that cannot block (`pwritev2` with
/// `RWF_NOWAIT`). A short `recv` shows the socket is drained, where a splice needs one more call that
/// fails to learn it: two system calls per message instead of three. A full buffer switches to
/// splicing until a splice comes back small. Whatever stdout does not take at once waits in our
/// pipe; the socket is not read again until it has gone, so memory stays bounded.
struct Down {
    pr: std::fs::File,
    pw: std::fs::File,
    out_is_pipe: bool,
    buf: Vec<u8>,
    splicing: bool,
    nowait: bool,
    /// Bytes waiting in our pipe for stdout.
    left: usize,
    /// stdout refused splice(2) (a device or file system without it): our pipe is read and stdout
    /// written instead, through this buffer.
    copy: Option<Vec<u8>>,
}

impl Down {
    fn new() -> io::Result<Down> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills two descriptors we then own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptors from pipe2.
        let (pr, pw) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let (pr, pw) = (std::fs::File::from(pr), std::fs::File::from(pw));
        // SAFETY: F_SETPIPE_SZ only resizes our own pipe; failure just keeps the default size.
        unsafe {
            libc::fcntl(pw.as_raw_fd(), libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
        }
        let out_is_pipe = file_type(1) == Some(libc::S_IFIFO);
        Ok(Down {
            pr,
            pw,
            out_is_pipe,
            buf: vec![0u8; PIECE],
            splicing: !out_is_pipe,
            nowait: true,
            left: 0,
            copy: None,
        })
    }

    /// Whether bytes still wait for stdout (read nothing more from the socket until they have gone).
    fn pending(&self) -> bool {
        self.left > 0
    }

    /// Splices what the socket holds into our pipe: the byte count, 0 at its end, or `WouldBlock`.
    fn splice_from(&mut self, sock: RawFd) -> io::Result<usize> {
        let n = splice(sock, self.pw.as_raw_fd(), CHUNK)?;
        self.left = n;
        self.splicing = !self.out_is_pipe || n >= PIECE;
        Ok(n)
    }

    /// Passes on the first `n` bytes of the buffer (just received): straight to stdout if it takes
    /// them now, the rest into our pipe.
    fn deliver(&mut self, n: usize) -> io::Result<()> {
        let written = if self.nowait {
            match write_nowait(1, &self.buf[..n]) {
                Ok(w) => w,
                Err(e) if would_block(&e) => 0,
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    self.nowait = false;
                    0
                }
                Err(e) => return Err(e),
            }
        } else {
            0
        };
        // What stdout did not take now goes into our pipe (empty here, and at least as big as the
        // buffer), to be spliced out as stdout drains.
        std::io::Write::write_all(&mut &self.pw, &self.buf[written..n])?;
        self.left = n - written;
        Ok(())
    }

    /// Moves what waits in our pipe to stdout: `Ok(true)` once all has gone, `Ok(false)` when stdout
    /// is full (wait until it is writable).
    fn drain(&mut self) -> io::Result<bool> {
        while self.left > 0 {
            if let Some(copy) = &mut self.copy {
                let n = self.left.min(copy.len());
                (&self.pr).read_exact(&mut copy[..n])?;
                self.left -= n;
                crate::output::stdout_file().write_all(&copy[..n])?;
                continue;
            }
            match splice(self.pr.as_raw_fd(), 1, self.left) {
                Ok(m) => self.left -= m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                // No splice(2) into this stdout: copy, so a real error (ENOSPC from /dev/full)
                // shows as itself.
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    self.copy = Some(vec![0; PIECE])
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// The socket-to-stdout way of the fast path: a [`Down`] and what it waits on.
pub(crate) struct Stdout {
    down: Down,
    /// stdout is /dev/null.
    null: bool,
    /// stdout when it is a pipe (the only kind epoll can wait on); files and /dev/null never block.
    writable: Option<AsyncFd<Dup>>,
}

impl Stdout {
    pub(crate) fn new() -> io::Result<Stdout> {
        let down = Down::new()?;
        let writable = if down.out_is_pipe {
            Some(dup_async(1)?)
        } else {
            None
        };
        Ok(Stdout {
            down,
            writable,
            null: crate::output::stdout_is_dev_null(),
        })
    }

    /// Whether received bytes still wait for stdout (read nothing more until they have gone).
    pub(crate) fn pending(&self) -> bool {
        self.down.pending()
    }

    /// Receives what the peer sends and passes it on to stdout: the byte count, 0 at the peer's end.
    /// A socket is spliced from when bulk data flows; any other stream is read into a buffer.
    /// Cancel-safe. Errors from stdout are returned as [`StdoutFailed`].
    pub(crate) async fn receive<R: PeerRead>(&mut self, reader: &mut R) -> io::Result<usize> {
        let down = &mut self.down;
        if let (true, Some(sock)) = (down.splicing, reader.socket()) {
            let fd = sock.as_raw_fd();
            return sock
                .async_io(Interest::READABLE, || down.splice_from(fd))
                .await;
        }
        // tokio clears the socket's readiness after a short read: no failing call to learn it.
        let n = reader.read(&mut down.buf).await?;
        if n > 0 {
            down.splicing = n == down.buf.len() && reader.socket().is_some();
            down.deliver(n).map_err(stdout_failed)?;
        }
        Ok(n)
    }

    /// Passes on bytes received elsewhere (by an echo server, which also sends them back): at most
    /// [`PIECE`] bytes, what one read of the engine gives on this path.
    pub(crate) fn deliver(&mut self, data: &[u8]) -> io::Result<()> {
        debug_assert!(data.len() <= PIECE && !self.down.pending());
        if self.null {
            // /dev/null takes everything and keeps nothing: a system call saved per message.
            return Ok(());
        }
        if self.down.buf.len() < data.len() {
            self.down.buf.resize(PIECE, 0);
        }
        self.down.buf[..data.len()].copy_from_slice(data);
        self.down.deliver(data.len()).map_err(stdout_failed)
    }

    /// Waits until what is pending has gone to stdout. Cancel-safe.
    pub(crate) async fn drain(&mut self) -> io::Result<()> {
        loop {
            let guard = match &self.writable {
                Some(out) => Some(out.writable().await?),
                None => None,
            };
            if self.down.drain().map_err(stdout_failed)? {
                return Ok(());
            }
            match guard {
                Some(mut g) => g.clear_ready(),
                None => tokio::task::yield_now().await,
            }
        }
    }
}

/// An error writing to stdout, told apart from the socket's errors (see [`is_stdout_error`]).
#[derive(Debug)]
struct StdoutFailed(io::Error);

impl std::fmt::Display for StdoutFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::error::describe_io(&self.0))
    }
}

impl std::error::Error for StdoutFailed {}

fn stdout_failed(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), StdoutFailed(e))
}

/// Whether `e` came from writing to stdout (then the relay's error is stdout's, not the peer's).
pub(crate) fn is_stdout_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<StdoutFailed>())
}

/// A write that never blocks, even to a blocking pipe and without touching its file status flags:
/// `pwritev2(RWF_NOWAIT)`. Returns how much was written (possibly less than asked); `WouldBlock` when
/// the pipe is full; `Unsupported` on kernels that do not take the flag for pipes.
fn write_nowait(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: one iovec over our own buffer, only read from; offset -1 writes at the current position.
    let n = unsafe { libc::pwritev2(fd, &iov, 1, -1, libc::RWF_NOWAIT) };
    nowait_result(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_nonblocking(fd: RawFd) -> bool {
        // SAFETY: F_GETFL only reads the descriptor's flags.
        unsafe { libc::fcntl(fd, libc::F_GETFL) & libc::O_NONBLOCK != 0 }
    }

    #[test]
    fn timer_waits_at_least_as_long_as_asked_and_can_be_reused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut timer = Timer::new().unwrap();
            for d in [Duration::from_micros(50), Duration::from_millis(20)] {
                let start = std::time::Instant::now();
                timer.sleep_until(start + d).await.unwrap();
                assert!(start.elapsed() >= d, "woke after {:?}", start.elapsed());
            }
        });
    }

    #[test]
    fn read_nowait_never_blocks_a_blocking_pipe_and_leaves_its_flags() {
        let mut fds = [0; 2];
        // SAFETY: a plain blocking pipe for the test, closed at the end.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut buf = [0u8; 8];
        let e = read_nowait(fds[0], &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(!is_nonblocking(fds[0]));
        // SAFETY: writes 2 bytes from a valid buffer, then closes the write end.
        unsafe {
            assert_eq!(libc::write(fds[1], b"hi".as_ptr().cast(), 2), 2);
            libc::close(fds[1]);
        }
        assert_eq!(read_nowait(fds[0], &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"hi");
        assert_eq!(read_nowait(fds[0], &mut buf).unwrap(), 0, "end of the pipe");
        // SAFETY: closes the read end we own.
        unsafe { libc::close(fds[0]) };
    }
}
