//! `sockkit udp-send HOST PORT [MESSAGE]`: sends datagrams and waits for the replies, so it works as a UDP
//! request/reply client and as a probe in scripts.
//!
//! MESSAGE is sent exactly as given (no newline added; `--send hex|pickle` encode it); without it, each
//! line of stdin (newline included) is one datagram. Replies are awaited until `--wait` passes without
//! one (counted from the last datagram sent or received) or `--count` replies came. Exit status: 0 when a
//! reply came or none was asked for (`--wait 0`), 1 when none came or the port is closed (ICMP port
//! unreachable: `no UDP listener at ...`).

use std::io;
use std::net::SocketAddr;

use anyhow::{anyhow, bail, Result};
use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cli::{SendMode, UdpSendArgs};
use crate::cmd::udp_listen::datagram;
use crate::error::{describe_io, usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, display_addr, Family, Resolve};
use crate::output::Output;
use crate::repl::Attached;
use crate::send;

pub async fn run(args: UdpSendArgs, out: Output) -> Result<ExitCode> {
    if args.count == Some(0) {
        return Err(usage("--count must be at least 1"));
    }
    let resolve = Resolve {
        family: Family::from_flags(args.family.ipv4, args.family.ipv6),
        numeric: args.family.numeric,
    };
    let addr = net::resolve(&args.host, args.port, resolve).await?[0];
    let socket = UdpSocket::from_std({
        let s = net::udp_connected(addr)?;
        s.set_nonblocking(true)?;
        s
    })?;
    let shown = display_addr(addr);
    if args.verbose {
        eprintln!("sockkit: sending to {shown} from {}", socket.local_addr()?);
    }

    let mut control = None;
    let mut lines: Option<mpsc::Receiver<Bytes>> = match &args.message {
        Some(message) => {
            let bytes = match args.send.send {
                SendMode::Raw => message.as_bytes().to_vec(),
                mode => send::encoder(mode, args.send.pickle_protocol)
                    .encode(message.as_bytes())
                    .map_err(|e| usage(format!("MESSAGE, column {}: {}", e.column, e.message)))?
                    .unwrap_or_default(),
            };
            let (tx, rx) = mpsc::channel(1);
            let _ = tx.send(Bytes::from(bytes)).await;
            Some(rx)
        }
        None if args.repl.wanted() => {
            let mut repl =
                Attached::start(&out, format!("udp {shown}> "), &args.repl, &args.send, None)
                    .await?;
            control = Some(repl.take_control());
            Some(repl.input)
        }
        None => Some(input::spawn(InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: true,
        })),
    };
    let quit = async {
        match control {
            Some(c) => Attached::serve_controls(c, out.clone()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(quit);

    let show_sender = args.show_sender || args.verbose;
    let mode = args.display.mode();
    let mut buf = vec![0u8; 65_536];
    let mut replies = 0u64;
    let mut sent = 0u64;
    let mut deadline = Instant::now() + args.wait;
    // The first datagram, and when --retry gives up resending it.
    let mut first: (Option<Bytes>, Option<Instant>) =
        (None, args.retry.map(|r| Instant::now() + r));
    let result: Result<()> = loop {
        let waiting = lines.is_none();
        tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    replies += 1;
                    deadline = Instant::now() + args.wait;
                    let data = Bytes::copy_from_slice(&buf[..n]);
                    out.send(datagram(display_addr(from), data, mode, show_sender, args.verbose)).await;
                    if Some(replies) == args.count {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused && replies == 0 && retrying(&first, &args) => {
                    // No listener yet: send the first datagram again shortly.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    if let Some(bytes) = &first.0 {
                        let _ = socket.send(bytes).await;
                    }
                    deadline = Instant::now() + args.wait;
                }
                Err(e) => break Err(unreachable_or(e, shown)),
            },
            line = async { lines.as_mut().expect("guarded").recv().await }, if lines.is_some() => match line {
                Some(bytes) => {
                    if first.0.is_none() {
                        first.0 = Some(bytes.clone());
                    }
                    if let Err(e) = socket.send(&bytes).await {
                        if !(e.kind() == std::io::ErrorKind::ConnectionRefused && retrying(&first, &args)) {
                            break Err(unreachable_or(e, shown));
                        }
                    }
                    sent += 1;
                    deadline = Instant::now() + args.wait;
                }
                None => lines = None,
            },
            () = tokio::time::sleep_until(deadline), if waiting => break Ok(()),
            () = &mut quit => break Ok(()),
        }
    };
    out.flush().await;
    crate::repl::end_session();
    result?;
    if args.verbose {
        eprintln!("sockkit: sent {sent} datagrams, received {replies} replies");
    }
    if replies == 0 && !args.wait.is_zero() && sent > 0 {
        bail!(
            "no reply from {shown} within {} (--wait)",
            humantime::format_duration(args.wait)
        );
    }
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// Whether --retry still allows resending the first datagram.
fn retrying(first: &(Option<Bytes>, Option<Instant>), _args: &UdpSendArgs) -> bool {
    matches!(first.1, Some(limit) if Instant::now() < limit)
}

/// ICMP port unreachable comes back as "connection refused" on a connected UDP socket.
fn unreachable_or(e: io::Error, to: SocketAddr) -> anyhow::Error {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        anyhow!("no UDP listener at {to} (the host answered: port unreachable)")
    } else {
        anyhow!("UDP to {to} failed: {}", describe_io(&e))
    }
}
