//! `sockkit udp-listen [HOST] PORT`: receives datagrams from any number of senders and answers the most
//! recent one, as `nc -u -l` does in the echo tutorial, but without locking onto the first sender.
//!
//! Each datagram is shown on its own, never split or joined. With `--show-sender` (or -v) each one is
//! preceded by a line `ADDRESS LENGTH` (`127.0.0.1:50344 12`, `[::1]:50344 12`) and followed by a newline,
//! so a script can read the header line, then exactly LENGTH bytes, then the newline; in hex and pickle
//! modes the sender heads the block instead. Each line typed on stdin is sent, newline included, as one
//! datagram to the latest sender (or the one chosen with the REPL's `/to`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use bytes::{Bytes, BytesMut};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::cli::{DisplayMode, UdpListenArgs};
use crate::error::{describe_io, usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, display_addr, Family, ListenAddr, Resolve};
use crate::output::{OutMsg, Output};
use crate::render::StreamLabel;
use crate::repl::{Attached, Peers};

/// Largest UDP payload over IPv4 (65,535 minus IP and UDP headers); IPv6 allows 65,527, and a buffer
/// one byte larger than either shows truncation never happens.
const MAX_DATAGRAM: usize = 65_536;

/// Raw payloads gathered into one write to stdout, at most.
const BATCH: usize = 256 * 1024;

pub async fn run(args: UdpListenArgs, out: Output) -> Result<ExitCode> {
    let at = ListenAddr::from_args(&args.addr, args.port)?;
    if args.count == Some(0) {
        return Err(usage("--count must be at least 1"));
    }
    let resolve = Resolve {
        family: Family::from_flags(args.family.ipv4, args.family.ipv6),
        numeric: args.family.numeric,
    };
    let socket = net::listen_udp(&at, resolve).await?;
    let local = socket.local_addr()?;
    if args.verbose || at.port == 0 {
        eprintln!("sockkit: listening on {local} (udp)");
    }
    let show_sender = args.show_sender || args.verbose;
    let mode = args.display.mode();

    let peers = Arc::new(Peers {
        any_address: true,
        ..Peers::default()
    });
    let (typed, control) = if args.repl.wanted() {
        let mut repl = Attached::start(
            &out,
            format!("udp {local}> "),
            &args.repl,
            &args.send,
            Some(peers.clone()),
        )
        .await?;
        let control = repl.take_control();
        (Some(repl.input), Some(control))
    } else {
        let opts = InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: true,
        };
        (Some(input::spawn(opts)), None)
    };
    let quit = async {
        match control {
            Some(c) => Attached::serve_controls(c, out.clone()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(quit);
    let mut typed: Option<mpsc::Receiver<Bytes>> = typed;
    let batchable = mode == DisplayMode::Raw && !show_sender && !args.echo;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut last: Option<SocketAddr> = None;
    let mut received = 0u64;
    loop {
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                let (n, from) = match r {
                    Ok(x) => x,
                    Err(e) => {
                        // An ICMP error for an earlier reply (its sender went away): not fatal.
                        if args.verbose {
                            eprintln!("sockkit: {}", describe_io(&e));
                        }
                        continue;
                    }
                };
                last = Some(from);
                let shown = display_addr(from);
                remember(&peers, shown);
                received += 1;
                if batchable {
                    // Raw payloads shown back to back: take every datagram already waiting, one write.
                    let mut batch = BytesMut::with_capacity(BATCH);
                    batch.extend_from_slice(&buf[..n]);
                    while batch.len() < BATCH && Some(received) != args.count {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, from)) => {
                                batch.extend_from_slice(&buf[..n]);
                                last = Some(from);
                                received += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    if let Some(from) = last {
                        remember(&peers, display_addr(from));
                    }
                    out.data(0, batch.freeze()).await;
                } else {
                    let data = Bytes::copy_from_slice(&buf[..n]);
                    out.send(datagram(shown, data.clone(), mode, show_sender, args.verbose)).await;
                    if args.echo {
                        if let Err(e) = socket.send_to(&data, from).await {
                            eprintln!("sockkit: could not echo to {shown}: {}", describe_io(&e));
                        }
                    }
                }
                if Some(received) == args.count {
                    break;
                }
            }
            line = async { typed.as_mut().expect("checked by the guard").recv().await }, if typed.is_some() => {
                match line {
                    Some(line) => send_line(&socket, &line, last, &peers).await,
                    // stdin ended: keep receiving (stop with Ctrl-C or --count).
                    None => typed = None,
                }
            }
            () = &mut quit => break,
        }
    }
    out.flush().await;
    crate::repl::end_session();
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// The display of one received datagram.
pub fn datagram(
    from: SocketAddr,
    data: Bytes,
    mode: DisplayMode,
    show_sender: bool,
    verbose: bool,
) -> OutMsg {
    let header =
        (show_sender && mode == DisplayMode::Raw).then(|| format!("{from} {}", data.len()));
    let label = StreamLabel {
        peer: show_sender.then(|| from.to_string()),
        direction: "received",
    };
    let data = if header.is_some() {
        // Header, LENGTH bytes, newline: the format scripts rely on.
        let mut v = data.to_vec();
        v.push(b'\n');
        Bytes::from(v)
    } else {
        data
    };
    let _ = verbose;
    OutMsg::Datagram {
        header,
        label,
        bytes: data,
    }
}

/// Adds a sender to the REPL's list (most recent last, at most 64 kept).
fn remember(peers: &Peers, addr: SocketAddr) {
    if let Ok(mut list) = peers.list.lock() {
        let name = addr.to_string();
        list.retain(|(n, _)| n != &name);
        list.push((name.clone(), format!("sender {name}")));
        if list.len() > 64 {
            list.remove(0);
        }
    }
}

async fn send_line(socket: &UdpSocket, line: &[u8], last: Option<SocketAddr>, peers: &Peers) {
    let chosen = peers
        .target
        .lock()
        .ok()
        .and_then(|t| t.clone())
        .and_then(|t| t.parse::<SocketAddr>().ok());
    let Some(to) = chosen.or(last) else {
        eprintln!(
            "sockkit: nothing sent: no datagram received yet, so there is no one to answer ({} bytes dropped)",
            line.len()
        );
        return;
    };
    // A dual-stack socket reaches IPv4 peers through their mapped address.
    let to = match (to, socket.local_addr()) {
        (SocketAddr::V4(v4), Ok(SocketAddr::V6(_))) => {
            SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
        }
        _ => to,
    };
    if let Err(e) = socket.send_to(line, to).await {
        eprintln!(
            "sockkit: could not send to {}: {}",
            display_addr(to),
            describe_io(&e)
        );
    }
}
