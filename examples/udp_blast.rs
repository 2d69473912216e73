//! Load generator for the UDP benchmark (P6 in BENCH.md); not part of sockkit itself.
//!
//! `udp_blast ADDR SECONDS [BATCH]`: sends 64-byte datagrams to ADDR as fast as it can for SECONDS,
//! then prints how many it sent.
//!
//! BATCH (default 1) is how many datagrams one system call sends: `sendmmsg(2)` on Linux when it is
//! more than 1. A receiver's rate can only be measured with a sender faster than the receiver, and
//! on loopback the sender pays for the kernel's whole receive path: one `send(2)` a datagram manages
//! about as much as `nc -u -l` prints on a quiet machine, so a benchmark with it measures the sender.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

const PAYLOAD: [u8; 64] = [b'x'; 64];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(3..=4).contains(&args.len()) {
        eprintln!("usage: udp_blast ADDR SECONDS [BATCH]");
        std::process::exit(2);
    }
    let secs: f64 = args[2].parse().expect("SECONDS");
    let batch: usize = args.get(3).map_or(1, |b| b.parse().expect("BATCH"));
    assert!((1..=1024).contains(&batch), "BATCH: 1 to 1024");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(&args[1]).expect("connect");
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut sent = 0u64;
    while Instant::now() < end {
        for _ in 0..256 {
            sent += send(&sock, batch);
        }
    }
    println!("{sent}");
}

/// Sends `batch` datagrams (or fewer: a full socket buffer or an ICMP error from a receiver that
/// is not there yet are not failures here); returns how many went.
#[cfg(target_os = "linux")]
fn send(sock: &UdpSocket, batch: usize) -> u64 {
    use nix::sys::socket::{sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
    use std::io::IoSlice;
    use std::os::fd::AsRawFd;
    if batch == 1 {
        return u64::from(sock.send(&PAYLOAD).is_ok());
    }
    let slices: Vec<[IoSlice; 1]> = (0..batch).map(|_| [IoSlice::new(&PAYLOAD)]).collect();
    let addrs: Vec<Option<SockaddrStorage>> = vec![None; batch];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(batch, None);
    match sendmmsg(
        sock.as_raw_fd(),
        &mut headers,
        &slices,
        &addrs,
        [],
        MsgFlags::empty(),
    ) {
        Ok(results) => results.count() as u64,
        Err(_) => 0,
    }
}

#[cfg(not(target_os = "linux"))]
fn send(sock: &UdpSocket, batch: usize) -> u64 {
    (0..batch)
        .map(|_| u64::from(sock.send(&PAYLOAD).is_ok()))
        .sum()
}
