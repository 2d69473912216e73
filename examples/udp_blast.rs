//! Load generator for the UDP benchmark (P6 in BENCH.md); not part of sockkit itself.
//!
//! `udp_blast ADDR SECONDS`: sends 64-byte datagrams to ADDR as fast as it can for SECONDS, then prints
//! how many it sent.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: udp_blast ADDR SECONDS");
        std::process::exit(2);
    }
    let secs: f64 = args[2].parse().expect("SECONDS");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(&args[1]).expect("connect");
    let payload = [b'x'; 64];
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut sent = 0u64;
    while Instant::now() < end {
        for _ in 0..256 {
            if sock.send(&payload).is_ok() {
                sent += 1;
            }
        }
    }
    println!("{sent}");
}
