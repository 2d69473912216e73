//! Spawning sockkit and peers, reading what they print, with a timeout on every wait.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest any single wait in a test may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub fn sockkit_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sockkit"))
}

/// Output captured from a child, shared with the thread that reads it.
#[derive(Clone, Default)]
pub struct Captured {
    inner: Arc<(Mutex<Buffer>, Condvar)>,
}

/// The bytes read so far, and whether the stream has ended.
type Buffer = (Vec<u8>, bool);

impl Captured {
    pub fn spawn_reader(mut pipe: impl Read + Send + 'static) -> Captured {
        let cap = Captured::default();
        let c = cap.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                let n = pipe.read(&mut buf).unwrap_or(0);
                let (lock, cv) = &*c.inner;
                // A test that panicked while waiting poisons the lock; keep reading regardless.
                let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
                if n == 0 {
                    g.1 = true;
                    cv.notify_all();
                    return;
                }
                g.0.extend_from_slice(&buf[..n]);
                cv.notify_all();
            }
        });
        cap
    }

    /// Everything captured so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.inner.0.lock().unwrap().0.clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Waits until `pred` holds for the captured bytes; panics with what was seen after `TIMEOUT`.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let (lock, cv) = &*self.inner;
        let deadline = Instant::now() + TIMEOUT;
        let mut g = lock.lock().unwrap();
        loop {
            if pred(&g.0) {
                return g.0.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out waiting for {what}; got so far: {:?}",
                    String::from_utf8_lossy(&g.0)
                );
            }
            if g.1 {
                // The stream ended and the condition does not hold: it never will.
                panic!(
                    "stream ended before {what}; got: {:?}",
                    String::from_utf8_lossy(&g.0)
                );
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Waits at most `limit` for `pred` to hold; says whether it did (for waits that are retried).
    pub fn holds_within(&self, limit: Duration, pred: impl Fn(&[u8]) -> bool) -> bool {
        let (lock, cv) = &*self.inner;
        let deadline = Instant::now() + limit;
        let mut g = lock.lock().unwrap();
        loop {
            if pred(&g.0) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || g.1 {
                return false;
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Waits until the captured text contains `needle`.
    pub fn wait_contains(&self, needle: &str) -> String {
        let n = needle.as_bytes().to_vec();
        let b = self.wait_for(&format!("{needle:?}"), move |b| {
            b.windows(n.len().max(1)).any(|w| w == &n[..])
        });
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Waits until at least `len` bytes arrived.
    pub fn wait_len(&self, len: usize) -> Vec<u8> {
        self.wait_for(&format!("{len} bytes"), move |b| b.len() >= len)
    }

    /// Waits for the end of the stream.
    pub fn wait_eof(&self) -> Vec<u8> {
        let (lock, cv) = &*self.inner;
        let deadline = Instant::now() + TIMEOUT;
        let mut g = lock.lock().unwrap();
        while !g.1 {
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out waiting for end of output; got {:?}",
                    String::from_utf8_lossy(&g.0)
                );
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
        g.0.clone()
    }
}

/// A running child process with captured stdout and stderr; killed on drop.
pub struct Proc {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: Captured,
    pub stderr: Captured,
    name: String,
}

impl Proc {
    /// Starts `program args...` with stdin piped (unless `stdin` says otherwise).
    pub fn start(program: impl Into<PathBuf>, args: &[&str], stdin: Stdio) -> Proc {
        let program = program.into();
        let mut cmd = Command::new(&program);
        cmd.args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let stdout = Captured::spawn_reader(child.stdout.take().unwrap());
        let stderr = Captured::spawn_reader(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            stdout,
            stderr,
            name: format!("{} {}", program.display(), args.join(" ")),
        }
    }

    /// Starts sockkit with a piped stdin.
    pub fn sockkit(args: &[&str]) -> Proc {
        Proc::start(sockkit_path(), args, Stdio::piped())
    }

    /// Starts sockkit with stdin from /dev/null.
    pub fn sockkit_null(args: &[&str]) -> Proc {
        Proc::start(sockkit_path(), args, Stdio::null())
    }

    /// Starts `python3 -c SCRIPT args...`.
    pub fn python(script: &str, args: &[&str]) -> Proc {
        let mut all = vec!["-u", "-c", script];
        all.extend_from_slice(args);
        Proc::start("python3", &all, Stdio::piped())
    }

    /// Waits for sockkit's `listening on ADDR:PORT` line and returns the port.
    pub fn listening_port(&self) -> u16 {
        let text = self.stderr.wait_for("a 'listening on' line", |b| {
            let t = String::from_utf8_lossy(b);
            t.lines()
                .any(|l| l.contains("listening on ") || l.contains("Listening at "))
                && t.ends_with('\n')
        });
        let text = String::from_utf8_lossy(&text);
        let line = text
            .lines()
            .find(|l| l.contains("listening on ") || l.contains("Listening at "))
            .unwrap();
        let after = line.rsplit([':', '/']).next().unwrap().trim();
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no port in {line:?}"))
    }

    /// Waits for the lab server's `Listening at HOST/PORT` line on stdout and returns the port.
    pub fn stdout_listening_port(&self) -> u16 {
        let text = self.stdout.wait_for("a 'Listening at' line", |b| {
            let t = String::from_utf8_lossy(b);
            t.lines().any(|l| l.starts_with("Listening at ")) && t.ends_with('\n')
        });
        let text = String::from_utf8_lossy(&text);
        let line = text
            .lines()
            .find(|l| l.starts_with("Listening at "))
            .unwrap();
        line.rsplit('/').next().unwrap().trim().parse().unwrap()
    }

    /// Waits for a line `PORT <n>` on stdout (how the Python peers in the tests report their port).
    pub fn stdout_port(&self) -> u16 {
        let text = self.stdout.wait_for("a 'PORT n' line", |b| {
            String::from_utf8_lossy(b)
                .lines()
                .any(|l| l.starts_with("PORT ") && l.len() > 5)
                && b.ends_with(b"\n")
        });
        let text = String::from_utf8_lossy(&text);
        let line = text.lines().find(|l| l.starts_with("PORT ")).unwrap();
        line[5..].trim().parse().unwrap()
    }

    pub fn write(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(data).expect("write to child stdin");
        stdin.flush().unwrap();
    }

    /// Closes the child's stdin (EOF).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the child to exit; panics with its output after `TIMEOUT`.
    pub fn wait(&mut self) -> ExitStatus {
        self.wait_timeout(TIMEOUT).unwrap_or_else(|| {
            panic!(
                "{} did not exit in time; stderr: {}",
                self.name,
                self.stderr.text()
            )
        })
    }

    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for exit and the end of both outputs; returns (code, stdout, stderr).
    pub fn finish(&mut self) -> (Option<i32>, Vec<u8>, String) {
        let status = self.wait();
        let out = self.stdout.wait_eof();
        let err = String::from_utf8_lossy(&self.stderr.wait_eof()).into_owned();
        (status.code(), out, err)
    }

    /// Sends a signal (libc number) to the child.
    pub fn signal(&self, sig: i32) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs sockkit to completion with `input` on stdin; returns (code, stdout, stderr).
pub fn run_sockkit(args: &[&str], input: &[u8]) -> (Option<i32>, Vec<u8>, String) {
    let mut p = Proc::sockkit(args);
    let data = input.to_vec();
    let mut stdin = p.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let r = p.finish();
    writer.join().unwrap();
    r
}

/// A local address for `port` on IPv4 loopback.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Pseudo-random bytes (xorshift), reproducible from `seed`.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A 64-bit FNV-1a hash, to compare large transfers without printing them.
pub fn hash(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Fails the test (never skips) when a peer program is missing.
pub fn require(program: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{program} is required by this test; run `bash .ci/setup` (or install it) first"
    );
}

/// A port that was free a moment ago (for peers such as nc that cannot report a port 0 choice).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until some socket listens on TCP `port` (read from /proc/net/tcp{,6}), without connecting to it.
pub fn wait_tcp_listening(port: u16) {
    let needle = format!(":{port:04X} ");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = std::fs::read_to_string(table).unwrap_or_default();
            // Column 2 is the local address; state 0A is LISTEN.
            if text.lines().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            }) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing listened on port {port} in time"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// What a finished process gave: its exit code, stdout and stderr.
pub type Finished = (Option<i32>, Vec<u8>, String);

/// Writes `down` to `server`'s stdin and `up` to `client`'s, both at once, then waits for both to
/// end; returns what each gave (`finish`), the server's first.
pub fn exchange(
    server: &mut Proc,
    client: &mut Proc,
    up: &[u8],
    down: &[u8],
) -> (Finished, Finished) {
    let mut server_in = server.stdin.take().unwrap();
    let mut client_in = client.stdin.take().unwrap();
    let (d, u) = (down.to_vec(), up.to_vec());
    let w1 = thread::spawn(move || server_in.write_all(&d).unwrap());
    let w2 = thread::spawn(move || client_in.write_all(&u).unwrap());
    let s = server.finish();
    let c = client.finish();
    w1.join().unwrap();
    w2.join().unwrap();
    (s, c)
}
