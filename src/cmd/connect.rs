//! `sockkit connect HOST PORT`: a TCP client relaying stdin to the server and the server to stdout,
//! and `connect -z HOST PORTS...`, a zero-I/O port scan.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::AsyncWriteExt;

use crate::cli::{ConnectArgs, DisplayMode, ReplArgs, SendArgs, SendMode};
use crate::error::{usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, ConnectOpts, Family, Resolve};
use crate::output::Output;
use crate::relay::{self, RelayConfig};
use crate::render::StreamLabel;
use crate::repl::Attached;

/// Default per-port timeout of a -z scan, so filtered ports do not take minutes.
const SCAN_TIMEOUT: Duration = Duration::from_secs(3);

/// A validated `connect` command line.
struct Config {
    host: String,
    ports: Vec<u16>,
    connect: ConnectOpts,
    relay: RelayConfig,
    input: Option<InputOpts>,
    zero_io: bool,
    verbose: bool,
    repl: Option<(ReplArgs, SendArgs)>,
}

impl Config {
    fn from_args(args: ConnectArgs) -> Result<Config> {
        let ports = if args.zero_io {
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
        let repl_wanted = !args.recv_only && !args.zero_io && args.repl.wanted();
        // splice(2) fast paths when nothing needs to see the bytes.
        let splice_stdin = !args.recv_only
            && !args.zero_io
            && !repl_wanted
            && args.send.send == SendMode::Raw
            && !args.send.crlf
            && crate::splice::stdin_spliceable();
        let splice_stdout = !args.send_only
            && !repl_wanted
            && args.display.mode() == DisplayMode::Raw
            && crate::splice::stdout_spliceable();
        let input = (!args.recv_only && !args.zero_io && !splice_stdin).then_some(InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: false,
        });
        let repl = repl_wanted.then(|| (args.repl.clone(), args.send.clone()));
        Ok(Config {
            repl,
            host: args.host,
            ports,
            connect: ConnectOpts {
                resolve,
                source,
                source_port: args.source_port,
                timeout: args.connect_timeout,
                refused_hint: "is a server listening there?",
                retry: args.retry,
            },
            relay: RelayConfig {
                no_shutdown: args.no_shutdown,
                quit_after_eof: args.quit_after_eof,
                idle_timeout: args.idle_timeout,
                send_only: args.send_only,
                verbose: args.verbose,
                progress: args.progress,
                splice_stdin,
                splice_stdout,
            },
            input,
            zero_io: args.zero_io,
            verbose: args.verbose,
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
    let port = cfg.ports[0];
    let stream = net::connect(&cfg.host, port, &cfg.connect).await?;
    let peer = stream
        .peer_addr()
        .context("connected socket has no peer address")?;
    if cfg.verbose {
        eprintln!("sockkit: connected to {}", net::display_addr(peer));
    }
    let (input, control) = match &cfg.repl {
        Some((repl_args, send_args)) => {
            let prompt = format!("{}> ", net::display_addr(peer));
            let mut repl = Attached::start(&out, prompt, repl_args, send_args, None).await?;
            let control = repl.take_control();
            (Some(repl.input), Some(control))
        }
        None => (cfg.input.map(input::spawn), None),
    };
    let (reader, writer) = stream.into_split();
    let relay = relay::relay(
        reader,
        writer,
        input,
        &out,
        0,
        StreamLabel {
            peer: None,
            direction: "received",
        },
        &cfg.relay,
    );
    let summary = match control {
        None => relay.await,
        Some(control) => {
            let summary = tokio::select! {
                s = relay => s,
                () = Attached::serve_controls(control, out.clone()) => return quit(&out).await,
            };
            out.close(0).await;
            out.flush().await;
            crate::repl::end_session();
            if matches!(summary, Ok(ref s) if s.end == relay::End::PeerClosed) {
                eprintln!("sockkit: the peer closed the connection");
            }
            summary
        }
    };
    out.close(0).await;
    let summary = summary?;
    if cfg.verbose {
        eprintln!("sockkit: {}", summary.describe());
    }
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// `/quit` in the REPL.
async fn quit(out: &Output) -> Result<ExitCode> {
    out.flush().await;
    crate::repl::end_session();
    Ok(ExitCode::Success)
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
    }
}
