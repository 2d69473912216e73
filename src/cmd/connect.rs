//! `sockkit connect HOST PORT` (or `connect -U PATH`, a Unix stream socket): a client relaying stdin
//! to the server and the server to stdout, and `connect -z HOST PORTS...`, a zero-I/O port scan.

use std::net::IpAddr;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::{Context as _, Result};
use tokio::io::AsyncWriteExt;

use crate::cli::ConnectArgs;
use crate::conn::Conn;
use crate::error::{usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, ConnectOpts, Family, Resolve};
use crate::output::Output;
use crate::relay::{self, RelayConfig};
use crate::render::StreamLabel;
use crate::repl::{Attached, ReplSetup};
use crate::tls::{self, ClientOpts};
use crate::{render::DisplayMode, send::SendMode};

/// Default per-port timeout of a -z scan, so filtered ports do not take minutes.
const SCAN_TIMEOUT: Duration = Duration::from_secs(3);

/// A validated `connect` command line.
struct Config {
    host: String,
    /// `-U PATH`: a Unix stream socket instead of `host` and `ports`.
    #[cfg(unix)]
    unix: Option<crate::unix::UnixAddr>,
    ports: Vec<u16>,
    connect: ConnectOpts,
    relay: RelayConfig,
    /// Received bytes are shown as they are.
    raw_display: bool,
    /// How stdin is read, when it is (not with the REPL, --recv-only or -z).
    input: Option<InputOpts>,
    zero_io: bool,
    verbose: bool,
    repl: Option<ReplSetup>,
    /// `--tls`: the client's TLS options.
    tls: Option<ClientOpts>,
}

impl Config {
    fn from_args(args: ConnectArgs) -> Result<Config> {
        #[cfg(unix)]
        let unix = args
            .unix
            .as_deref()
            .map(crate::unix::UnixAddr::parse)
            .transpose()?;
        #[cfg(not(unix))]
        if args.unix.is_some() {
            return Err(usage(crate::error::NO_UNIX_SOCKETS));
        }
        let ports = if args.unix.is_some() {
            Vec::new()
        } else if args.zero_io {
            parse_port_list(&args.ports)?
        } else {
            match args.ports.as_slice() {
                [p] => vec![net::parse_port(p)?],
                _ => {
                    return Err(usage(format!(
                        "connect takes one port, got {} ({}); use -z to scan several",
                        args.ports.len(),
                        args.ports.join(" ")
                    )))
                }
            }
        };
        if args.zero_io {
            // A scan sends and receives nothing: these would be silently ignored.
            let ignored = [
                (args.relay.quit_after_eof.is_some(), "-q/--quit-after-eof"),
                (args.relay.no_shutdown, "--no-shutdown"),
                (args.relay.send_only, "--send-only"),
                (args.relay.recv_only, "--recv-only"),
                (args.relay.idle_timeout.is_some(), "-i/--idle-timeout"),
                (args.repl.interactive, "-I/--interactive"),
                (args.send.send != SendMode::Raw, "--send"),
                (args.send.crlf, "-C/--crlf"),
                (args.tls.tls, "--tls"),
            ];
            if let Some((_, flag)) = ignored.iter().find(|(given, _)| *given) {
                return Err(usage(format!(
                    "{flag} does not apply with -z: a scan sends and receives nothing"
                )));
            }
        }
        if ports.contains(&0) {
            return Err(usage(
                "invalid port '0': port 0 cannot be connected to (give the port the server listens on)",
            ));
        }
        let source = match &args.source {
            None => None,
            Some(s) => Some(
                s.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .map_err(|_| {
                        usage(format!(
                            "invalid source address '{s}': expected an IP address"
                        ))
                    })?,
            ),
        };
        let resolve = Resolve {
            family: Family::from_flags(args.family.ipv4, args.family.ipv6),
            numeric: args.family.numeric,
        };
        let repl_wanted = !args.relay.recv_only && !args.zero_io && args.repl.wanted();
        let input = (!args.relay.recv_only && !args.zero_io && !repl_wanted).then_some(InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: false,
        });
        let repl = repl_wanted.then(|| args.repl.setup(&args.send));
        Ok(Config {
            repl,
            tls: args.tls.client()?,
            host: args.host.unwrap_or_default(),
            #[cfg(unix)]
            unix,
            ports,
            connect: ConnectOpts {
                resolve,
                source,
                source_port: args.source_port,
                timeout: args.connect_timeout,
                refused_hint: "is a server listening there?",
                retry: args.retry,
            },
            relay: (&args.relay).into(),
            raw_display: args.display.mode() == DisplayMode::Raw,
            input,
            zero_io: args.zero_io,
            verbose: args.relay.verbose,
        })
    }
}

/// Parses `80`, `20-25` and lists of them, in the order given.
pub fn parse_port_list(words: &[String]) -> Result<Vec<u16>> {
    let mut ports = Vec::new();
    for word in words {
        for part in word.split(',').filter(|p| !p.is_empty()) {
            match part.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (net::parse_port(lo)?, net::parse_port(hi)?);
                    if lo > hi {
                        return Err(usage(format!(
                            "invalid port range '{part}': the first port must not exceed the second"
                        )));
                    }
                    ports.extend(lo..=hi);
                }
                None => ports.push(net::parse_port(part)?),
            }
        }
    }
    if ports.is_empty() {
        return Err(usage("no port given"));
    }
    Ok(ports)
}

pub async fn run(args: ConnectArgs, out: Output) -> Result<ExitCode> {
    let cfg = Config::from_args(args)?;
    if cfg.zero_io {
        return scan(&cfg).await;
    }
    #[cfg(unix)]
    if let Some(addr) = &cfg.unix {
        let stream = crate::unix::connect(addr, cfg.connect.timeout, cfg.connect.retry).await?;
        if cfg.verbose {
            match crate::unix::credentials(&stream) {
                Some(who) => eprintln!("sockkit: connected to {addr} ({who})"),
                None => eprintln!("sockkit: connected to {addr}"),
            }
        }
        return relay(&cfg, out, stream.into(), addr.to_string(), None).await;
    }
    let port = cfg.ports[0];
    // Certificate and key files are read before connecting, so a bad one fails at once.
    let tls = match &cfg.tls {
        Some(opts) => Some(tls::Client::new(opts, &cfg.host)?),
        None => None,
    };
    if cfg.tls.as_ref().is_some_and(|t| t.insecure) {
        eprintln!("sockkit: warning: --insecure: the server's certificate is not verified; anyone on the path can read and change the data");
    }
    let stream = net::connect(&cfg.host, port, &cfg.connect).await?;
    let peer = stream.peer_addr().map_err(|e| {
        // ENOTCONN: the server accepted and reset the connection before we asked.
        anyhow::anyhow!(
            "connected to {}:{port}, but the server ended the connection at once ({})",
            cfg.host,
            crate::error::describe_io(&e)
        )
    })?;
    if cfg.verbose {
        eprintln!("sockkit: connected to {}", net::display_addr(peer));
    }
    let (conn, session): (Conn, _) = match &tls {
        Some(client) => {
            let (conn, session) = client
                .connect(stream, cfg.verbose, cfg.connect.timeout)
                .await
                .with_context(|| format!("TLS handshake with {}:{port}", cfg.host))?;
            (conn, Some(session))
        }
        None => (stream.into(), None),
    };
    let peer = net::display_addr(peer).to_string();
    relay(&cfg, out, conn, peer, session).await
}

/// Relays a connected stream (TCP, TLS or Unix) with stdin and stdout, or the REPL, whose prompt
/// names `peer`; `session` describes a TLS session for the -v summary.
async fn relay(
    cfg: &Config,
    out: Output,
    conn: Conn,
    peer: String,
    session: Option<String>,
) -> Result<ExitCode> {
    let label = StreamLabel {
        peer: None,
        direction: "received",
    };
    let summary = match &cfg.repl {
        None => {
            let up = relay::stdin_up(cfg.input);
            let down =
                relay::stdout_down(&out, 0, label, cfg.raw_display, cfg.relay.send_only).await;
            let interactive = std::io::stdin().is_terminal();
            relay::relay_conn(conn, up, down, &cfg.relay, interactive).await
        }
        Some(setup) => {
            let prompt = format!("{peer}> ");
            let mut repl = Attached::start(&out, prompt, setup, None).await?;
            let control = repl.take_control();
            let up = relay::Up::Queue(repl.input);
            let down = relay::stdout_down(&out, 0, label, false, cfg.relay.send_only).await;
            let work = relay::relay_conn(conn, up, down, &cfg.relay, true);
            let Some(summary) = Attached::run(control, &out, work).await else {
                return Ok(ExitCode::Success);
            };
            if matches!(summary, Ok(ref s) if s.end == relay::End::PeerClosed) {
                eprintln!("sockkit: the peer closed the connection");
            }
            summary
        }
    }?;
    if cfg.verbose {
        eprintln!(
            "sockkit: {}{}",
            summary.describe(),
            tls::over(session.as_deref())
        );
    }
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// `-z`: try each port (a few at a time), report in the order given, exit 0 only if all are open.
async fn scan(cfg: &Config) -> Result<ExitCode> {
    let mut opts = cfg.connect.clone();
    opts.timeout = Some(opts.timeout.unwrap_or(SCAN_TIMEOUT));
    let addrs = net::resolve(&cfg.host, 0, opts.resolve).await?;
    let host = addrs[0].ip().to_string();
    opts.resolve.numeric = true;
    let mut all_open = true;
    for chunk in cfg.ports.chunks(64) {
        let mut set = tokio::task::JoinSet::new();
        for (i, &port) in chunk.iter().enumerate() {
            let opts = opts.clone();
            let host = host.clone();
            set.spawn(async move { (i, port, net::connect(&host, port, &opts).await) });
        }
        let mut results: Vec<_> = set.join_all().await;
        results.sort_by_key(|(i, _, _)| *i);
        for (_, port, result) in results {
            match result {
                Ok(mut stream) => {
                    let _ = stream.shutdown().await;
                    if cfg.verbose {
                        eprintln!("sockkit: {} port {port} open", cfg.host);
                    }
                }
                // Accepted, then reset: something listens there.
                Err(e) if e.downcast_ref::<net::ResetAfterAccept>().is_some() => {
                    if cfg.verbose {
                        eprintln!("sockkit: {} port {port} open (reset at once)", cfg.host);
                    }
                }
                Err(e) => {
                    all_open = false;
                    if cfg.verbose {
                        eprintln!("sockkit: {} port {port} closed: {e:#}", cfg.host);
                    }
                }
            }
        }
    }
    Ok(if all_open {
        ExitCode::Success
    } else {
        ExitCode::Failure
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists() {
        let words: Vec<String> = ["20-22", "80"].iter().map(|s| s.to_string()).collect();
        assert_eq!(parse_port_list(&words).unwrap(), vec![20, 21, 22, 80]);
        assert!(parse_port_list(&["25-20".to_string()]).is_err());
        assert!(parse_port_list(&["x".to_string()]).is_err());
        assert!(parse_port_list(&["70000".to_string()]).is_err());
        assert!(parse_port_list(&[",".to_string()]).is_err());
    }
}
