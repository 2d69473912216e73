//! Load generator for the lab-server benchmark (P4 in BENCH.md); not part of sockkit itself.
//!
//! `lab_load rate ADDR CONCURRENCY SECONDS`: CONCURRENCY clients each repeat the full handshake (read the
//! welcome pickle, send a student dict, read the ack, close) for SECONDS; prints handshakes per second.
//! `lab_load hold ADDR N`: N clients connect and read their welcome, all stay connected at once, then all
//! send their dict and read the ack; prints how many were acknowledged.
//! `lab_load hostile ADDR N`: as `hold`, but every fifth client is hostile, in turn: garbage bytes, a
//! truncated pickle (half a dict, then its write side closed), an oversized message (a frame header that
//! announces 1 GiB, then bytes), silence, or half a dict and then a reset. All stay connected at once; the
//! good ones must all be acknowledged, and the server must have closed every hostile one that spoke
//! (silent ones are closed by its --handshake-timeout, which the caller sets short). Prints one line per
//! outcome.
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
        "usage: lab_load rate ADDR CONCURRENCY SECONDS | lab_load hold ADDR N | lab_load hostile ADDR N";
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
            rt.block_on(hostile(addr, n, &dict));
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

/// The five kinds of hostile client, in the order they are dealt out.
const HOSTILE: [&str; 5] = ["garbage", "truncated", "oversized", "silent", "reset"];

/// What a hostile client of kind `k` sends once every client is connected (`None`: nothing).
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

async fn hostile(addr: SocketAddr, n: usize, dict: &[u8]) {
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut buf = Vec::new();
    for i in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        read_pickle(&mut s, &mut buf).await.expect("welcome");
        // Every fifth client is hostile; the kinds take turns.
        let kind = (i % 5 == 4).then_some((i / 5) % HOSTILE.len());
        conns.push((Some(s), kind));
    }
    println!("connected {n} in {:.2}s", start.elapsed().as_secs_f64());
    // Hostile clients speak first, so the good ones are served while the bad input is in flight.
    for (slot, kind) in conns.iter_mut() {
        let Some(k) = *kind else { continue };
        let Some(s) = slot.as_mut() else { continue };
        if let Some(bytes) = hostile_bytes(k, dict) {
            let _ = s.write_all(&bytes).await;
        }
        match HOSTILE[k] {
            "truncated" => {
                let _ = s.shutdown().await;
            }
            "reset" => {
                let _ = socket2::SockRef::from(&*s).set_linger(Some(Duration::ZERO));
                drop(slot.take()); // closing with linger 0 sends a reset mid-message
            }
            _ => {}
        }
    }
    for (slot, kind) in conns.iter_mut() {
        if let (Some(s), None) = (slot.as_mut(), *kind) {
            s.write_all(dict).await.expect("send");
        }
    }
    let (mut good, mut acked) = (0usize, 0usize);
    let mut closed = [0usize; 5];
    let mut total = [0usize; 5];
    for (slot, kind) in conns.iter_mut() {
        let Some(s) = slot.as_mut() else {
            let k = kind.expect("only hostile clients are reset");
            total[k] += 1;
            closed[k] += 1;
            continue;
        };
        match *kind {
            None => {
                good += 1;
                let ok =
                    tokio::time::timeout(Duration::from_secs(60), read_pickle(s, &mut buf)).await;
                if matches!(ok, Ok(Ok(()))) && buf.ends_with(&[0x4b, 0x01, 0x2e]) {
                    acked += 1;
                }
            }
            Some(k) => {
                total[k] += 1;
                // Silent clients wait for the server's --handshake-timeout.
                if closed_by_server(s, Duration::from_secs(90)).await {
                    closed[k] += 1;
                }
            }
        }
    }
    println!("acknowledged {acked} of {good} good clients");
    for k in 0..HOSTILE.len() {
        println!(
            "hostile {}: {} of {} closed",
            HOSTILE[k], closed[k], total[k]
        );
    }
    println!("elapsed {:.2}s", start.elapsed().as_secs_f64());
}
