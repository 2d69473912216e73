//! `sockkit udp-listen [HOST] PORT`: receives datagrams from any number of senders and answers the most
//! recent one, as `nc -u -l` does in the echo tutorial, but without locking onto the first sender.
//!
//! Each datagram is shown on its own, never split or joined. With `--show-sender` each one is
//! preceded by a line `ADDRESS LENGTH` (`127.0.0.1:50344 12`, `[::1]:50344 12`) and followed by a newline,
//! so a script can read the header line, then exactly LENGTH bytes, then the newline; in hex and pickle
//! modes the sender heads the block instead. Each line typed on stdin is sent, newline included, as one
//! datagram to the latest sender (or the one chosen with the REPL's `/to`). `-v` never changes stdout:
//! it says on stderr who sent each datagram and how long it was, and every second and at the end how
//! many came and how many the kernel dropped for want of room in the receive buffer (`--rcvbuf`).
//!
//! `udp-listen -U PATH` receives on a Unix datagram socket instead (module `unix` below), with the
//! same display, REPL and answers; a sender is shown by its socket's path or abstract name.
//!
//! Datagrams are taken in batches ([`crate::dgram`]): all those waiting, in one system call on Linux,
//! handed to the stdout thread as one message, or, shown raw with nothing else writing to stdout,
//! written by this task itself ([`RawStdout`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::accept;
use crate::cli::UdpListenArgs;
use crate::dgram::Receiver;
use crate::error::{describe_io, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, display_addr, Family, ListenAddr, Resolve};
use crate::output::{OutMsg, Output};
use crate::relay::RawStdout;
use crate::render::DisplayMode;
use crate::repl::{Attached, Peer, Peers};

/// The receive buffer asked for when --rcvbuf is not given: room for a burst of about 4,000 small
/// datagrams (the kernel counts about 1 KiB per datagram however small) while stdout catches up.
const DEFAULT_RCVBUF: usize = 4 << 20;

/// The REPL lists the most recent senders, this many.
const SENDERS_LISTED: usize = 64;

/// How often -v says how many datagrams came and how many the kernel dropped.
const STATS_EVERY: Duration = Duration::from_secs(1);

/// After a signal, the datagrams the socket already holds are still taken and shown (they reached
/// this host before the signal, and -v's last count would otherwise miss them): until none comes
/// for [`Drain::QUIET`], for at most [`Drain::LONGEST`] under a flood.
#[derive(Default)]
struct Drain {
    until: Option<tokio::time::Instant>,
}

impl Drain {
    const QUIET: Duration = Duration::from_millis(2);
    const LONGEST: Duration = Duration::from_millis(200);

    fn start(&mut self) {
        self.until = Some(tokio::time::Instant::now() + Self::LONGEST);
    }

    fn active(&self) -> bool {
        self.until.is_some()
    }

    /// Resolves when the drain is over: nothing came for QUIET since this was called (a select
    /// loop calls it anew after each datagram), or LONGEST has passed. Never without a signal.
    async fn over(&self) {
        let quiet = tokio::time::Instant::now() + Self::QUIET;
        crate::sleep_until(self.until.map(|u| u.min(quiet))).await
    }
}

pub async fn run(args: UdpListenArgs, out: Output) -> Result<ExitCode> {
    crate::cli::check_unix_mode(&args.unix, args.unix_mode)?;
    if let Some(path) = args.unix.as_deref() {
        #[cfg(unix)]
        {
            let addr = crate::unix::UnixAddr::parse(path)?;
            let opts = crate::unix::BindOpts {
                mode: args.unix_mode,
            };
            return unix::run(args, out, addr, opts).await;
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            return Err(crate::error::usage(crate::error::NO_UNIX_SOCKETS));
        }
    }
    let at = ListenAddr::from_args(&args.addr, args.port)?;
    let resolve = Resolve {
        family: Family::from_flags(args.family.ipv4, args.family.ipv6),
        numeric: args.family.numeric,
    };
    let socket = net::listen_udp(&at, resolve).await?;
    let local = socket.local_addr()?;
    size_receive_buffer(&socket, args.rcvbuf, args.verbose);
    if args.verbose || at.port == 0 {
        eprintln!("sockkit: listening on {local} (udp)");
    }
    let show_sender = args.show_sender;

    let peers = Arc::new(Peers {
        any_address: true,
        ..Peers::default()
    });
    let (typed, quit) = typed_lines(&args, &out, format!("udp {local}> "), &peers).await?;
    tokio::pin!(quit);
    let mut typed: Option<mpsc::Receiver<Bytes>> = typed;
    let mut rx = Receiver::new(&socket);
    // Raw datagrams go straight to stdout when nothing else writes there: a hand-off to the
    // stdout thread costs a wake-up per batch, which is most of a lone datagram's cost.
    let mut direct =
        (args.display.mode() == DisplayMode::Raw && !show_sender && !args.repl.wanted())
            .then(RawStdout::new)
            .flatten();
    let mut stats = Stats {
        verbose: args.verbose,
        received: 0,
        dropped: rx.dropped(&socket),
        reported: (0, rx.dropped(&socket)),
    };
    let mut tick = tokio::time::interval(STATS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<SocketAddr> = None;
    let mut stop = std::pin::pin!(crate::stopped());
    let mut drain = Drain::default();
    loop {
        let left = args.count.map(|c| c - stats.received);
        tokio::select! {
            // A signal: take what the socket holds, then end.
            () = &mut stop, if !drain.active() => drain.start(),
            () = drain.over(), if drain.active() => break,
            // Cancel-safe: a batch is only taken once the socket is readable, without waiting.
            r = rx.recv(&socket, left) => {
                let mut batch = match r {
                    Ok(batch) => batch,
                    Err(e) => {
                        // An ICMP error for an earlier reply (its sender went away): not fatal.
                        if args.verbose {
                            eprintln!("sockkit: {}", describe_io(&e));
                        }
                        continue;
                    }
                };
                let taken = batch.len() as u64;
                let mut said = String::new();
                // Each run of datagrams from one sender, by its sender.
                let mut runs: Vec<SocketAddr> = Vec::new();
                for (from, payload) in batch.iter() {
                    let shown = display_addr(from);
                    if args.verbose {
                        said.push_str(&format!("sockkit: {} bytes from {shown}\n", payload.len()));
                    }
                    if runs.last() != Some(&from) {
                        runs.push(from);
                    }
                    if args.echo {
                        if let Err(e) = socket.send_to(payload, from).await {
                            eprintln!("sockkit: could not echo to {shown}: {}", describe_io(&e));
                        }
                    }
                }
                if let Some(&from) = runs.last() {
                    last = Some(from);
                }
                for from in by_last_datagram(&runs) {
                    remember(&peers, accept::Peer::Ip(display_addr(from)));
                }
                // One write for the batch's lines: stderr is unbuffered.
                eprint!("{said}");
                let error = batch.error.take();
                match direct.as_mut() {
                    Some(stdout) => stdout.write_all(batch.payloads()).await?,
                    None => out.send(OutMsg::Datagrams { batch, show_sender }).await,
                }
                // Counted once handed to stdout, so that the count -v gives on Ctrl-C (which may
                // cancel the send above) is what stdout shows.
                stats.received += taken;
                if let (Some(e), true) = (error, args.verbose) {
                    eprintln!("sockkit: {}", describe_io(&e));
                }
                if Some(stats.received) == args.count {
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
            _ = tick.tick(), if args.verbose => {
                stats.dropped = rx.dropped(&socket);
                stats.report_if_changed();
            }
            () = &mut quit => break,
        }
    }
    stats.dropped = rx.dropped(&socket);
    out.flush().await;
    crate::repl::end_session();
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// Where the lines to send come from (the REPL, or stdin line by line), and a future that resolves
/// when the REPL asks to quit (never without it).
async fn typed_lines(
    args: &UdpListenArgs,
    out: &Output,
    prompt: String,
    peers: &Arc<Peers>,
) -> Result<(
    Option<mpsc::Receiver<Bytes>>,
    impl std::future::Future<Output = ()>,
)> {
    let (typed, control) = if args.repl.wanted() {
        let mut repl = Attached::start(
            out,
            prompt,
            &args.repl.setup(&args.send),
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
    let out = out.clone();
    let quit = async move {
        match control {
            Some(c) => Attached::serve_controls(c, out).await,
            None => std::future::pending().await,
        }
    };
    Ok((typed, quit))
}

/// Asks for a receive buffer sized for bursts (or --rcvbuf), and says so when the kernel gives less:
/// always for --rcvbuf, with -v for the default.
fn size_receive_buffer(socket: &UdpSocket, asked: Option<usize>, verbose: bool) {
    let want = asked.unwrap_or(DEFAULT_RCVBUF);
    let tell = asked.is_some() || verbose;
    match net::set_recv_buffer(socket, want) {
        Ok(got) if got < want && tell => {
            let limit = if cfg!(target_os = "linux") {
                "the system's limit, net.core.rmem_max"
            } else {
                "the system's limit"
            };
            eprintln!(
                "sockkit: note: the receive buffer is {got} bytes, not the {want} asked for ({limit}); \
                 a burst that does not fit is dropped"
            );
        }
        Ok(_) => {}
        Err(e) if tell => eprintln!(
            "sockkit: note: could not set the receive buffer to {want} bytes: {}",
            describe_io(&e)
        ),
        Err(_) => {}
    }
}

/// What -v says every second (when it changed) and at the end: datagrams received and, where the
/// system counts them, datagrams the kernel dropped because the receive buffer was full.
struct Stats {
    verbose: bool,
    received: u64,
    dropped: Option<u64>,
    reported: (u64, Option<u64>),
}

impl Stats {
    fn line(&self) -> String {
        let n = self.received;
        let s = if n == 1 { "" } else { "s" };
        match self.dropped {
            Some(m) => format!("sockkit: received {n} datagram{s}, kernel dropped {m}"),
            None => format!(
                "sockkit: received {n} datagram{s} (this system does not count kernel drops)"
            ),
        }
    }

    fn report_if_changed(&mut self) {
        if self.reported != (self.received, self.dropped) {
            self.reported = (self.received, self.dropped);
            eprintln!("{}", self.line());
        }
    }
}

/// The final count is said on drop, so that it is said however the command ends: --count, /quit,
/// an error, or Ctrl-C (which drops the command's future).
impl Drop for Stats {
    fn drop(&mut self) {
        if self.verbose {
            eprintln!("{}", self.line());
        }
    }
}

/// The senders of a batch's runs, each once, in the order of their last datagram, and at most as
/// many as the REPL lists: remembered in this order, they leave the list as remembering each
/// datagram's sender would, at a cost per batch rather than per datagram.
fn by_last_datagram(runs: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut seen = std::collections::HashSet::new();
    let mut senders: Vec<SocketAddr> = runs
        .iter()
        .rev()
        .filter(|a| seen.insert(**a))
        .take(SENDERS_LISTED)
        .copied()
        .collect();
    senders.reverse();
    senders
}

/// Adds a sender (UDP, or a named Unix datagram socket) to the REPL's list (most recent last, at
/// most [`SENDERS_LISTED`] kept). A sender keeps the number it was first given, so `/to N` means
/// the same sender for as long as it is listed.
fn remember(peers: &Peers, addr: accept::Peer) {
    if let Ok(mut list) = peers.list.lock() {
        let number = match list.iter().position(|p| p.addr == addr) {
            Some(i) => list.remove(i).number,
            None => list.iter().map(|p| p.number).max().unwrap_or(0) + 1,
        };
        list.push(Peer {
            number,
            addr,
            desc: "sender".into(),
        });
        if list.len() > SENDERS_LISTED {
            list.remove(0);
        }
    }
}

async fn send_line(socket: &UdpSocket, line: &[u8], last: Option<SocketAddr>, peers: &Peers) {
    let chosen = peers.target.lock().ok().and_then(|t| match &*t {
        Some(Peer {
            addr: accept::Peer::Ip(a),
            ..
        }) => Some(*a),
        _ => None,
    });
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

/// `udp-listen -U PATH`: the same over a Unix datagram socket, one datagram at a time (a Unix
/// sender waits for room instead of losing datagrams, so there is no drop count to keep).
#[cfg(unix)]
mod unix {
    use super::*;
    use crate::unix::{self as ux, BindOpts, UnixAddr};

    pub(super) async fn run(
        args: UdpListenArgs,
        out: Output,
        addr: UnixAddr,
        opts: BindOpts,
    ) -> Result<ExitCode> {
        // Held until the command returns (or a signal drops it): then the socket file goes.
        let (socket, _file) = ux::bind_datagram(&addr, opts)?;
        eprintln!("sockkit: listening on {addr} (unix datagrams)");
        let peers = Arc::new(Peers::default());
        let (typed, quit) = typed_lines(&args, &out, format!("unix {addr}> "), &peers).await?;
        tokio::pin!(quit);
        let mut typed = typed;
        let mode = args.display.mode();
        let mut buf = vec![0u8; crate::dgram::MAX_DATAGRAM];
        let mut received = 0u64;
        // The latest sender: `Some(None)` when its socket has no name (it cannot be answered).
        let mut last: Option<Option<UnixAddr>> = None;
        let mut drain = Drain::default();
        loop {
            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    let (n, from) = match r {
                        Ok(got) => got,
                        Err(e) => {
                            eprintln!("sockkit: receiving on {addr}: {}", describe_io(&e));
                            continue;
                        }
                    };
                    let from = UnixAddr::from_peer(&from);
                    let shown = from
                        .as_ref()
                        .map_or_else(|| "(unnamed)".to_string(), |a| a.to_string());
                    if args.verbose {
                        eprintln!("sockkit: {n} bytes from {shown}");
                    }
                    if let Some(f) = &from {
                        remember(&peers, accept::Peer::Local(f.to_string()));
                        if args.echo {
                            if let Err(e) = ux::send_to(&socket, &buf[..n], f).await {
                                eprintln!("sockkit: could not echo to {f}: {}", describe_io(&e));
                            }
                        }
                    }
                    last = Some(from);
                    out.send(OutMsg::datagram(&shown, &buf[..n], mode, args.show_sender))
                        .await;
                    received += 1;
                    if Some(received) == args.count {
                        break;
                    }
                }
                line = async { typed.as_mut().expect("checked by the guard").recv().await }, if typed.is_some() => {
                    match line {
                        Some(line) => send_line(&socket, &line, &last, &peers).await,
                        // stdin ended: keep receiving (stop with Ctrl-C or --count).
                        None => typed = None,
                    }
                }
                () = &mut quit => break,
                // A signal: take what the socket holds, then end (the socket file goes then).
                () = crate::stopped(), if !drain.active() => drain.start(),
                () = drain.over(), if drain.active() => break,
            }
        }
        out.flush().await;
        crate::repl::end_session();
        if args.verbose {
            let s = if received == 1 { "" } else { "s" };
            eprintln!("sockkit: received {received} datagram{s}");
        }
        Ok(if input::had_errors() {
            ExitCode::Failure
        } else {
            ExitCode::Success
        })
    }

    async fn send_line(
        socket: &tokio::net::UnixDatagram,
        line: &[u8],
        last: &Option<Option<UnixAddr>>,
        peers: &Peers,
    ) {
        let chosen = peers.target.lock().ok().and_then(|t| match &*t {
            Some(Peer {
                addr: accept::Peer::Local(name),
                ..
            }) => UnixAddr::parse(name).ok(),
            _ => None,
        });
        let to = match (chosen, last) {
            (Some(to), _) => to,
            (None, Some(Some(to))) => to.clone(),
            (None, _) => {
                let why = match last {
                    None => "no datagram received yet, so there is no one to answer",
                    Some(_) => "the latest sender's socket has no name, so it cannot be answered",
                };
                eprintln!(
                    "sockkit: nothing sent: {why} ({} bytes dropped)",
                    line.len()
                );
                return;
            }
        };
        if let Err(e) = ux::send_to(socket, line, &to).await {
            eprintln!("sockkit: could not send to {to}: {}", describe_io(&e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_are_listed_by_their_last_datagram() {
        let addr = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let (a, b, c) = (addr(1), addr(2), addr(3));
        assert_eq!(by_last_datagram(&[a, b, a, c, b]), [a, c, b]);
        assert_eq!(by_last_datagram(&[]), []);
        // A flood from more senders than the REPL lists: the most recent ones.
        let many: Vec<SocketAddr> = (1..=1000).map(addr).collect();
        assert_eq!(by_last_datagram(&many), many[1000 - SENDERS_LISTED..]);
    }
}
