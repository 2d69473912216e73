//! `sockkit udp-send HOST PORT [MESSAGE]`: sends datagrams and waits for the replies, so it works as a UDP
//! request/reply client and as a probe in scripts. `udp-send -U PATH [MESSAGE]` does the same over a
//! Unix datagram socket, from a reply socket of its own (see [`crate::unix::reply_addr`]).
//!
//! MESSAGE is sent exactly as given (no newline added; `--send hex|pickle` encode it); without it, each
//! line of stdin (newline included) is one datagram. Replies are awaited until `--wait` passes without
//! one (counted from the last datagram sent or received) or `--count` replies came. Exit status: 0 when a
//! reply came or none was asked for (`--wait 0`), 1 when none came or the port is closed (ICMP port
//! unreachable: `no UDP listener at ...`).

use std::io;

use anyhow::{anyhow, bail, Result};
use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cli::UdpSendArgs;
use crate::error::{describe_io, usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, display_addr, Family, Resolve};
use crate::output::{OutMsg, Output};
use crate::repl::Attached;
use crate::send;
use crate::send::SendMode;

pub async fn run(mut args: UdpSendArgs, out: Output) -> Result<ExitCode> {
    if args.unix.is_some() {
        // With -U the only word after the options is MESSAGE, which clap took for HOST.
        if args.port.is_some() || args.message.is_some() {
            return Err(usage(
                "with -U PATH, give only MESSAGE (no HOST PORT): sockkit udp-send -U PATH [MESSAGE]",
            ));
        }
        args.message = args.host.take();
    }
    if args.message.is_some() && args.repl.interactive {
        return Err(usage(
            "-I/--interactive does not apply with MESSAGE: the message is sent instead of what is typed",
        ));
    }
    if args.size.is_some() {
        let clash = if args.message.is_some() {
            Some("MESSAGE (the message is sent as one datagram)")
        } else if args.repl.wanted() {
            Some("-I/--interactive (each typed line is one datagram)")
        } else if args.send.send != SendMode::Raw {
            Some("--send hex|pickle (each line is encoded as one datagram)")
        } else if args.send.crlf {
            Some("--crlf (it changes line endings; --size sends the bytes as they are)")
        } else {
            None
        };
        if let Some(other) = clash {
            return Err(usage(format!(
                "--size cuts stdin into datagrams and does not apply with {other}"
            )));
        }
    }
    let resolve = Resolve {
        family: Family::from_flags(args.family.ipv4, args.family.ipv6),
        numeric: args.family.numeric,
    };
    let (socket, shown) = match args.unix.as_deref() {
        #[cfg(unix)]
        Some(path) => {
            let to = crate::unix::UnixAddr::parse(path)?;
            let (socket, file) = unix_socket(&to, args.retry, args.verbose).await?;
            (
                Sock::Unix {
                    socket,
                    _file: file,
                },
                to.to_string(),
            )
        }
        #[cfg(not(unix))]
        Some(_) => return Err(usage(crate::error::NO_UNIX_SOCKETS)),
        None => {
            let host = args.host.as_deref().unwrap_or_default();
            let port = args.port.unwrap_or_default();
            let addr = net::resolve(host, port, resolve).await?[0];
            let socket = UdpSocket::from_std({
                let s = net::udp_connected(addr)?;
                s.set_nonblocking(true)?;
                s
            })?;
            if args.verbose {
                eprintln!(
                    "sockkit: sending to {} from {}",
                    display_addr(addr),
                    socket.local_addr()?
                );
            }
            (Sock::Udp(socket), display_addr(addr).to_string())
        }
    };

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
            let setup = args.repl.setup(&args.send);
            let mut repl = Attached::start(&out, format!("udp {shown}> "), &setup, None).await?;
            control = Some(repl.take_control());
            Some(repl.input)
        }
        None => Some(match args.size {
            Some(size) => input::spawn_sized(size),
            None => input::spawn(InputOpts {
                mode: args.send.send,
                pickle_protocol: args.send.pickle_protocol,
                crlf: args.send.crlf,
                lines: true,
            }),
        }),
    };
    if let Some(rate) = args.rate {
        lines = lines.map(|unpaced| paced(unpaced, rate));
    }
    let quit = async {
        match control {
            Some(c) => Attached::serve_controls(c, out.clone()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(quit);

    let show_sender = args.show_sender;
    let mode = args.display.mode();
    let mut buf = vec![0u8; 65_536];
    let mut replies = 0u64;
    let mut sent = 0u64;
    let mut deadline = Instant::now() + args.wait;
    // The first datagram, and when --retry gives up resending it.
    let mut first: (Option<Bytes>, Option<Instant>) =
        (None, args.retry.map(|r| Instant::now() + r));
    let mut stop = std::pin::pin!(crate::stopped());
    let result: Result<()> = loop {
        let waiting = lines.is_none();
        tokio::select! {
            () = &mut stop => break Ok(()),
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    replies += 1;
                    deadline = Instant::now() + args.wait;
                    if args.verbose {
                        eprintln!("sockkit: {n} bytes from {from}");
                    }
                    out.send(OutMsg::datagram(from, &buf[..n], mode, show_sender)).await;
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
                Err(e) => break Err(socket.unreachable_or(e, &shown)),
            },
            line = async { lines.as_mut().expect("guarded").recv().await }, if lines.is_some() => match line {
                Some(bytes) => {
                    if first.0.is_none() {
                        first.0 = Some(bytes.clone());
                    }
                    if let Err(e) = socket.send(&bytes).await {
                        if !(e.kind() == std::io::ErrorKind::ConnectionRefused && retrying(&first, &args)) {
                            break Err(socket.unreachable_or(e, &shown));
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

/// Passes messages on no faster than `rate` a second, evenly spaced: message k leaves at k / rate
/// seconds after the first, so a late one is followed by the next at once and the average holds.
fn paced(mut input: mpsc::Receiver<Bytes>, rate: f64) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let gap = std::time::Duration::from_secs_f64(1.0 / rate);
        let mut start = None;
        let mut k = 0u64;
        while let Some(message) = input.recv().await {
            let first = *start.get_or_insert_with(Instant::now);
            // Counted from the first message, so timer slack does not add up.
            tokio::time::sleep_until(first + gap.mul_f64(k as f64)).await;
            k += 1;
            if tx.send(message).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Whether --retry still allows resending the first datagram.
fn retrying(first: &(Option<Bytes>, Option<Instant>), _args: &UdpSendArgs) -> bool {
    matches!(first.1, Some(limit) if Instant::now() < limit)
}

/// The socket datagrams go out on: UDP, or (`-U`) a Unix datagram socket bound to a reply address
/// of its own, whose guard removes that address's file (where it has one) when the command ends.
enum Sock {
    Udp(UdpSocket),
    #[cfg(unix)]
    Unix {
        socket: tokio::net::UnixDatagram,
        /// Held, not read: dropping it removes the reply socket's file.
        _file: crate::unix::SocketFile,
    },
}

impl Sock {
    async fn send(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Udp(s) => s.send(data).await,
            #[cfg(unix)]
            Sock::Unix { socket, .. } => socket.send(data).await,
        }
    }

    /// A datagram and who sent it, as shown.
    async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, String)> {
        match self {
            Sock::Udp(s) => {
                let (n, from) = s.recv_from(buf).await?;
                Ok((n, display_addr(from).to_string()))
            }
            #[cfg(unix)]
            Sock::Unix { socket, .. } => {
                let (n, from) = socket.recv_from(buf).await?;
                let shown = crate::unix::UnixAddr::from_peer(&from)
                    .map_or_else(|| "(unnamed)".to_string(), |a| a.to_string());
                Ok((n, shown))
            }
        }
    }

    /// ICMP port unreachable comes back as "connection refused" on a connected UDP socket; on a
    /// Unix socket it means the socket at the path was closed.
    fn unreachable_or(&self, e: io::Error, to: &str) -> anyhow::Error {
        match (self, e.kind() == io::ErrorKind::ConnectionRefused) {
            (Sock::Udp(_), true) => {
                anyhow!("no UDP listener at {to} (the host answered: port unreachable)")
            }
            (Sock::Udp(_), false) => anyhow!("UDP to {to} failed: {}", describe_io(&e)),
            #[cfg(unix)]
            (Sock::Unix { .. }, true) => {
                anyhow!("no listener at {to} any more (connection refused)")
            }
            #[cfg(unix)]
            (Sock::Unix { .. }, false) => anyhow!("sending to {to} failed: {}", describe_io(&e)),
        }
    }
}

/// A Unix datagram socket bound to a reply address of its own and connected to `to`.
#[cfg(unix)]
async fn unix_socket(
    to: &crate::unix::UnixAddr,
    retry: Option<std::time::Duration>,
    verbose: bool,
) -> Result<(tokio::net::UnixDatagram, crate::unix::SocketFile)> {
    let me = crate::unix::reply_addr();
    let (socket, file) = crate::unix::bind_datagram(&me, crate::unix::BindOpts::default())?;
    crate::unix::connect_datagram(&socket, to, retry).await?;
    if verbose {
        eprintln!("sockkit: sending to {to} from {me}");
    }
    Ok((socket, file))
}
