//! `sockkit relay LISTEN TARGET`: a port forwarder that shows what passes. Each client gets a
//! connection of its own to TARGET; the engine copies both ways (the client is its peer, the target
//! its up and down), passing each side's end and resets on to the other, and a [`Show`] tap copies
//! each direction to stdout as a stream of its own. Either side may be TCP, TLS (`--listen-tls`,
//! `--target-tls`) or a Unix socket (a path, or `@name`): they all become a [`Conn`].
//!
//! Bounds: per connection, at most one read (64 KiB) in flight each way, plus what the display
//! queue holds (a few messages) when stdout is slower than the relay; a slow side is not read from
//! until the other has taken what it sent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;

use crate::accept::{Accept, Admitted, Gate, Peer};
use crate::access::Access;
use crate::cli::RelayCmdArgs;
use crate::conn::Conn;
use crate::error::{usage, ExitCode};
use crate::net::{self, ConnectOpts, Family, ListenAddr, Resolve};
use crate::output::Output;
use crate::relay::engine::{self, Down, Settings, Tap, Up};
use crate::relay::lines::LineHold;
use crate::relay::policy::{AfterPeer, Rules};
use crate::relay::Side;
use crate::render::{DisplayMode, StreamLabel};
use crate::tls;
use crate::units::byte_count;
#[cfg(unix)]
use crate::unix::UnixAddr;

/// Where the relay listens.
enum ListenAt {
    Tcp(ListenAddr),
    #[cfg(unix)]
    Unix(UnixAddr),
}

/// Where each client is forwarded.
enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    #[cfg(unix)]
    Unix(UnixAddr),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            #[cfg(unix)]
            Target::Unix(a) => a.fmt(f),
        }
    }
}

/// Whether an endpoint names a Unix socket: a path (`/`, `./`, `../`) or an abstract `@name`.
fn is_unix(text: &str) -> bool {
    text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with('@')
}

impl ListenAt {
    #[cfg(unix)]
    fn unix(text: &str) -> Result<ListenAt> {
        Ok(ListenAt::Unix(UnixAddr::parse(text)?))
    }

    #[cfg(not(unix))]
    fn unix(text: &str) -> Result<ListenAt> {
        Err(no_unix(text))
    }
}

impl Target {
    #[cfg(unix)]
    fn unix(text: &str) -> Result<Target> {
        Ok(Target::Unix(UnixAddr::parse(text)?))
    }

    #[cfg(not(unix))]
    fn unix(text: &str) -> Result<Target> {
        Err(no_unix(text))
    }
}

#[cfg(not(unix))]
fn no_unix(text: &str) -> anyhow::Error {
    usage(format!(
        "'{text}' names a Unix socket, which this system does not have"
    ))
}

/// A validated `relay` command line.
struct Config {
    at: ListenAt,
    resolve: Resolve,
    target: Target,
    connect: ConnectOpts,
    /// `--listen-tls`: made once the address is bound (a self-signed certificate names it).
    listen_tls: Option<tls::ServerOpts>,
    /// `--target-tls`.
    target_tls: Option<tls::Client>,
    access: Access,
    max_conns: usize,
    idle_timeout: Option<Duration>,
    /// What passes is shown on stdout.
    show: bool,
    /// Shown raw: partial lines are held so connections do not mix within a line.
    raw: bool,
    verbose: bool,
}

impl Config {
    fn from_args(args: RelayCmdArgs) -> Result<Config> {
        let resolve = Resolve {
            family: Family::from_flags(args.family.ipv4, args.family.ipv6),
            numeric: args.family.numeric,
        };
        let at = if is_unix(&args.listen) {
            ListenAt::unix(&args.listen)?
        } else {
            ListenAt::Tcp(match split_host_port(&args.listen) {
                Some((host, port)) => ListenAddr::from_args(&[host, port], None)?,
                None => ListenAddr::from_args(std::slice::from_ref(&args.listen), None)?,
            })
        };
        let target = if is_unix(&args.target) {
            Target::unix(&args.target)?
        } else {
            let (host, port) = split_host_port(&args.target).ok_or_else(|| {
                usage(format!(
                    "invalid target '{}': expected HOST:PORT (an IPv6 address in brackets: [::1]:80) or a Unix socket path",
                    args.target
                ))
            })?;
            if host.is_empty() {
                return Err(usage(format!(
                    "invalid target '{}': the host is empty",
                    args.target
                )));
            }
            let port = net::parse_port(&port)?;
            if port == 0 {
                return Err(usage(
                    "invalid target port '0': give the port the target listens on",
                ));
            }
            Target::Tcp { host, port }
        };
        let tcp_listener = matches!(at, ListenAt::Tcp(_));
        let filtered = !(args.allow.is_empty() && args.deny.is_empty());
        if filtered && !tcp_listener {
            return Err(usage(
                "--allow and --deny judge IP addresses: a Unix socket's clients are let in by its file's permissions",
            ));
        }
        if args.listen_tls && !tcp_listener {
            return Err(usage("--listen-tls is served over TCP only"));
        }
        let target_tls = match (&target, args.target_tls) {
            (_, false) => None,
            (Target::Tcp { host, .. }, true) => {
                let opts = tls::ClientOpts {
                    ca: args.ca.clone(),
                    pins: args.pin.clone(),
                    insecure: args.insecure,
                    sni: args.sni.clone(),
                    alpn: Vec::new(),
                    cert: None,
                };
                if opts.insecure {
                    eprintln!("sockkit: warning: --insecure: the target's certificate is not verified; anyone on the path can read and change the data");
                }
                Some(tls::Client::new(&opts, host)?)
            }
            #[cfg(unix)]
            (Target::Unix(_), true) => return Err(usage("--target-tls is spoken over TCP only")),
        };
        let listen_tls = args.listen_tls.then(|| tls::ServerOpts {
            cert: args.cert.clone().zip(args.key.clone()),
            client_ca: args.client_ca.clone(),
            alpn: Vec::new(),
        });
        let raw = args.display.mode() == DisplayMode::Raw;
        Ok(Config {
            at,
            resolve,
            target,
            listen_tls,
            target_tls,
            connect: ConnectOpts {
                resolve,
                source: None,
                source_port: None,
                timeout: args.connect_timeout,
                refused_hint: "is the target listening?",
                retry: None,
            },
            access: Access::from_args(&args.allow, &args.deny)?,
            max_conns: args.max_conns,
            idle_timeout: args.idle_timeout,
            show: !raw || args.show,
            raw,
            verbose: args.verbose,
        })
    }
}

/// `HOST:PORT` or `[V6]:PORT` into host and port; `None` without a colon outside brackets.
fn split_host_port(text: &str) -> Option<(String, String)> {
    let (host, port) = text.rsplit_once(':')?;
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        // A bare IPv6 address: its port cannot be told from its last group.
        return None;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_string(), port.to_string()))
}

pub async fn run(args: RelayCmdArgs, out: Output) -> Result<ExitCode> {
    let cfg = Config::from_args(args)?;
    match &cfg.at {
        ListenAt::Tcp(at) => {
            let listener = net::listen_tcp(at, cfg.resolve, 1024).await?;
            let local = listener.local_addr()?;
            if cfg.verbose || at.port == 0 {
                eprintln!("sockkit: listening on {local}");
            }
            let tls = match &cfg.listen_tls {
                Some(opts) => {
                    let mut names: Vec<String> = at.host.iter().cloned().collect();
                    names.push(local.ip().to_string());
                    Some(tls::Server::new(opts, &names)?)
                }
                None => None,
            };
            serve(listener, Arc::new(cfg), tls, out).await
        }
        #[cfg(unix)]
        ListenAt::Unix(addr) => {
            // Held until the command returns (or a signal ends it): then the socket file goes.
            let (listener, _file) =
                crate::unix::listen(addr, crate::unix::BindOpts::default(), 1024)?;
            eprintln!("sockkit: listening on {addr}");
            serve(listener, Arc::new(cfg), None, out).await
        }
    }
}

/// Accepts clients until a signal, each relayed in a task of its own.
async fn serve<L: Accept>(
    listener: L,
    cfg: Arc<Config>,
    tls: Option<tls::Server>,
    out: Output,
) -> Result<ExitCode>
where
    L::Stream: Into<Conn>,
{
    let gate = Gate::new(listener, cfg.access.clone(), cfg.max_conns);
    let mut number = 0u64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(crate::stopped());
    loop {
        let client = tokio::select! {
            client = gate.next(|| {}) => client,
            () = &mut stop => {
                // Each connection's engine shows what it holds and ends; the caller bounds the wait.
                while tasks.join_next().await.is_some() {}
                return Ok(ExitCode::Success);
            }
        };
        while tasks.try_join_next().is_some() {}
        number += 1;
        let client = Admitted {
            stream: client.stream.into(),
            peer: client.peer.into(),
            slot: client.slot,
        };
        tasks.spawn(relay_one(
            client,
            number,
            cfg.clone(),
            tls.clone(),
            out.clone(),
        ));
    }
}

/// One client: its TLS handshake if any, the target's connection, then the relay both ways until
/// both sides have ended; then how it went.
async fn relay_one(
    client: Admitted<Conn, Peer>,
    n: u64,
    cfg: Arc<Config>,
    tls: Option<tls::Server>,
    out: Output,
) {
    let Admitted { stream, peer, slot } = client;
    match open(stream, n, &cfg, tls.as_ref()).await {
        Ok((client, target)) => serve_one(client, target, n, &peer, &cfg, &out).await,
        Err(e) => eprintln!("sockkit: #{n} {peer}: {e:#}"),
    }
    drop(slot);
}

/// The client's connection (after its TLS handshake) and the target's.
async fn open(
    client: Conn,
    n: u64,
    cfg: &Config,
    tls: Option<&tls::Server>,
) -> Result<(Conn, Conn)> {
    let verbose = cfg.verbose.then(|| format!("#{n} client"));
    let client = match (tls, client) {
        (Some(server), Conn::Tcp(tcp)) => {
            server
                .accept(tcp, verbose.as_deref())
                .await
                .context("TLS handshake with the client failed")?
                .0
        }
        (_, conn) => conn,
    };
    let target: Conn = match &cfg.target {
        Target::Tcp { host, port } => {
            let tcp = net::connect(host, *port, &cfg.connect).await?;
            match &cfg.target_tls {
                Some(c) => {
                    c.connect(tcp, cfg.verbose, cfg.connect.timeout)
                        .await
                        .with_context(|| format!("TLS handshake with {}", cfg.target))?
                        .0
                }
                None => tcp.into(),
            }
        }
        #[cfg(unix)]
        Target::Unix(addr) => crate::unix::connect(addr, cfg.connect.timeout, None)
            .await?
            .into(),
    };
    if cfg.verbose {
        eprintln!("sockkit: #{n} -> {}: connected", cfg.target);
    }
    Ok((client, target))
}

async fn serve_one(client: Conn, target: Conn, n: u64, peer: &Peer, cfg: &Config, out: &Output) {
    let mut show = Show::new(n, cfg, out).await;
    let (client_r, client_w) = client.split();
    let (target_r, target_w) = target.split();
    let settings = Settings {
        rules: Rules {
            half_close: true,
            quit_after_eof: None,
            idle_timeout: cfg.idle_timeout,
            send_only: false,
            after_peer: AfterPeer::Continue,
        },
        verbose: false,
        progress: false,
    };
    let result = engine::run(
        client_r,
        client_w,
        Up::stream(target_r),
        Down::Stream(target_w),
        &mut show,
        &settings,
    )
    .await;
    match result {
        Ok(s) if cfg.verbose => {
            let first = match s.first_end {
                Some(Side::Peer) => "the client ended first",
                Some(Side::Up) => "the target ended first",
                None => "neither ended",
            };
            eprintln!(
                "sockkit: #{n} {peer} closed ({first}): client -> server {}, server -> client {} in {:.2}s",
                byte_count(s.received),
                byte_count(s.sent),
                s.elapsed.as_secs_f64()
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!("sockkit: #{n} {peer}: {e:#}"),
    }
}

/// Shows both directions of one relayed connection, each as a stream of its own.
struct Show {
    out: Output,
    /// The stream ids of client -> server and server -> client, when shown.
    ids: Option<(u64, u64)>,
    /// Raw display: each direction's partial line.
    holds: Option<(LineHold, LineHold)>,
}

impl Show {
    async fn new(n: u64, cfg: &Config, out: &Output) -> Show {
        let ids = cfg.show.then_some((2 * n, 2 * n + 1));
        if let Some((up, down)) = ids {
            for (id, direction) in [(up, "client -> server"), (down, "server -> client")] {
                let label = StreamLabel {
                    peer: Some(format!("#{n} {direction}")),
                    direction: "",
                };
                out.open(id, label).await;
            }
        }
        Show {
            out: out.clone(),
            ids,
            holds: (cfg.show && cfg.raw).then(|| (LineHold::default(), LineHold::default())),
        }
    }

    /// Shows `data` on the stream of one direction (`second`: server -> client).
    async fn show(&mut self, data: &Bytes, second: bool) {
        let Some(ids) = self.ids else { return };
        let id = if second { ids.1 } else { ids.0 };
        let shown = match &mut self.holds {
            Some((a, b)) => {
                let hold = if second { b } else { a };
                hold.push(data.clone(), Instant::now())
            }
            None => Some(data.clone()),
        };
        if let Some(bytes) = shown {
            self.out.data(id, bytes).await;
        }
    }
}

impl Tap for Show {
    async fn received(&mut self, data: Bytes) -> Option<Bytes> {
        self.show(&data, false).await;
        Some(data)
    }

    async fn sending(&mut self, data: &Bytes) {
        self.show(data, true).await;
    }

    async fn flush(&mut self, now: Instant, end: bool) -> Option<Bytes> {
        let (up, down) = self.ids?;
        if let Some((a, b)) = &mut self.holds {
            let held = [(up, a.flush(now, end)), (down, b.flush(now, end))];
            for (id, bytes) in held {
                if let Some(bytes) = bytes {
                    self.out.data(id, bytes).await;
                }
            }
        }
        if end {
            self.out.close(up).await;
            self.out.close(down).await;
        }
        // Nothing is held back from the target: only the display's copies wait.
        None
    }

    fn deadline(&self) -> Option<Instant> {
        let (a, b) = self.holds.as_ref()?;
        [a.due, b.due].into_iter().flatten().min()
    }

    fn transparent(&self) -> bool {
        self.ids.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        let hp = |t: &str| split_host_port(t);
        assert_eq!(
            hp("example.com:80"),
            Some(("example.com".into(), "80".into()))
        );
        assert_eq!(hp("[::1]:80"), Some(("::1".into(), "80".into())));
        assert_eq!(hp("127.0.0.1:0"), Some(("127.0.0.1".into(), "0".into())));
        assert_eq!(hp("8080"), None);
        assert_eq!(hp("::1:80"), None, "a bare IPv6 address is ambiguous");
    }
}
