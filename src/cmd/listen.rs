//! `sockkit listen [HOST] PORT` (or `listen -U PATH`): a TCP (or Unix stream socket) server. One
//! client by default, relayed like `connect`; with `-k` many clients at once
//! ([`crate::relay::hub`]); `--echo`, `--broker` and `--chat` turn it into the echo and chat
//! servers of the tutorials.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};

use crate::accept::{Accept, Gate};
use crate::access::Access;
use crate::cli::ListenArgs;
use crate::conn::Conn;
use crate::error::{usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, Family, ListenAddr, Resolve};
use crate::output::Output;
use crate::relay::hub::{self, Hub, Role};
use crate::relay::{self, RelayConfig, Up};
use crate::render::StreamLabel;
use crate::repl::{Attached, Peer, Peers, ReplSetup};
use crate::tls::{self, ServerOpts};
use crate::{render::DisplayMode, send::SendMode};

/// A validated `listen` command line.
struct Config {
    at: ListenAddr,
    /// `-U PATH`: a Unix stream socket instead of `at`, with its file's permissions.
    #[cfg(unix)]
    unix: Option<(crate::unix::UnixAddr, crate::unix::BindOpts)>,
    resolve: Resolve,
    keep_open: bool,
    max_conns: usize,
    access: Access,
    role: Role,
    relay: RelayConfig,
    /// Received bytes are shown as they are.
    raw_display: bool,
    /// How stdin is read, when it is (not with the REPL, --recv-only or --echo).
    input: Option<InputOpts>,
    verbose: bool,
    repl: Option<ReplSetup>,
    /// `--tls`: the server's TLS options.
    tls: Option<ServerOpts>,
}

impl Config {
    fn from_args(args: ListenArgs) -> Result<Config> {
        crate::cli::check_unix_mode(&args.unix, args.unix_mode)?;
        #[cfg(unix)]
        let unix = match args.unix.as_deref() {
            Some(path) => Some((
                crate::unix::UnixAddr::parse(path)?,
                crate::unix::BindOpts {
                    mode: args.unix_mode,
                },
            )),
            None => None,
        };
        #[cfg(not(unix))]
        if args.unix.is_some() {
            return Err(usage(crate::error::NO_UNIX_SOCKETS));
        }
        let at = match args.unix {
            // Unused: the Unix socket takes its place.
            Some(_) => ListenAddr {
                host: None,
                port: 0,
            },
            None => ListenAddr::from_args(&args.addr, args.port)?,
        };
        let role = match (args.echo, args.broker, args.chat) {
            (true, _, _) => Role::Echo,
            (_, _, true) => Role::Chat,
            (_, true, _) => Role::Broker,
            _ => Role::Print,
        };
        let keep_open = args.keep_open || matches!(role, Role::Broker | Role::Chat);
        if role == Role::Echo {
            // An echo server answers with the client's own bytes and never reads stdin.
            let ignored = [
                (args.relay.quit_after_eof.is_some(), "-q/--quit-after-eof"),
                (args.relay.no_shutdown, "--no-shutdown"),
                (args.relay.send_only, "--send-only"),
                (args.repl.interactive, "-I/--interactive"),
                (args.send.send != SendMode::Raw, "--send"),
                (args.send.crlf, "-C/--crlf"),
            ];
            if let Some((_, flag)) = ignored.iter().find(|(given, _)| *given) {
                return Err(usage(format!(
                    "{flag} does not apply with --echo: an echo server sends back what it receives and never reads stdin"
                )));
            }
        }
        if keep_open {
            // With many clients, stdin ending neither half-closes nor ends anything (the server keeps
            // serving): these flags would be silently ignored, so they are refused.
            let mode = match role {
                Role::Broker => "--broker",
                Role::Chat => "--chat",
                _ => "-k",
            };
            if let Some(q) = args.relay.quit_after_eof {
                return Err(usage(format!(
                    "-q/--quit-after-eof {} does not apply with {mode}: stdin ending does not end a server of many clients (stop it with Ctrl-C)",
                    humantime::format_duration(q)
                )));
            }
            if args.relay.no_shutdown {
                return Err(usage(format!(
                    "--no-shutdown does not apply with {mode}: stdin ending never half-closes the clients there"
                )));
            }
        }
        // An echo server answers with the client's own bytes; stdin has no part in it.
        let reads_stdin = !args.relay.recv_only && role != Role::Echo;
        let repl_wanted = reads_stdin && args.repl.wanted();
        let input = (reads_stdin && !repl_wanted).then_some(InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: false,
        });
        let repl = repl_wanted.then(|| args.repl.setup(&args.send));
        Ok(Config {
            repl,
            tls: args.tls.server()?,
            at,
            #[cfg(unix)]
            unix,
            resolve: Resolve {
                family: Family::from_flags(args.family.ipv4, args.family.ipv6),
                numeric: args.family.numeric,
            },
            keep_open,
            max_conns: args.max_conns,
            access: Access::from_args(&args.allow, &args.deny)?,
            role,
            relay: (&args.relay).into(),
            raw_display: args.display.mode() == DisplayMode::Raw,
            input,
            verbose: args.relay.verbose,
        })
    }
}

pub async fn run(args: ListenArgs, out: Output) -> Result<ExitCode> {
    let cfg = Config::from_args(args)?;
    #[cfg(unix)]
    if let Some((addr, opts)) = &cfg.unix {
        // Held until the command returns (or a signal drops it): then the socket file goes.
        let (listener, _file) = crate::unix::listen(addr, *opts, 1024)?;
        eprintln!("sockkit: listening on {addr}");
        return serve(listener, cfg, None, out).await;
    }
    let listener = net::listen_tcp(&cfg.at, cfg.resolve, 1024).await?;
    let local = listener.local_addr()?;
    if cfg.verbose || cfg.at.port == 0 {
        eprintln!("sockkit: listening on {local}");
    }
    let tls = match &cfg.tls {
        Some(opts) => Some(tls::Server::new(opts, &cert_names(&cfg.at, local))?),
        None => None,
    };
    serve(listener, cfg, tls, out).await
}

/// Serves clients of `listener` (TCP or Unix; `tls` over TCP only): one, or many with -k.
async fn serve<L: Accept>(
    listener: L,
    cfg: Config,
    tls: Option<tls::Server>,
    out: Output,
) -> Result<ExitCode>
where
    L::Stream: Into<Conn>,
{
    let max_conns = if cfg.keep_open { cfg.max_conns } else { 1 };
    let gate = Gate::new(listener, cfg.access.clone(), max_conns);
    if cfg.keep_open {
        serve_many(gate, cfg, tls, out).await
    } else {
        serve_one(gate, cfg, tls, out).await
    }
}

/// The names a self-signed certificate is made for, besides `localhost` and the host's name: the
/// address listened on, or the loopback addresses when it is every address.
fn cert_names(at: &ListenAddr, local: std::net::SocketAddr) -> Vec<String> {
    let mut names: Vec<String> = at.host.iter().cloned().collect();
    if local.ip().is_unspecified() {
        names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    } else {
        names.push(local.ip().to_string());
    }
    names
}

/// One client: accept, stop listening, relay until the end-of-stream rules say stop.
async fn serve_one<L: Accept>(
    gate: Gate<L>,
    cfg: Config,
    tls: Option<tls::Server>,
    out: Output,
) -> Result<ExitCode>
where
    L::Stream: Into<Conn>,
{
    // stdin is read from the start, as nc does: what was typed before the client came is sent.
    let mut up = match cfg.role {
        Role::Echo => Up::Echo,
        _ => relay::stdin_up(cfg.input),
    };
    // With --tls, a client whose handshake fails is reported and the next one awaited: the
    // certificate (and a self-signed one's pin) stays the same for the client that gets it right.
    let (conn, peer, session): (Conn, _, _) = loop {
        let client = gate.next(|| {}).await;
        let peer = client.peer;
        if cfg.verbose {
            eprintln!("sockkit: connection from {peer}");
        }
        let conn: Conn = client.stream.into();
        match (&tls, conn) {
            (None, conn) => break (conn, peer, None),
            (Some(server), Conn::Tcp(tcp)) => {
                match server.accept(tcp, cfg.verbose.then_some("client")).await {
                    Ok((conn, session)) => break (conn, peer, Some(session)),
                    Err(e) => eprintln!("sockkit: {peer}: TLS handshake failed: {e:#}"),
                }
            }
            (Some(_), _) => anyhow::bail!("--tls is served over TCP only"),
        }
    };
    drop(gate);
    let label = StreamLabel {
        peer: None,
        direction: "received",
    };
    let send_only = cfg.relay.send_only;
    let summary = match &cfg.repl {
        None => {
            let down = relay::stdout_down(&out, 0, label, cfg.raw_display, send_only).await;
            let interactive = std::io::stdin().is_terminal();
            relay::relay_conn(conn, up, down, &cfg.relay, interactive).await
        }
        Some(setup) => {
            let mut repl = Attached::start(&out, format!("{peer}> "), setup, None).await?;
            let control = repl.take_control();
            up = Up::Queue(repl.input);
            let down = relay::stdout_down(&out, 0, label, false, send_only).await;
            let work = relay::relay_conn(conn, up, down, &cfg.relay, true);
            let Some(summary) = Attached::run(control, &out, work).await else {
                return Ok(ExitCode::Success);
            };
            if matches!(summary, Ok(ref s) if s.end == relay::End::PeerClosed) {
                eprintln!("sockkit: the client closed the connection");
            }
            summary
        }
    }?;
    if cfg.verbose {
        eprintln!(
            "sockkit: {peer}: {}{}",
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

/// Many clients at once, until a signal (or the REPL's /quit) ends the program.
async fn serve_many<L: Accept>(
    gate: Gate<L>,
    cfg: Config,
    tls: Option<tls::Server>,
    out: Output,
) -> Result<ExitCode>
where
    L::Stream: Into<Conn>,
{
    let mut hub = Hub {
        role: cfg.role,
        relay: cfg.relay.clone(),
        hold_lines: cfg.raw_display,
        verbose: cfg.verbose,
        on_change: None,
        target: None,
        open: tls.map(|server| tls_handshake(server, cfg.verbose)),
    };
    let Some(setup) = &cfg.repl else {
        let stdin = cfg.input.map(input::spawn);
        hub::serve(hub, gate, out, stdin).await?;
        return Ok(ExitCode::Success);
    };
    let peers = Arc::new(Peers::default());
    let mut repl = Attached::start(&out, "no clients> ".into(), setup, Some(peers.clone())).await?;
    let control = repl.take_control();
    hub.on_change = Some(Box::new(show_clients(peers.clone(), repl.prompt.clone())));
    hub.target = Some(Box::new(move || {
        peers
            .target
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|p| p.number)
    }));
    let work = hub::serve(hub, gate, out.clone(), Some(repl.input));
    match Attached::run(control, &out, work).await {
        Some(Err(e)) => Err(e),
        _ => Ok(ExitCode::Success),
    }
}

/// The hub's [`hub::Open`] step for `--tls`: each client's handshake, in its own task.
fn tls_handshake(server: tls::Server, verbose: bool) -> hub::Open {
    Box::new(move |conn, name| {
        let server = server.clone();
        Box::pin(async move {
            match conn {
                Conn::Tcp(tcp) => server
                    .accept(tcp, verbose.then_some(name.as_str()))
                    .await
                    .context("TLS handshake failed"),
                _ => Err(anyhow::anyhow!("TLS is served over TCP only")),
            }
        })
    })
}

/// Keeps the REPL's client list (`/peers`, `/to`) and prompt up to date.
fn show_clients(
    peers: Arc<Peers>,
    prompt: Arc<Mutex<String>>,
) -> impl Fn(&hub::Roster) + Send + Sync {
    move |roster| {
        // `/to` takes a client's number, or the address of a TCP client.
        let list: Vec<Peer> = roster
            .iter()
            .map(|(number, peer)| Peer {
                number: *number,
                addr: peer.clone(),
                desc: format!("client{number}"),
            })
            .collect();
        let n = list.len();
        *peers.list.lock().unwrap_or_else(|e| e.into_inner()) = list;
        *prompt.lock().unwrap_or_else(|e| e.into_inner()) = match n {
            0 => "no clients> ".to_string(),
            1 => "1 client> ".to_string(),
            n => format!("{n} clients> "),
        };
    }
}
