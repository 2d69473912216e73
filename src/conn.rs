//! A connection of any kind, as the relay engine and the servers see it: a TCP socket, a Unix
//! stream socket, or any other byte stream (a TLS session, a child process) boxed behind [`Io`].
//!
//! An enum rather than a type parameter, so that one server can hold clients of different kinds and
//! no generic parameter spreads through the commands; the cost is one match per read or write.
//! A new kind of stream plugs in as [`Conn::Boxed`] without touching the engine.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The reading half of a stream, as the relay engine takes it.
pub(crate) trait PeerRead: AsyncRead + Unpin {
    /// The TCP socket under it, which the Linux fast path may splice from.
    #[cfg_attr(
        not(all(target_os = "linux", feature = "linux-fast-paths")),
        allow(dead_code)
    )]
    fn socket(&self) -> Option<&TcpStream> {
        None
    }
}

impl PeerRead for tokio::net::tcp::OwnedReadHalf {
    fn socket(&self) -> Option<&TcpStream> {
        Some(self.as_ref())
    }
}

/// The writing half of a stream, as the relay engine takes it.
pub(crate) trait PeerWrite: AsyncWrite + Unpin {
    /// Makes closing this connection a reset, and shutting it down a no-op (a relay passes a
    /// reset on to the other side).
    fn abort(&mut self) {}
}

impl PeerWrite for ConnWrite {
    fn abort(&mut self) {
        if let ConnWrite::Tcp(w) = self {
            w.abort();
        }
    }
}

/// A TCP connection's writing half that can end in a reset: tokio's half sends FIN when dropped,
/// which would come before the reset.
pub(crate) struct TcpWrite {
    half: Option<tokio::net::tcp::OwnedWriteHalf>,
    aborted: bool,
}

impl TcpWrite {
    fn abort(&mut self) {
        if let Some(w) = &self.half {
            // SO_LINGER of zero: the close that follows sends RST instead of FIN.
            let _ = socket2::SockRef::from(w.as_ref()).set_linger(Some(std::time::Duration::ZERO));
        }
        self.aborted = true;
    }

    fn half(&mut self) -> Pin<&mut tokio::net::tcp::OwnedWriteHalf> {
        Pin::new(self.half.as_mut().expect("present until dropped"))
    }
}

impl Drop for TcpWrite {
    fn drop(&mut self) {
        if let (true, Some(w)) = (self.aborted, self.half.take()) {
            // No FIN: the socket closes (with a reset) when its reading half goes too.
            w.forget();
        }
    }
}

/// A byte stream that can go in a box.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A connected stream.
pub(crate) enum Conn {
    Tcp(TcpStream),
    /// `-U PATH`.
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    /// Any other byte stream: a TLS session (`--tls`).
    Boxed(Box<dyn Io>),
}

/// The reading half of a [`Conn`].
pub(crate) enum ConnRead {
    Tcp(tokio::net::tcp::OwnedReadHalf),
    #[cfg(unix)]
    Unix(tokio::net::unix::OwnedReadHalf),
    Boxed(tokio::io::ReadHalf<Box<dyn Io>>),
}

/// The writing half of a [`Conn`].
pub(crate) enum ConnWrite {
    Tcp(TcpWrite),
    #[cfg(unix)]
    Unix(tokio::net::unix::OwnedWriteHalf),
    Boxed(tokio::io::WriteHalf<Box<dyn Io>>),
}

impl Conn {
    /// The two halves, for reading and writing at once.
    pub(crate) fn split(self) -> (ConnRead, ConnWrite) {
        match self {
            Conn::Tcp(s) => {
                let (r, w) = s.into_split();
                (
                    ConnRead::Tcp(r),
                    ConnWrite::Tcp(TcpWrite {
                        half: Some(w),
                        aborted: false,
                    }),
                )
            }
            #[cfg(unix)]
            Conn::Unix(s) => {
                let (r, w) = s.into_split();
                (ConnRead::Unix(r), ConnWrite::Unix(w))
            }
            Conn::Boxed(s) => {
                let (r, w) = tokio::io::split(s);
                (ConnRead::Boxed(r), ConnWrite::Boxed(w))
            }
        }
    }
}

impl From<TcpStream> for Conn {
    fn from(s: TcpStream) -> Conn {
        Conn::Tcp(s)
    }
}

#[cfg(unix)]
impl From<tokio::net::UnixStream> for Conn {
    fn from(s: tokio::net::UnixStream) -> Conn {
        Conn::Unix(s)
    }
}

impl PeerRead for ConnRead {
    fn socket(&self) -> Option<&TcpStream> {
        match self {
            ConnRead::Tcp(r) => Some(r.as_ref()),
            _ => None,
        }
    }
}

impl AsyncRead for ConnRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnRead::Tcp(r) => Pin::new(r).poll_read(cx, buf),
            #[cfg(unix)]
            ConnRead::Unix(r) => Pin::new(r).poll_read(cx, buf),
            ConnRead::Boxed(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ConnWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ConnWrite::Tcp(w) => w.half().poll_write(cx, buf),
            #[cfg(unix)]
            ConnWrite::Unix(w) => Pin::new(w).poll_write(cx, buf),
            ConnWrite::Boxed(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnWrite::Tcp(w) => w.half().poll_flush(cx),
            #[cfg(unix)]
            ConnWrite::Unix(w) => Pin::new(w).poll_flush(cx),
            ConnWrite::Boxed(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ConnWrite::Tcp(w) if w.aborted => Poll::Ready(Ok(())),
            ConnWrite::Tcp(w) => w.half().poll_shutdown(cx),
            #[cfg(unix)]
            ConnWrite::Unix(w) => Pin::new(w).poll_shutdown(cx),
            ConnWrite::Boxed(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}

/// A whole [`Conn`] reads and writes too, for commands that talk in turns on one task (the lab
/// client) before handing the connection to the engine.
impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Boxed(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Boxed(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::Boxed(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Boxed(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
