//! The accept loop every stream server shares (`listen`, `listen -k` and its roles, `lab-server`):
//! who may connect (`--allow`/`--deny`), how many at once (`--max-conns`), and what happens when
//! accepting fails (EMFILE and friends: say so, back off briefly, keep serving). One wording for
//! each refusal, on stderr.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use crate::access::Access;
use crate::error::describe_io;
use crate::net::display_addr;

/// After a failed accept (out of descriptors, most often), wait this long before the next.
const BACKOFF: Duration = Duration::from_millis(100);

/// Who a client is, as servers show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A TCP client's address (an IPv4-mapped address as IPv4).
    Ip(SocketAddr),
    /// A Unix socket client or sender: the name its socket has, or (a stream client with an
    /// unnamed socket, the usual case) its process and user.
    #[cfg_attr(not(unix), allow(dead_code))]
    Local(String),
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Ip(a) => a.fmt(f),
            Peer::Local(name) => f.write_str(name),
        }
    }
}

/// A listening socket: what it accepts, and who from.
pub(crate) trait Accept {
    type Stream: Send + 'static;
    /// Who a client is.
    type Addr: Clone + fmt::Display + Into<Peer> + Send + 'static;
    async fn accept_one(&self) -> io::Result<(Self::Stream, Self::Addr)>;
    /// The client's IP address, which `--allow` and `--deny` judge (none for a Unix socket's).
    fn ip(addr: &Self::Addr) -> Option<IpAddr>;
}

impl Accept for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;

    async fn accept_one(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, display_addr(peer)))
    }

    fn ip(addr: &SocketAddr) -> Option<IpAddr> {
        Some(addr.ip())
    }
}

impl From<SocketAddr> for Peer {
    fn from(a: SocketAddr) -> Peer {
        Peer::Ip(a)
    }
}

/// A listening socket and the rules for who gets in.
pub(crate) struct Gate<L> {
    listener: L,
    access: Access,
    max_conns: usize,
    active: Arc<AtomicUsize>,
}

/// A client let in. It counts toward `--max-conns` until its [`Slot`] is dropped.
pub(crate) struct Admitted<S, A> {
    pub stream: S,
    pub peer: A,
    pub slot: Slot,
}

/// One of the `--max-conns` places, given back when dropped.
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<L: Accept> Gate<L> {
    /// `access` applies to clients with an IP address; a Unix socket's clients are let in by the
    /// file's permissions.
    pub(crate) fn new(listener: L, access: Access, max_conns: usize) -> Gate<L> {
        Gate {
            listener,
            access,
            max_conns,
            active: Arc::default(),
        }
    }

    /// The next client let in. Refused clients are closed unread and said so on stderr; with
    /// `refused`, the caller hears of each too (the lab server counts them).
    pub(crate) async fn next(&self, mut refused: impl FnMut()) -> Admitted<L::Stream, L::Addr> {
        loop {
            let (stream, peer) = match self.listener.accept_one().await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("sockkit: accept failed: {}", describe_io(&e));
                    tokio::time::sleep(BACKOFF).await;
                    continue;
                }
            };
            if L::ip(&peer).is_some_and(|ip| !self.access.permits(ip)) {
                eprintln!("sockkit: refused {peer}: not allowed by --allow/--deny");
                refused();
                continue;
            }
            let active = self.active.load(Ordering::Relaxed);
            if active >= self.max_conns {
                eprintln!(
                    "sockkit: refused {peer}: {active} clients connected (--max-conns {})",
                    self.max_conns
                );
                refused();
                continue;
            }
            self.active.fetch_add(1, Ordering::Relaxed);
            return Admitted {
                stream,
                peer,
                slot: Slot(self.active.clone()),
            };
        }
    }
}
