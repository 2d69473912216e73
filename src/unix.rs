//! Unix domain sockets (`-U PATH`): parsing the path, connecting, binding listeners and datagram
//! sockets, and the socket file's life: a stale socket (one nobody listens on) is replaced, a live
//! one is "in use", anything that is not a socket is left alone, and the file sockkit created is
//! removed when its [`SocketFile`] guard drops, on every way out (the commands hold it until they
//! return, and a signal ends them by returning).
//!
//! `@name` is the Linux abstract namespace (no file, nothing to clean up), written as `ss` shows it;
//! elsewhere it is a usage error. Everything here is Unix-only; the module is declared
//! `#[cfg(unix)]` and other systems refuse `-U` in the commands.

use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Result};
use socket2::{Domain, SockAddr, Socket, Type};
use tokio::net::{UnixDatagram, UnixListener, UnixStream};

use crate::accept::{Accept, Peer};
use crate::error::{describe_io, usage};
use crate::escape::escape_into;

/// The room for a path in `sockaddr_un` (`sun_path`), its closing NUL included.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SUN_PATH: usize = 108;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SUN_PATH: usize = 104;

/// Where a Unix socket is: a file system path, or (Linux) a name in the abstract namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UnixAddr {
    Path(PathBuf),
    /// The name without its leading NUL (shown as `@name`).
    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    Abstract(Vec<u8>),
}

/// As `ss -x` shows it, with unprintable characters escaped: a sender chooses its own name, and
/// the name reaches the terminal (`--show-sender`, `-v`).
impl fmt::Display for UnixAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = Vec::new();
        match self {
            UnixAddr::Path(p) => escape_into(p.as_os_str().as_bytes(), &mut shown),
            UnixAddr::Abstract(name) => {
                shown.push(b'@');
                escape_into(name, &mut shown);
            }
        }
        f.write_str(&String::from_utf8_lossy(&shown))
    }
}

impl UnixAddr {
    /// Parses `-U PATH`: `@name` is abstract (Linux only); a path must fit in `sun_path`.
    pub(crate) fn parse(text: &str) -> Result<UnixAddr> {
        if text.is_empty() {
            return Err(usage("invalid value '' for -U: the socket path is empty"));
        }
        if let Some(name) = text.strip_prefix('@') {
            if !cfg!(any(target_os = "linux", target_os = "android")) {
                return Err(usage(format!(
                    "-U {text}: '@' names a socket in Linux's abstract namespace, which this system does not have (give a file path)"
                )));
            }
            // A NUL in front instead of one at the end: the same room.
            if name.len() + 1 > SUN_PATH {
                return Err(usage(format!(
                    "-U {text}: the abstract name is {} bytes long; at most {} fit",
                    name.len(),
                    SUN_PATH - 1
                )));
            }
            return Ok(UnixAddr::Abstract(name.as_bytes().to_vec()));
        }
        if text.len() >= SUN_PATH {
            return Err(usage(format!(
                "-U {text}: the socket path is {} bytes long; at most {} fit in a Unix socket address on this system (use a shorter or relative path)",
                text.len(),
                SUN_PATH - 1
            )));
        }
        Ok(UnixAddr::Path(PathBuf::from(text)))
    }

    /// The socket address (socket2 takes a leading NUL as the abstract namespace).
    pub(crate) fn sock_addr(&self) -> io::Result<SockAddr> {
        match self {
            UnixAddr::Path(p) => SockAddr::unix(p),
            UnixAddr::Abstract(name) => {
                let mut bytes = vec![0u8];
                bytes.extend_from_slice(name);
                SockAddr::unix(std::ffi::OsStr::from_bytes(&bytes))
            }
        }
    }

    /// A sender's or client's address as the kernel gave it (`None`: an unnamed socket).
    pub(crate) fn from_peer(addr: &tokio::net::unix::SocketAddr) -> Option<UnixAddr> {
        if let Some(p) = addr.as_pathname() {
            return Some(UnixAddr::Path(p.to_path_buf()));
        }
        // Only Linux has the abstract namespace (and tokio the accessor for it).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = addr.as_abstract_name() {
            return Some(UnixAddr::Abstract(name.to_vec()));
        }
        None
    }
}

/// What went wrong with a socket at `addr`, in one line that names it. The hints are a client's
/// (connect, send): a server binding in a missing directory gets its own.
fn failed(what: &str, addr: &UnixAddr, err: &io::Error) -> anyhow::Error {
    let binding = what.starts_with("cannot bind") || what.starts_with("cannot listen");
    let hint = match (err.kind(), addr) {
        (io::ErrorKind::NotFound, UnixAddr::Path(_)) if binding => {
            " (its directory does not exist)"
        }
        (_, _) if binding => "",
        (io::ErrorKind::NotFound, UnixAddr::Path(_)) => {
            " (no such socket file: is the server running?)"
        }
        (io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused, UnixAddr::Abstract(_)) => {
            " (nobody listens on that abstract name)"
        }
        (io::ErrorKind::ConnectionRefused, UnixAddr::Path(p)) if !is_socket(p) => {
            " (it is not a socket)"
        }
        (io::ErrorKind::ConnectionRefused, UnixAddr::Path(_)) => {
            " (a stale socket: nobody listens on it)"
        }
        _ => "",
    };
    anyhow!("{what} {addr}: {}{hint}", describe_io(err))
}

/// Whether a failure means the server is not there yet: no socket file, or nobody listening on it.
fn not_there_yet(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// Runs `attempt` until it succeeds, fails otherwise, or `retry` (`--retry`) has passed while the
/// server was not there yet; the pauses grow from 10 ms to 250 ms, as TCP's retries do.
async fn with_retry<T, F: std::future::Future<Output = io::Result<T>>>(
    retry: Option<Duration>,
    mut attempt: impl FnMut() -> F,
) -> io::Result<T> {
    let give_up = retry.map(|r| tokio::time::Instant::now() + r);
    let mut pause = Duration::from_millis(10);
    loop {
        match attempt().await {
            Err(e)
                if not_there_yet(&e)
                    && give_up.is_some_and(|g| tokio::time::Instant::now() + pause < g) =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            result => return result,
        }
    }
}

/// Connects a stream socket to `addr`, waiting up to `retry` for a server to appear.
pub(crate) async fn connect(
    addr: &UnixAddr,
    timeout: Option<Duration>,
    retry: Option<Duration>,
) -> Result<UnixStream> {
    with_retry(retry, || connect_once(addr, timeout))
        .await
        .map_err(|e| failed("could not connect to", addr, &e))
}

async fn connect_once(addr: &UnixAddr, timeout: Option<Duration>) -> io::Result<UnixStream> {
    let attempt = async {
        let sa = addr.sock_addr()?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(&sa) {
            Ok(()) => {}
            // A full backlog: wait until the connection completes.
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let stream = UnixStream::from_std(std::os::unix::net::UnixStream::from(
            std::os::fd::OwnedFd::from(socket),
        ))?;
        stream.writable().await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        Ok(stream)
    };
    let result = match timeout {
        Some(t) => tokio::time::timeout(t, attempt).await.unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {}", humantime::format_duration(t)),
            ))
        }),
        None => attempt.await,
    };
    result
}

/// The socket file sockkit bound: removed when this drops, if it is still the one sockkit made.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: Option<PathBuf>,
    /// What identifies the file bound, so a file someone put there since is left alone: a socket,
    /// its device and inode, and its change time (an inode number is soon used again).
    id: FileId,
}

type FileId = (u64, u64, i64, i64);

fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    meta.file_type()
        .is_socket()
        .then(|| (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()))
}

impl SocketFile {
    fn none() -> SocketFile {
        SocketFile {
            path: None,
            id: (0, 0, 0, 0),
        }
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if file_id(&meta) == Some(self.id) {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// How a listening or datagram socket is bound.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BindOpts {
    /// The socket file's permissions (`--unix-mode`); `None`: as the umask leaves them.
    pub mode: Option<u32>,
}

/// Makes room for a socket at `path`: nothing there, or a stale socket (removed). A socket someone
/// listens on is "in use"; anything else is left alone and refused.
fn clear_stale(addr: &UnixAddr, path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed("cannot bind", addr, &e)),
    };
    if !meta.file_type().is_socket() {
        return Err(anyhow!(
            "cannot bind {addr}: it exists and is not a socket (left as it is; remove it or pick another path)"
        ));
    }
    if bound_by_someone(path) {
        return Err(in_use(addr));
    }
    // A stream connect tells them apart: refused is a socket nobody holds; a socket of the other
    // type (EPROTOTYPE) or an accepted connection is someone's (who then sees a client come and
    // go: on Linux the kernel's list above spares it that, in all but odd cases).
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(in_use(addr)),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EPROTOTYPE as i32) => {
            Err(in_use(addr))
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .or_else(|e| match e.kind() {
                io::ErrorKind::NotFound => Ok(()),
                _ => Err(e),
            })
            .map_err(|e| failed("cannot replace the stale socket", addr, &e)),
        Err(e) => Err(failed("cannot bind", addr, &e)),
    }
}

/// Whether the kernel lists a socket bound at `path` (Linux's `/proc/net/unix`), so a live server is
/// found without connecting to it. A name bound relative to another directory is not recognised;
/// the connect test then decides.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn bound_by_someone(path: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return false;
    };
    let absolute = std::path::absolute(path).ok();
    table.lines().skip(1).any(|line| {
        line.split_whitespace().nth(7).is_some_and(|name| {
            Path::new(name) == path || absolute.as_deref() == Some(Path::new(name))
        })
    })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn bound_by_someone(_path: &Path) -> bool {
    false
}

fn is_socket(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

fn in_use(addr: &UnixAddr) -> anyhow::Error {
    anyhow!("cannot bind {addr}: in use (another program listens there)")
}

/// A socket of type `ty` bound at `addr`, with a stale socket file replaced and `opts.mode` applied.
fn bound(addr: &UnixAddr, ty: Type, opts: BindOpts) -> Result<(Socket, SocketFile)> {
    if let UnixAddr::Path(path) = addr {
        clear_stale(addr, path)?;
    }
    let sa = addr
        .sock_addr()
        .map_err(|e| failed("cannot bind", addr, &e))?;
    let socket =
        Socket::new(Domain::UNIX, ty, None).map_err(|e| failed("cannot bind", addr, &e))?;
    socket.bind(&sa).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => in_use(addr),
        _ => failed("cannot bind", addr, &e),
    })?;
    let mut file = SocketFile::none();
    if let UnixAddr::Path(path) = addr {
        let id = || {
            std::fs::symlink_metadata(path)
                .ok()
                .as_ref()
                .and_then(file_id)
        };
        // The guard first, so that the file goes if what follows fails.
        if let Some(id) = id() {
            file = SocketFile {
                path: Some(path.clone()),
                id,
            };
        }
        if let Some(mode) = opts.mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| failed("cannot set the permissions of", addr, &e))?;
            // The chmod changed the change time.
            if let Some(id) = id() {
                file.id = id;
            }
        }
    }
    socket
        .set_nonblocking(true)
        .map_err(|e| failed("cannot bind", addr, &e))?;
    Ok((socket, file))
}

/// A listening stream socket at `addr`, and the guard that removes its file.
pub(crate) fn listen(
    addr: &UnixAddr,
    opts: BindOpts,
    backlog: i32,
) -> Result<(UnixListener, SocketFile)> {
    let (socket, file) = bound(addr, Type::STREAM, opts)?;
    socket
        .listen(backlog)
        .map_err(|e| failed("cannot listen on", addr, &e))?;
    let std = std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(socket));
    let listener = UnixListener::from_std(std).map_err(|e| failed("cannot listen on", addr, &e))?;
    Ok((listener, file))
}

/// A datagram socket bound at `addr`, and the guard that removes its file.
pub(crate) fn bind_datagram(addr: &UnixAddr, opts: BindOpts) -> Result<(UnixDatagram, SocketFile)> {
    let (socket, file) = bound(addr, Type::DGRAM, opts)?;
    let std = std::os::unix::net::UnixDatagram::from(std::os::fd::OwnedFd::from(socket));
    let dgram = UnixDatagram::from_std(std).map_err(|e| failed("cannot bind", addr, &e))?;
    Ok((dgram, file))
}

/// The reply address of `udp-send -U`: abstract on Linux (nothing to clean up), else a private
/// path in the temporary directory, removed when its guard drops.
pub(crate) fn reply_addr() -> UnixAddr {
    let unique = format!(
        "sockkit-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    if cfg!(any(target_os = "linux", target_os = "android")) {
        UnixAddr::Abstract(unique.into_bytes())
    } else {
        UnixAddr::Path(std::env::temp_dir().join(format!("{unique}.sock")))
    }
}

/// Sends one datagram to `to` (a path or an abstract name; tokio's `send_to` takes only paths).
pub(crate) async fn send_to(
    socket: &UnixDatagram,
    data: &[u8],
    to: &UnixAddr,
) -> io::Result<usize> {
    let sa = to.sock_addr()?;
    socket
        .async_io(tokio::io::Interest::WRITABLE, || {
            socket2::SockRef::from(socket).send_to(data, &sa)
        })
        .await
}

/// Connects a datagram socket to `to`, waiting up to `retry` for it to appear; the error names it.
pub(crate) async fn connect_datagram(
    socket: &UnixDatagram,
    to: &UnixAddr,
    retry: Option<Duration>,
) -> Result<()> {
    let sa = to
        .sock_addr()
        .map_err(|e| failed("cannot send to", to, &e))?;
    with_retry(retry, || async {
        socket2::SockRef::from(socket).connect(&sa)
    })
    .await
    .map_err(|e| failed("cannot send to", to, &e))
}

/// Who is at the other end of a stream: its name (if its socket has one) and, where the system
/// tells, its process and user (`SO_PEERCRED` on Linux, `getpeereid` elsewhere).
pub(crate) fn describe_peer(stream: &UnixStream) -> String {
    let name = stream
        .peer_addr()
        .ok()
        .as_ref()
        .and_then(UnixAddr::from_peer)
        .map(|a| a.to_string());
    let cred = credentials(stream);
    match (name, cred) {
        (Some(n), Some(c)) => format!("{n} ({c})"),
        (Some(n), None) => n,
        (None, Some(c)) => format!("a local process ({c})"),
        (None, None) => "a local process".to_string(),
    }
}

/// The peer's process and user: `pid 12, uid 1000, gid 1000` (no pid where the system does not
/// tell it).
pub(crate) fn credentials(stream: &UnixStream) -> Option<String> {
    stream.peer_cred().ok().map(|c| match c.pid() {
        Some(pid) => format!("pid {pid}, uid {}, gid {}", c.uid(), c.gid()),
        None => format!("uid {}, gid {}", c.uid(), c.gid()),
    })
}

impl Accept for UnixListener {
    type Stream = UnixStream;
    type Addr = Peer;

    async fn accept_one(&self) -> io::Result<(UnixStream, Peer)> {
        let (stream, _) = self.accept().await?;
        let who = describe_peer(&stream);
        Ok((stream, Peer::Local(who)))
    }

    fn ip(_: &Peer) -> Option<std::net::IpAddr> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard removes the socket it bound, and nothing that took its place since.
    #[tokio::test]
    async fn the_guard_removes_only_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let addr = UnixAddr::Path(path.clone());
        let (listener, file) = listen(&addr, BindOpts::default(), 8).unwrap();
        drop(listener);
        drop(file);
        assert!(!path.exists(), "the guard left its socket file");
        let (listener, file) = listen(&addr, BindOpts::default(), 8).unwrap();
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"someone else's").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
    }

    #[test]
    fn paths_and_names() {
        assert_eq!(
            UnixAddr::parse("/tmp/x.sock").unwrap(),
            UnixAddr::Path("/tmp/x.sock".into())
        );
        assert!(UnixAddr::parse("").is_err());
        assert!(UnixAddr::parse(&"a".repeat(SUN_PATH)).is_err());
        assert!(UnixAddr::parse(&"a".repeat(SUN_PATH - 1)).is_ok());
        let odd = UnixAddr::Abstract(b"x\x1b[2Jy\xff".to_vec());
        assert_eq!(odd.to_string(), "@x\\x1b[2Jy\\xff");
        let abs = UnixAddr::parse("@sockkit-test");
        if cfg!(target_os = "linux") {
            assert_eq!(abs.unwrap().to_string(), "@sockkit-test");
        } else {
            assert!(abs.is_err());
        }
    }
}
