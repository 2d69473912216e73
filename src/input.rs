//! The stdin pump: a thread that reads stdin and hands the network side ready-to-send messages over
//! a bounded channel (so a slow peer slows the reading, and memory stays bounded).
//!
//! A thread with blocking reads, rather than an async stdin, because it leaves stdin's file status
//! flags alone (no O_NONBLOCK on a terminal shared with the shell) and works on any kind of stdin:
//! a pipe, a file, a terminal, /dev/null or a closed descriptor (read as an empty input).

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::send;
use crate::send::SendMode;

static BAD_LINES: AtomicBool = AtomicBool::new(false);

/// True when some input line could not be encoded (the command then exits 1 at the end).
pub fn had_errors() -> bool {
    BAD_LINES.load(Ordering::Relaxed)
}

/// Records that an input line was rejected.
pub fn mark_error() {
    BAD_LINES.store(true, Ordering::Relaxed);
}

/// How stdin becomes messages.
#[derive(Debug, Clone, Copy)]
pub struct InputOpts {
    pub mode: SendMode,
    pub pickle_protocol: u8,
    pub crlf: bool,
    /// Each line is one message (UDP datagrams); raw TCP input is sent in chunks as it comes.
    pub lines: bool,
}

impl InputOpts {
    /// Whether stdin goes to the peer byte for byte, in pieces as it comes (raw, no --crlf).
    pub(crate) fn is_raw_stream(&self) -> bool {
        self.mode == SendMode::Raw && !self.crlf && !self.lines
    }
}

/// Bytes read from stdin at a time.
const READ_SIZE: usize = 64 * 1024;

/// Starts reading stdin; the channel closes at end of input.
pub fn spawn(opts: InputOpts) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(4);
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = io::stdin();
            let lock = stdin.lock();
            if opts.mode == SendMode::Raw && !opts.lines {
                pump_chunks(lock, opts.crlf, &tx)
            } else {
                pump_lines(lock, opts, &tx)
            }
        })
        .expect("spawn the stdin thread");
    rx
}

/// Starts reading stdin cut into messages of exactly `size` bytes (the last may be shorter), however
/// the reads come: `udp-send --size`.
pub fn spawn_sized(size: usize) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(64);
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || pump_sized(io::stdin().lock(), size, &tx))
        .expect("spawn the stdin thread");
    rx
}

fn pump_sized(mut input: impl Read, size: usize, tx: &mpsc::Sender<Bytes>) {
    loop {
        let mut message = vec![0u8; size];
        let mut filled = 0;
        while filled < size {
            match input.read(&mut message[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    report_read_error(&e);
                    break;
                }
            }
        }
        let last = filled < size;
        message.truncate(filled);
        if filled > 0 && tx.blocking_send(Bytes::from(message)).is_err() {
            return;
        }
        if last {
            return;
        }
    }
}

fn pump_chunks(mut input: impl Read, crlf: bool, tx: &mpsc::Sender<Bytes>) {
    let mut buf = vec![0u8; READ_SIZE];
    let mut to_crlf = Crlf::default();
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                report_read_error(&e);
                return;
            }
        };
        let chunk = if crlf {
            Bytes::from(to_crlf.convert(&buf[..n]))
        } else {
            Bytes::copy_from_slice(&buf[..n])
        };
        if tx.blocking_send(chunk).is_err() {
            return;
        }
    }
}

fn pump_lines(mut input: impl BufRead, opts: InputOpts, tx: &mpsc::Sender<Bytes>) {
    let mut encoder = send::encoder(opts.mode, opts.pickle_protocol);
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                report_read_error(&e);
                return;
            }
        }
        number += 1;
        let message = if opts.mode == SendMode::Raw {
            if opts.crlf {
                to_crlf(&line)
            } else {
                line.clone()
            }
        } else {
            match encoder.encode(&line) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(e) => {
                    eprintln!(
                        "sockkit: error: stdin line {number}, column {}: {}",
                        e.column, e.message
                    );
                    mark_error();
                    continue;
                }
            }
        };
        if tx.blocking_send(Bytes::from(message)).is_err() {
            return;
        }
    }
}

fn report_read_error(err: &io::Error) {
    // A closed descriptor is just an empty input.
    #[cfg(unix)]
    let closed = err.raw_os_error() == Some(libc::EBADF);
    #[cfg(not(unix))]
    let closed = false;
    if !closed {
        eprintln!(
            "sockkit: error: cannot read stdin: {}",
            crate::error::describe_io(err)
        );
        mark_error();
    }
}

/// LF becomes CR LF (an LF already after a CR is left alone).
pub fn to_crlf(data: &[u8]) -> Vec<u8> {
    Crlf::default().convert(data)
}

/// [`to_crlf`] over a stream cut into reads: a CR at the end of one read and the LF that starts the
/// next are still one CR LF.
#[derive(Debug, Default)]
pub struct Crlf {
    prev: u8,
}

impl Crlf {
    pub fn convert(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + data.len() / 16);
        for &b in data {
            if b == b'\n' && self.prev != b'\r' {
                out.push(b'\r');
            }
            out.push(b);
            self.prev = b;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_messages_whatever_the_reads() {
        /// Gives at most 3 bytes a read.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for (input, want) in [
            (&b"abcdefghij"[..], &["abcd", "efgh", "ij"][..]),
            (b"abcdefgh", &["abcd", "efgh"]),
            (b"", &[]),
        ] {
            let (tx, mut rx) = mpsc::channel(16);
            pump_sized(Trickle(input), 4, &tx);
            drop(tx);
            let mut got = Vec::new();
            while let Ok(m) = rx.try_recv() {
                got.push(String::from_utf8(m.to_vec()).unwrap());
            }
            assert_eq!(got, want);
        }
    }

    #[test]
    fn crlf() {
        assert_eq!(to_crlf(b"a\nb\r\n\n"), b"a\r\nb\r\n\r\n");
    }

    #[test]
    fn crlf_across_reads() {
        let mut c = Crlf::default();
        let mut out = c.convert(b"a\r");
        out.extend(c.convert(b"\nb\n"));
        out.extend(c.convert(b"\n"));
        assert_eq!(out, b"a\r\nb\r\n\r\n");
    }
}
