//! The only place that resolves names, binds, connects and sets socket options.
//!
//! Listeners without a host bind `[::]` with `IPV6_V6ONLY` off, so one socket (and one port, even when
//! the port is 0) takes IPv6 and IPv4 clients; on a machine without IPv6 they fall back to `0.0.0.0`.
//! Connections try every resolved address in order and report all of them when none answers.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::error::{describe_io, usage};

/// Which address families to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    #[default]
    Any,
    V4,
    V6,
}

impl Family {
    pub fn from_flags(v4: bool, v6: bool) -> Family {
        match (v4, v6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }

    fn allows(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// How names are turned into addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resolve {
    pub family: Family,
    /// Only numeric addresses; a name is a usage error.
    pub numeric: bool,
}

/// Parses a port argument, naming it in the error.
pub fn parse_port(text: &str) -> Result<u16> {
    text.parse::<u16>().map_err(|_| {
        usage(format!(
            "invalid port '{text}': expected a number from 0 to 65535"
        ))
    })
}

/// Strips the brackets of `[::1]` so IPv6 literals can be written either way.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Resolves `host` to the addresses to try, in the resolver's order, filtered by family.
pub async fn resolve(host: &str, port: u16, how: Resolve) -> Result<Vec<SocketAddr>> {
    let bare = unbracket(host);
    let addrs: Vec<SocketAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else if how.numeric {
        return Err(usage(format!(
            "'{host}' is not a numeric address and -n forbids name lookups"
        )));
    } else {
        tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| {
                anyhow::anyhow!("could not resolve host '{host}': {}", describe_lookup(&e))
            })?
            .collect()
    };
    let filtered: Vec<SocketAddr> = addrs.into_iter().filter(|a| how.family.allows(a)).collect();
    if filtered.is_empty() {
        let fam = match how.family {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
            Family::Any => "any",
        };
        bail!("host '{host}' has no {fam} address");
    }
    Ok(filtered)
}

fn describe_lookup(err: &io::Error) -> String {
    let text = err.to_string();
    if text.contains("Name or service not known") || text.contains("No address associated") {
        "no such host".to_string()
    } else if text.contains("Temporary failure") {
        "the name server could not be reached (temporary failure)".to_string()
    } else {
        describe_io(err)
    }
}

/// Options for an outgoing TCP connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectOpts {
    pub resolve: Resolve,
    pub source: Option<IpAddr>,
    pub source_port: Option<u16>,
    pub timeout: Option<Duration>,
    /// Appended to "connection refused" when every address refused (a hint for the user).
    pub refused_hint: &'static str,
    /// Keep trying refused connections for this long (waiting for a server to come up).
    pub retry: Option<Duration>,
}

/// Connects to `host:port`, trying each resolved address in order.
pub async fn connect(host: &str, port: u16, opts: &ConnectOpts) -> Result<TcpStream> {
    let addrs = resolve(host, port, opts.resolve).await?;
    let give_up = opts.retry.map(|r| tokio::time::Instant::now() + r);
    let mut pause = Duration::from_millis(10);
    let failures = loop {
        let mut failures = Vec::new();
        for addr in &addrs {
            match connect_one(*addr, opts).await {
                Ok(stream) => return Ok(stream),
                // A refused connect is ECONNREFUSED; a reset means the handshake completed and the
                // server reset the connection before we looked (tokio reads SO_ERROR after connect).
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ResetAfterAccept(display_addr(*addr)).into())
                }
                Err(e) => failures.push((*addr, e)),
            }
        }
        let refused = failures
            .iter()
            .all(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused);
        match give_up {
            Some(limit) if refused && tokio::time::Instant::now() + pause < limit => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            _ => break failures,
        }
    };
    let shown = if bare_is_ip(host) {
        format!(
            "{}",
            SocketAddr::new(unbracket(host).parse().unwrap(), port)
        )
    } else {
        format!("{host}:{port}")
    };
    let (_, last) = failures.last().expect("at least one address was tried");
    let mut cause = describe_io(last);
    if last.kind() == io::ErrorKind::ConnectionRefused && !opts.refused_hint.is_empty() {
        cause = format!("{cause} ({})", opts.refused_hint);
    }
    if failures.len() > 1 {
        let tried: Vec<String> = failures.iter().map(|(a, _)| a.to_string()).collect();
        bail!(
            "could not connect to {shown} (tried {}): {cause}",
            tried.join(", ")
        );
    }
    bail!("could not connect to {shown}: {cause}")
}

/// The server accepted the connection and reset it at once: the port is open, the connect succeeded,
/// and there is nothing to relay. Not "could not connect", which would send someone looking for a
/// firewall or a server that is not running.
#[derive(Debug)]
pub struct ResetAfterAccept(pub SocketAddr);

impl std::fmt::Display for ResetAfterAccept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connected to {}, but the server reset the connection at once (it accepted, then closed it)",
            self.0
        )
    }
}

impl std::error::Error for ResetAfterAccept {}

fn bare_is_ip(host: &str) -> bool {
    unbracket(host).parse::<IpAddr>().is_ok()
}

async fn connect_one(addr: SocketAddr, opts: &ConnectOpts) -> io::Result<TcpStream> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    if opts.source.is_some() || opts.source_port.is_some() {
        let ip = match (opts.source, addr) {
            (Some(ip), _) => ip,
            (None, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (None, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        if ip.is_ipv4() != addr.is_ipv4() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("source address {ip} is not of the same family as {addr}"),
            ));
        }
        // On Unix SO_REUSEADDR lets a source port in TIME_WAIT be used again; on Windows it would
        // let this socket take a port another socket is bound to, so it stays off there.
        if cfg!(unix) {
            socket.set_reuseaddr(true)?;
        }
        socket.bind(SocketAddr::new(ip, opts.source_port.unwrap_or(0)))?;
    }
    let fut = socket.connect(addr);
    let stream = match opts.timeout {
        Some(t) => tokio::time::timeout(t, fut).await.map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {}", humantime::format_duration(t)),
            )
        })??,
        None => fut.await?,
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Where to listen: a parsed `[HOST] PORT`.
#[derive(Debug, Clone)]
pub struct ListenAddr {
    pub host: Option<String>,
    pub port: u16,
}

impl ListenAddr {
    /// Parses the positional `[HOST] PORT` words and an optional `-p PORT`.
    pub fn from_args(words: &[String], port_flag: Option<u16>) -> Result<ListenAddr> {
        if let ([host], Some(_)) | ([host, _], None) = (words, port_flag) {
            if host.trim().is_empty() {
                return Err(usage(
                    "invalid value '' for HOST: the host is empty (leave it out to listen on every address)",
                ));
            }
        }
        match (words, port_flag) {
            ([], Some(port)) => Ok(ListenAddr { host: None, port }),
            ([host], Some(port)) => Ok(ListenAddr {
                host: Some(host.clone()),
                port,
            }),
            ([port], None) => Ok(ListenAddr {
                host: None,
                port: parse_port(port)?,
            }),
            ([host, port], None) => Ok(ListenAddr {
                host: Some(host.clone()),
                port: parse_port(port)?,
            }),
            ([], None) => Err(usage(
                "a port to listen on is required (for example: sockkit listen 12345)",
            )),
            _ => Err(usage(
                "too many addresses: give [HOST] PORT, or -p PORT with an optional HOST",
            )),
        }
    }

    /// The socket addresses to bind: `[::]` dual-stack when no host is given.
    async fn bind_addrs(&self, how: Resolve) -> Result<Vec<SocketAddr>> {
        match &self.host {
            None => Ok(match how.family {
                Family::V4 => vec![SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), self.port)],
                Family::V6 | Family::Any => {
                    vec![SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), self.port)]
                }
            }),
            Some(host) => resolve(host, self.port, how).await,
        }
    }
}

/// Creates a socket bound to `addr`, dual-stack when it is the IPv6 wildcard and `dual` is set.
fn bound_socket(addr: SocketAddr, ty: Type, dual: bool) -> io::Result<Socket> {
    let domain = Domain::for_address(addr);
    let proto = if ty == Type::STREAM {
        Protocol::TCP
    } else {
        Protocol::UDP
    };
    let socket = Socket::new(domain, ty, Some(proto))?;
    if addr.is_ipv6() {
        socket.set_only_v6(!dual)?;
    }
    // A restarted server must not wait for the last one's connections in TIME_WAIT (Unix). On
    // Windows SO_REUSEADDR means another thing (two listeners on one port), so it stays off there,
    // as tokio and std leave it.
    if ty == Type::STREAM && cfg!(unix) {
        socket.set_reuse_address(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&SockAddr::from(addr))?;
    Ok(socket)
}

fn bind_error(addr: SocketAddr, err: &io::Error) -> anyhow::Error {
    let mut text = format!("failed to bind {addr}: {}", describe_io(err));
    if err.kind() == io::ErrorKind::AddrInUse {
        text.push_str(" (is another server on that port? pick another port or 0 for any)");
    } else if err.kind() == io::ErrorKind::PermissionDenied && addr.port() < 1024 {
        text.push_str(" (ports below 1024 need root)");
    }
    anyhow::anyhow!(text)
}

/// Binds a TCP listener; falls back from `[::]` to `0.0.0.0` where IPv6 is missing.
pub async fn listen_tcp(at: &ListenAddr, how: Resolve, backlog: i32) -> Result<TcpListener> {
    let addrs = at.bind_addrs(how).await?;
    let dual = at.host.is_none() && how.family == Family::Any;
    let mut last = None;
    for addr in addrs {
        let attempt = bound_socket(addr, Type::STREAM, dual).and_then(|s| {
            s.listen(backlog)?;
            TcpListener::from_std(s.into())
        });
        match attempt {
            Ok(l) => return Ok(l),
            Err(e) if dual && addr.is_ipv6() && is_no_ipv6(&e) => {
                let v4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), at.port);
                let s = bound_socket(v4, Type::STREAM, false).map_err(|e| bind_error(v4, &e))?;
                s.listen(backlog).map_err(|e| bind_error(v4, &e))?;
                return TcpListener::from_std(s.into()).map_err(|e| bind_error(v4, &e));
            }
            Err(e) => last = Some(bind_error(addr, &e)),
        }
    }
    Err(last.expect("at least one address"))
}

/// Binds a UDP socket for listening; dual-stack without a host.
pub async fn listen_udp(at: &ListenAddr, how: Resolve) -> Result<UdpSocket> {
    let addrs = at.bind_addrs(how).await?;
    let dual = at.host.is_none() && how.family == Family::Any;
    let mut last = None;
    for addr in addrs {
        match bound_socket(addr, Type::DGRAM, dual).and_then(|s| UdpSocket::from_std(s.into())) {
            Ok(s) => return Ok(s),
            Err(e) if dual && addr.is_ipv6() && is_no_ipv6(&e) => {
                let v4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), at.port);
                let s = bound_socket(v4, Type::DGRAM, false).map_err(|e| bind_error(v4, &e))?;
                return UdpSocket::from_std(s.into()).map_err(|e| bind_error(v4, &e));
            }
            Err(e) => last = Some(bind_error(addr, &e)),
        }
    }
    Err(last.expect("at least one address"))
}

/// Sets a socket's receive buffer (`SO_RCVBUF`) and returns the size the kernel gave, in the same
/// units as asked: the kernel caps the request at the system's limit (`net.core.rmem_max` on Linux)
/// without an error, and Linux reports twice the usable size (it counts its bookkeeping).
pub fn set_recv_buffer(socket: &UdpSocket, want: usize) -> io::Result<usize> {
    let sock = socket2::SockRef::from(socket);
    sock.set_recv_buffer_size(want)?;
    let got = sock.recv_buffer_size()?;
    Ok(if cfg!(target_os = "linux") {
        got / 2
    } else {
        got
    })
}

/// A UDP socket connected to `addr` (so ICMP port-unreachable comes back as an error).
pub fn udp_connected(addr: SocketAddr) -> Result<std::net::UdpSocket> {
    let local: SocketAddr = if addr.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = std::net::UdpSocket::bind(local)
        .with_context(|| format!("failed to create a UDP socket for {addr}"))?;
    sock.connect(addr)
        .map_err(|e| anyhow::anyhow!("cannot send to {addr}: {}", describe_io(&e)))?;
    Ok(sock)
}

/// Whether creating or binding an IPv6 socket failed because the machine has no IPv6.
fn is_no_ipv6(err: &io::Error) -> bool {
    // EAFNOSUPPORT and EPROTONOSUPPORT have no io::ErrorKind of their own: compared by number,
    // which is the errno on Unix and the WSA code on Windows.
    #[cfg(unix)]
    const NO_IPV6: [i32; 2] = [
        nix::errno::Errno::EAFNOSUPPORT as i32,
        nix::errno::Errno::EPROTONOSUPPORT as i32,
    ];
    #[cfg(windows)]
    const NO_IPV6: [i32; 2] = [10047, 10043]; // WSAEAFNOSUPPORT, WSAEPROTONOSUPPORT
    #[cfg(not(any(unix, windows)))]
    const NO_IPV6: [i32; 0] = [];
    err.kind() == io::ErrorKind::AddrNotAvailable
        || err
            .raw_os_error()
            .is_some_and(|code| NO_IPV6.contains(&code))
}

/// Shows an address the way people read it: IPv4-mapped IPv6 addresses as plain IPv4.
pub fn display_addr(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

/// Raises the soft limit on open files to the hard limit (servers holding thousands of clients need
/// it); returns the limit now in force.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 here, u32 on 32-bit Linux, i64 on FreeBSD
pub fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    // macOS refuses a soft limit above OPEN_MAX (10240) even when the hard limit is unlimited.
    for want in [hard, hard.min(10_240)] {
        if want <= soft {
            break;
        }
        if setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_ok() {
            return want as u64;
        }
    }
    soft as u64
}

/// Where sockets are not file descriptors (Windows) there is no such limit to raise.
#[cfg(not(unix))]
pub fn raise_fd_limit() -> u64 {
    u64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_words() {
        let a = ListenAddr::from_args(&["12345".into()], None).unwrap();
        assert_eq!((a.host, a.port), (None, 12345));
        let a = ListenAddr::from_args(&["::1".into(), "80".into()], None).unwrap();
        assert_eq!((a.host.as_deref(), a.port), (Some("::1"), 80));
        assert!(ListenAddr::from_args(&["99999".into()], None).is_err());
        assert!(ListenAddr::from_args(&[], None).is_err());
        assert!(ListenAddr::from_args(&["".into(), "80".into()], None).is_err());
        assert!(ListenAddr::from_args(&["".into()], Some(80)).is_err());
    }

    #[test]
    fn mapped_addresses_shown_as_v4() {
        let a: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
        assert_eq!(display_addr(a).to_string(), "127.0.0.1:5");
    }
}
