//! Receiving datagrams in batches: every datagram already waiting is taken in one go, with as few
//! system calls as the platform allows, and handed on as one [`Batch`] (one message to the stdout
//! thread, one write for raw output).
//!
//! On Linux a batch is read with `recvmmsg(2)` (up to [`SLOTS`] datagrams a call), and the socket's
//! drop counter (`SO_MEMINFO`) says how many datagrams the kernel dropped because the receive buffer
//! was full. Everything Linux-only is in the `linux` module below, chosen as `batched` in one place;
//! elsewhere `batched` is a stand-in that never exists, so the rest of this file is the same on
//! every platform. Without it (other platforms, and a test on Linux) the portable path is a loop of
//! non-blocking `recv_from`, and kernel drops are not counted.
//!
//! Each datagram keeps its own boundaries and sender: a batch is the payloads back to back plus, for
//! each, where it ends and who sent it.

use std::io;
use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// Largest UDP payload over IPv4 (65,535 minus IP and UDP headers); IPv6 allows 65,527, and a buffer
/// one byte larger than either shows truncation never happens.
pub(crate) const MAX_DATAGRAM: usize = 65_536;

/// Datagrams asked for by one `recvmmsg` call.
const SLOTS: usize = 64;

/// A receiver lingers for more datagrams (see `Multi::linger`) only when it found at least this
/// many waiting when it woke: datagrams then come faster than it sleeps and wakes. Datagrams that
/// come one at a time, however often, are taken as they come: lingering for them kept a core busy
/// for nothing (udp-listen took 5 to 6% of a core at 1,000 and 10,000 datagrams/s, against 2 to
/// 3% without; a blast was received as fast either way).
const LINGER_AFTER: usize = 16;

/// A batch stops growing past this many payload bytes (one write to stdout, at most).
const BATCH_BYTES: usize = 256 * 1024;

/// A batch stops growing past this many datagrams.
const BATCH_DATAGRAMS: usize = 4096;

/// Datagrams received together: the payloads back to back, and for each its sender and end.
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    items: Vec<(SocketAddr, usize)>,
    /// An error met after some datagrams were taken (an ICMP error for an earlier reply): reported
    /// by the caller after the datagrams are shown.
    pub(crate) error: Option<io::Error>,
}

impl Batch {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All payloads back to back (what raw output shows).
    pub(crate) fn payloads(&self) -> &[u8] {
        &self.data
    }

    /// Each datagram: its sender and its payload.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        let mut start = 0;
        self.items.iter().map(move |&(from, end)| {
            let payload = &self.data[start..end];
            start = end;
            (from, payload)
        })
    }

    fn push(&mut self, from: SocketAddr, payload: &[u8]) {
        self.data.extend_from_slice(payload);
        self.items.push((from, self.data.len()));
    }

    fn full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.items.len() >= BATCH_DATAGRAMS
    }
}

/// Reads batches of datagrams from one socket, counting the kernel's drops where it can.
pub(crate) struct Receiver {
    /// The platform's batched receive, when it has one.
    batched: Option<batched::Multi>,
    buf: Vec<u8>,
    /// Whether the kernel says how many datagrams it dropped (Linux).
    counts_drops: bool,
}

impl Receiver {
    /// The fastest receiver the platform has.
    pub(crate) fn new(socket: &UdpSocket) -> Receiver {
        match batched::Multi::new() {
            Some(multi) => Receiver {
                batched: Some(multi),
                buf: Vec::new(),
                counts_drops: batched::drops(socket).is_some(),
            },
            None => Receiver::portable(),
        }
    }

    /// The portable receiver: a loop of non-blocking `recv_from`, no drop count. The default where
    /// there is no batched receive; on Linux the tests use it, to keep the fallback tested.
    pub(crate) fn portable() -> Receiver {
        Receiver {
            batched: None,
            buf: vec![0; MAX_DATAGRAM],
            counts_drops: false,
        }
    }

    /// Datagrams the kernel has dropped since the socket was created (Linux; `None` where it is not
    /// counted): asked of the socket when it is wanted, so that it includes the drops after the last
    /// datagram received, and costs nothing per datagram.
    pub(crate) fn dropped(&self, socket: &UdpSocket) -> Option<u64> {
        self.counts_drops.then(|| batched::drops(socket)).flatten()
    }

    /// Waits for datagrams, then returns every one already waiting (at least one), up to `limit`
    /// datagrams and a batch's size.
    pub(crate) async fn recv(
        &mut self,
        socket: &UdpSocket,
        limit: Option<u64>,
    ) -> io::Result<Batch> {
        let limit = limit.map_or(usize::MAX, |l| l.min(usize::MAX as u64) as usize);
        let mut batch = Batch::default();
        loop {
            socket.readable().await?;
            self.fill(socket, &mut batch, limit)?;
            if !batch.is_empty() {
                match self.batched.as_mut() {
                    Some(multi) if batch.len() >= LINGER_AFTER => {
                        multi.linger(socket, &mut batch, limit)
                    }
                    _ => {}
                }
                return Ok(batch);
            }
        }
    }

    /// Takes datagrams without waiting until none is left, the batch is full or `limit` is reached.
    /// An error before the first datagram is returned; after it, it is kept in the batch.
    fn fill(&mut self, socket: &UdpSocket, batch: &mut Batch, limit: usize) -> io::Result<()> {
        while !batch.full() && batch.len() < limit {
            let room = limit - batch.len();
            let got = match self.batched.as_mut() {
                Some(multi) => multi.recv(socket, batch, room.min(SLOTS)),
                None => self.recv_one(socket, batch),
            };
            match got {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if batch.is_empty() => return Err(e),
                Err(e) => {
                    batch.error = Some(e);
                    break;
                }
            }
        }
        Ok(())
    }

    fn recv_one(&mut self, socket: &UdpSocket, batch: &mut Batch) -> io::Result<()> {
        if self.buf.len() < MAX_DATAGRAM {
            self.buf.resize(MAX_DATAGRAM, 0);
        }
        let (n, from) = socket.try_recv_from(&mut self.buf)?;
        batch.push(from, &self.buf[..n]);
        Ok(())
    }
}

// The one platform switch of this file.
#[cfg(target_os = "linux")]
use linux as batched;
#[cfg(not(target_os = "linux"))]
use unbatched as batched;

#[cfg(target_os = "linux")]
mod linux {
    //! recvmmsg, through nix's safe wrapper, and the drop counter.

    use std::io::{self, IoSliceMut};
    use std::net::SocketAddr;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use nix::sys::socket::{recvmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    use super::{Batch, MAX_DATAGRAM, SLOTS};

    /// How long a batch waits for the next datagram of a burst before it is handed on.
    const QUIET: Duration = Duration::from_micros(30);

    /// How long a batch may keep growing while datagrams keep coming.
    const LONGEST: Duration = Duration::from_millis(1);

    /// The socket's drop counter (`SO_MEMINFO`, Linux 4.6 and later; `None` before). It is the
    /// counter `SO_RXQ_OVFL` reports, but that one comes with each datagram as it was when the
    /// datagram was queued: it misses the drops after the last datagram received (the end of a
    /// burst that overflowed the buffer), and it costs a control message per datagram.
    pub(super) fn drops(socket: &UdpSocket) -> Option<u64> {
        // SK_MEMINFO_DROPS is the last of the values the kernel fills in; it copies no more than
        // the length given.
        const VALUES: usize = libc::SK_MEMINFO_DROPS as usize + 1;
        let mut info = [0u32; VALUES];
        let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
        // SAFETY: `info` and `len` are live for the call, and `len` is `info`'s size in bytes, so
        // the kernel writes within it; nix has no wrapper for SO_MEMINFO.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MEMINFO,
                info.as_mut_ptr().cast(),
                &mut len,
            )
        };
        (rc == 0 && len as usize == std::mem::size_of_val(&info))
            .then(|| u64::from(info[VALUES - 1]))
    }

    /// The buffers of one `recvmmsg` call, kept from call to call.
    pub(super) struct Multi {
        headers: MultiHeaders<SockaddrStorage>,
        slots: Vec<u8>,
    }

    impl Multi {
        pub(super) fn new() -> Option<Multi> {
            Some(Multi {
                headers: MultiHeaders::preallocate(SLOTS, None),
                slots: vec![0; SLOTS * MAX_DATAGRAM],
            })
        }

        /// One `recvmmsg` call for up to `want` datagrams, appended to `batch`, through tokio's
        /// readiness (a `WouldBlock` clears it, so the task sleeps until the socket is readable).
        pub(super) fn recv(
            &mut self,
            socket: &UdpSocket,
            batch: &mut Batch,
            want: usize,
        ) -> io::Result<()> {
            socket.try_io(Interest::READABLE, || self.recv_now(socket, batch, want))
        }

        /// During a burst, keeps taking datagrams for as long as they follow each other within
        /// [`QUIET`] (and at most [`LONGEST`]), instead of going back to sleep at once.
        ///
        /// Measured with P6 (bench/modes.py, one sender, 2-core KVM machine): a receiver that
        /// drains the queue and goes to sleep must be woken for the next datagram, and on loopback
        /// the sender pays for that wake-up; without lingering the sender managed 5 to 12% fewer
        /// datagrams a second than with nc (which drains slowly and so rarely sleeps), and
        /// udp-listen printed 0.8x to 0.9x of nc although it lost none; with it, 1.1x (3 runs each;
        /// 100 µs and 4 ms instead of 30 µs and 1 ms changed nothing). Larger batches also mean
        /// fewer hand-offs to stdout. Only called during a burst (see [`super::LINGER_AFTER`]): for
        /// datagrams that come one at a time the spinning costs more than the wake-ups it saves.
        pub(super) fn linger(&mut self, socket: &UdpSocket, batch: &mut Batch, limit: usize) {
            let start = Instant::now();
            let mut last = start;
            while !batch.full() && batch.len() < limit && batch.error.is_none() {
                let want = (limit - batch.len()).min(SLOTS);
                // Straight to the socket: tokio's readiness was cleared by the last WouldBlock.
                match self.recv_now(socket, batch, want) {
                    Ok(()) => last = Instant::now(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        let now = Instant::now();
                        if now - last > QUIET || now - start > LONGEST {
                            return;
                        }
                        std::hint::spin_loop();
                    }
                    Err(e) => batch.error = Some(e),
                }
            }
        }

        /// One non-blocking `recvmmsg` call for up to `want` datagrams, appended to `batch`.
        fn recv_now(
            &mut self,
            socket: &UdpSocket,
            batch: &mut Batch,
            want: usize,
        ) -> io::Result<()> {
            let Multi { headers, slots } = self;
            let mut iovs: Vec<[IoSliceMut; 1]> = slots
                .chunks_mut(MAX_DATAGRAM)
                .take(want)
                .map(|slot| [IoSliceMut::new(slot)])
                .collect();
            let results = recvmmsg(
                socket.as_raw_fd(),
                headers,
                iovs.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            )
            .map_err(io::Error::from)?;
            let mut missing = false;
            for msg in results {
                let Some(from) = msg.address.as_ref().and_then(to_std) else {
                    missing = true;
                    continue;
                };
                let mut payload = msg.iovs();
                batch.push(from, payload.next().unwrap_or_default());
            }
            // The headers are used again as they are: the kernel sets each one's address length
            // to the length it wrote, which is the same for every datagram of a socket's family.
            if missing {
                return Err(io::Error::other("a datagram came without a sender address"));
            }
            Ok(())
        }
    }

    fn to_std(addr: &SockaddrStorage) -> Option<SocketAddr> {
        if let Some(v4) = addr.as_sockaddr_in() {
            return Some(std::net::SocketAddrV4::from(*v4).into());
        }
        addr.as_sockaddr_in6()
            .map(|v6| std::net::SocketAddrV6::from(*v6).into())
    }
}

/// The stand-in where there is no batched receive: a [`Multi`] is never made, so a [`Receiver`]
/// always takes its portable path.
#[cfg(not(target_os = "linux"))]
mod unbatched {
    use std::io;

    use tokio::net::UdpSocket;

    use super::Batch;

    /// No value of this type exists.
    pub(super) enum Multi {}

    pub(super) fn drops(_socket: &UdpSocket) -> Option<u64> {
        None
    }

    impl Multi {
        pub(super) fn new() -> Option<Multi> {
            None
        }

        pub(super) fn recv(
            &mut self,
            _socket: &UdpSocket,
            _batch: &mut Batch,
            _want: usize,
        ) -> io::Result<()> {
            match *self {}
        }

        pub(super) fn linger(&mut self, _socket: &UdpSocket, _batch: &mut Batch, _limit: usize) {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `n` datagrams of distinct lengths and contents from two senders, then receives them
    /// with `rx`: each one whole, in order per sender, with its sender.
    async fn round_trip(mut rx: Receiver, socket: &UdpSocket) {
        let to = socket.local_addr().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sent = Vec::new();
        for i in 0..200u32 {
            let from = if i % 3 == 0 { &b } else { &a };
            let payload: Vec<u8> = (0..(i % 97) as u8).map(|k| k ^ i as u8).collect();
            from.send_to(&payload, to).unwrap();
            sent.push((from.local_addr().unwrap(), payload));
        }
        let mut got = Vec::new();
        while got.len() < sent.len() {
            let batch = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                rx.recv(socket, Some(1000)),
            )
            .await
            .expect("datagrams arrive")
            .unwrap();
            assert!(batch.error.is_none());
            let joined: Vec<u8> = batch.iter().flat_map(|(_, p)| p.to_vec()).collect();
            assert_eq!(joined, batch.payloads());
            got.extend(batch.iter().map(|(f, p)| (f, p.to_vec())));
        }
        assert_eq!(got, sent);
    }

    fn bind() -> UdpSocket {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        let s = UdpSocket::from_std(s).unwrap();
        // Room for every datagram a test sends before reading (the default may hold fewer).
        crate::net::set_recv_buffer(&s, 1 << 20).unwrap();
        s
    }

    #[tokio::test]
    async fn portable_path_keeps_every_datagram_whole() {
        let socket = bind();
        round_trip(Receiver::portable(), &socket).await;
    }

    #[tokio::test]
    async fn native_path_keeps_every_datagram_whole() {
        let socket = bind();
        let rx = Receiver::new(&socket);
        #[cfg(target_os = "linux")]
        assert_eq!(rx.dropped(&socket), Some(0), "the drop counter is on");
        round_trip(rx, &socket).await;
    }

    /// The kernel's count includes the drops after the last datagram taken, and every datagram
    /// sent is either taken or counted.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn kernel_drops_are_counted() {
        let socket = bind();
        crate::net::set_recv_buffer(&socket, 1).unwrap();
        let to = socket.local_addr().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rx = Receiver::new(&socket);
        let wait = std::time::Duration::from_secs(20);
        a.send_to(b"before", to).unwrap();
        let first = tokio::time::timeout(wait, rx.recv(&socket, None))
            .await
            .unwrap();
        assert_eq!(first.unwrap().payloads(), b"before");
        assert_eq!(rx.dropped(&socket), Some(0));
        // Nobody reads while 50 datagrams of 1000 bytes come: the tiny buffer holds one or two.
        for _ in 0..50 {
            a.send_to(&[0; 1000], to).unwrap();
        }
        let dropped = rx.dropped(&socket).unwrap();
        assert!(dropped >= 45, "dropped: {dropped}");
        // What the buffer holds is what was not dropped.
        let mut taken = 0;
        while taken + dropped < 50 {
            let batch = tokio::time::timeout(wait, rx.recv(&socket, None)).await;
            taken += batch.expect("the datagrams not dropped").unwrap().len() as u64;
        }
        assert_eq!(taken + dropped, 50);
        assert_eq!(rx.dropped(&socket), Some(dropped));
    }

    #[tokio::test]
    async fn limit_is_exact() {
        let socket = bind();
        let to = socket.local_addr().unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..10u8 {
            a.send_to(&[i], to).unwrap();
        }
        for mut rx in [Receiver::new(&socket), Receiver::portable()] {
            let batch = rx.recv(&socket, Some(3)).await.unwrap();
            assert_eq!(batch.len(), 3);
        }
        let mut rx = Receiver::new(&socket);
        let mut rest = Vec::new();
        while rest.len() < 4 {
            rest.extend_from_slice(rx.recv(&socket, None).await.unwrap().payloads());
        }
        assert_eq!(rest, [6, 7, 8, 9]);
    }
}
