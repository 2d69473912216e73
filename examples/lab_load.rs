//! Load generator for the lab-server benchmark (P4 in BENCH.md); not part of sockkit itself.
//!
//! `lab_load rate ADDR CONCURRENCY SECONDS`: CONCURRENCY clients each repeat the full handshake (read the
//! welcome pickle, send a student dict, read the ack, close) for SECONDS; prints handshakes per second.
//! `lab_load hold ADDR N`: N clients connect and read their welcome, all stay connected at once, then all
//! send their dict and read the ack; prints how many were acknowledged.
//! `lab_load hostile ADDR N`: as `hold`, but every fifth client is hostile, in turn: garbage bytes, a
//! truncated pickle (half a dict, then its write side closed), an oversized message (a frame header that
//! announces 1 GiB, then bytes), silence, half a dict and then a reset, a 330-byte memo bomb (shared
//! tuples doubled 40 times), a name nested 4,000 lists deep, a str announcing a terabyte, or a valid
//! dict trickled one byte every 200 ms. All stay connected at once; the good ones must all be
//! acknowledged (the slowest time from send to acknowledgement is printed), and the server must have
//! closed every hostile one (silent and trickling ones by its --handshake-timeout deadline, which the
//! caller sets short). Prints one line per outcome.
//!
//! Clients close with SO_LINGER 0, so thousands of handshakes a second do not exhaust ephemeral ports in
//! TIME_WAIT. Written in Rust on tokio so that the generator is not the bottleneck.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Alice's dict as Python 3.11 pickles it (protocol 4, 83 bytes).
fn student() -> Vec<u8> {
    let mut v = vec![
        0x80, 0x04, 0x95, 0x48, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x28,
    ];
    let s = |v: &mut Vec<u8>, t: &str| {
        v.push(0x8c);
        v.push(t.len() as u8);
        v.extend_from_slice(t.as_bytes());
        v.push(0x94);
    };
    s(&mut v, "student_name");
    s(&mut v, "Alice Brown");
    s(&mut v, "github_username");
    s(&mut v, "abrown");
    s(&mut v, "sid");
    v.extend_from_slice(&[0x4a, 0x15, 0xcd, 0x5b, 0x07, 0x75, 0x2e]);
    v
}

/// Reads one pickle that ends with STOP (the welcome or the ack); good enough for well-formed servers.
async fn read_pickle(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    let mut chunk = [0u8; 256];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.last() == Some(&b'.') && buf.len() >= 5 {
            return Ok(());
        }
    }
}

async fn handshake(addr: SocketAddr, dict: &[u8]) -> std::io::Result<()> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(64);
    read_pickle(&mut s, &mut buf).await?;
    s.write_all(dict).await?;
    read_pickle(&mut s, &mut buf).await?;
    if buf.as_slice() != [0x80, 0x04, 0x4b, 0x01, 0x2e]
        && buf.as_slice() != [0x80, 0x03, 0x4b, 0x01, 0x2e]
    {
        return Err(std::io::Error::other("unexpected ack"));
    }
    socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO))?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: lab_load rate ADDR CONCURRENCY SECONDS | lab_load hold ADDR N | lab_load hostile ADDR N [KINDS]";
    if args.len() < 4 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let addr: SocketAddr = args[2].parse().expect("ADDR like 127.0.0.1:12000");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dict = Arc::new(student());
    match args[1].as_str() {
        "rate" => {
            let conc: usize = args[3].parse().unwrap();
            let secs: f64 = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(5.0);
            let done = Arc::new(AtomicU64::new(0));
            let errors = Arc::new(AtomicU64::new(0));
            let start = Instant::now();
            let end = start + Duration::from_secs_f64(secs);
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..conc {
                    let (done, errors, dict) = (done.clone(), errors.clone(), dict.clone());
                    tasks.push(tokio::spawn(async move {
                        while Instant::now() < end {
                            match handshake(addr, &dict).await {
                                Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                                Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                            };
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
            let elapsed = start.elapsed().as_secs_f64();
            let n = done.load(Ordering::Relaxed);
            println!(
                "{:.0} handshakes/s ({} in {:.2}s, {} errors)",
                n as f64 / elapsed,
                n,
                elapsed,
                errors.load(Ordering::Relaxed)
            );
        }
        "hold" => {
            let n: usize = args[3].parse().unwrap();
            let acked = rt.block_on(async {
                let mut conns = Vec::with_capacity(n);
                let mut buf = Vec::new();
                for _ in 0..n {
                    let mut s = TcpStream::connect(addr).await.expect("connect");
                    read_pickle(&mut s, &mut buf).await.expect("welcome");
                    conns.push(s);
                }
                println!("connected {n}");
                let mut acked = 0usize;
                for s in conns.iter_mut() {
                    s.write_all(&dict).await.expect("send");
                }
                for s in conns.iter_mut() {
                    if read_pickle(s, &mut buf).await.is_ok() {
                        acked += 1;
                    }
                }
                acked
            });
            println!("acknowledged {acked} of {n}");
        }
        "hostile" => {
            let n: usize = args[3].parse().unwrap();
            // An optional fifth argument keeps only some kinds: `memo-bomb,deep`; `none` keeps all good.
            let kinds: Vec<usize> = match args.get(4) {
                Some(list) => (0..HOSTILE.len())
                    .filter(|&k| list.split(',').any(|w| w == HOSTILE[k]))
                    .collect(),
                None => (0..HOSTILE.len()).collect(),
            };
            rt.block_on(hostile(addr, n, dict.clone(), kinds));
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

/// The kinds of hostile client, in the order they are dealt out.
const HOSTILE: [&str; 9] = [
    "garbage",
    "truncated",
    "oversized",
    "silent",
    "reset",
    "memo-bomb",
    "deep",
    "huge-str",
    "trickle",
];

/// A student dict whose name is `t40`, where `t0 = []` and `t(i+1) = (ti, ti)` shared through the memo:
/// 330 bytes whose `str()` would be 2**40 times longer.
fn memo_bomb() -> Vec<u8> {
    let mut v = b"\x80\x04}\x94(\x8c\x0cstudent_name\x94]\x940".to_vec();
    for i in 0..40u8 {
        v.extend_from_slice(&[b'h', i + 2, b'h', i + 2, 0x86, 0x94, b'0']);
    }
    v.extend_from_slice(b"h\x2a\x8c\x0fgithub_username\x94\x8c\x01g\x8c\x03sid\x94K\x01u.");
    v
}

/// A student dict whose name is a list nested 4,000 deep (8 KB, lab-server's default --max-message).
fn deep() -> Vec<u8> {
    let mut v = b"\x80\x04}(\x8c\x0cstudent_name".to_vec();
    v.extend(std::iter::repeat_n(b']', 4_000));
    v.extend(std::iter::repeat_n(b'a', 3_999));
    v.extend_from_slice(b"\x8c\x0fgithub_username\x8c\x01g\x8c\x03sidK\x01u.");
    v
}

/// What a hostile client of kind `k` sends at once when every client is connected (`None`: nothing;
/// `trickle` sends a valid dict one byte every 200 ms instead, past any deadline).
fn hostile_bytes(k: usize, dict: &[u8]) -> Option<Vec<u8>> {
    match HOSTILE[k] {
        "garbage" => Some(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n\x00\xff\xfe".to_vec()),
        "truncated" | "reset" => Some(dict[..dict.len() / 2].to_vec()),
        "oversized" => {
            // Protocol 4, FRAME of 1 GiB, then the start of a dict: the server must refuse on the header.
            let mut v = vec![0x80, 0x04, 0x95];
            v.extend_from_slice(&(1u64 << 30).to_le_bytes());
            v.extend_from_slice(&[0x7d, 0x94, 0x28]);
            v.extend(std::iter::repeat_n(b'A', 64 * 1024));
            Some(v)
        }
        "memo-bomb" => Some(memo_bomb()),
        "deep" => Some(deep()),
        "huge-str" => {
            // BINUNICODE8 announcing a terabyte, then some of it.
            let mut v = b"\x80\x04}(\x8c\x0cstudent_name\x8d".to_vec();
            v.extend_from_slice(&(1u64 << 40).to_le_bytes());
            v.extend(std::iter::repeat_n(b'A', 4096));
            Some(v)
        }
        _ => None,
    }
}

/// Whether the server closed `s` (EOF or reset) within `within`.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// One hostile client: sends its kind's bytes, then reports whether the server closed it.
async fn hostile_one(mut s: TcpStream, k: usize, dict: Arc<Vec<u8>>) -> bool {
    if HOSTILE[k] == "trickle" {
        for &b in dict.iter() {
            if s.write_all(&[b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        return false; // the whole record got through: the deadline did not hold
    }
    if let Some(bytes) = hostile_bytes(k, &dict) {
        let _ = s.write_all(&bytes).await;
    }
    match HOSTILE[k] {
        "truncated" => {
            let _ = s.shutdown().await;
        }
        "reset" => {
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            return true; // dropping it with linger 0 sends a reset mid-message
        }
        _ => {}
    }
    // Silent and trickling clients wait for the server's --handshake-timeout.
    closed_by_server(&mut s, Duration::from_secs(90)).await
}

/// One good student, sending once the hostile ones have started: the time from its send to its ack.
async fn good_one(mut s: TcpStream, dict: Arc<Vec<u8>>) -> Option<Duration> {
    let mut buf = Vec::new();
    let sent = Instant::now();
    s.write_all(&dict).await.ok()?;
    let ok = tokio::time::timeout(Duration::from_secs(60), read_pickle(&mut s, &mut buf)).await;
    let took = sent.elapsed();
    (matches!(ok, Ok(Ok(()))) && buf.ends_with(&[0x4b, 0x01, 0x2e])).then_some(took)
}

async fn hostile(addr: SocketAddr, n: usize, dict: Arc<Vec<u8>>, kinds: Vec<usize>) {
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for i in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        read_pickle(&mut s, &mut buf).await.expect("welcome");
        // Every fifth client is hostile; the kinds take turns.
        let kind = (i % 5 == 4 && !kinds.is_empty()).then(|| kinds[(i / 5) % kinds.len()]);
        conns.push((s, kind));
    }
    println!("connected {n} in {:.2}s", start.elapsed().as_secs_f64());
    // Hostile clients speak first, so the good ones are served while the bad input is in flight.
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for (s, kind) in conns {
        match kind {
            Some(k) => bad.push((k, tokio::spawn(hostile_one(s, k, dict.clone())))),
            None => good.push(s),
        }
    }
    tokio::task::yield_now().await;
    let good: Vec<_> = good
        .into_iter()
        .map(|s| tokio::spawn(good_one(s, dict.clone())))
        .collect();
    let total_good = good.len();
    let mut times = Vec::new();
    for t in good {
        if let Ok(Some(took)) = t.await {
            times.push(took);
        }
    }
    let mut closed = [0usize; HOSTILE.len()];
    let mut total = [0usize; HOSTILE.len()];
    for (k, t) in bad {
        total[k] += 1;
        if t.await.unwrap_or(false) {
            closed[k] += 1;
        }
    }
    times.sort();
    let slowest = times.last().copied().unwrap_or_default();
    println!(
        "acknowledged {} of {total_good} good clients; slowest {:.3}s from send to ack",
        times.len(),
        slowest.as_secs_f64()
    );
    for k in 0..HOSTILE.len() {
        println!(
            "hostile {}: {} of {} closed",
            HOSTILE[k], closed[k], total[k]
        );
    }
    println!("elapsed {:.2}s", start.elapsed().as_secs_f64());
}
