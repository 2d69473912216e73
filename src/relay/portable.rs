//! Stand-ins for the Linux fast paths ([`super::fast`] on Linux with the `linux-fast-paths`
//! feature): types with no values, so the engine's code for them compiles everywhere and can never
//! run. Without them the engine reads stdin through the stdin thread and shows what it receives
//! through the stdout thread, which behave the same on every platform.

use std::io;

use bytes::Bytes;

use crate::conn::PeerRead;

/// The most bytes the fast stdout takes at once (unused here).
pub(crate) const PIECE: usize = 64 << 10;

/// stdin read on the network thread: never, here.
pub(crate) enum Stdin {}

impl Stdin {
    pub(crate) fn new() -> io::Result<Stdin> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) async fn next(&mut self) -> io::Result<Option<Bytes>> {
        match *self {}
    }
}

/// stdout written by the engine: never, here.
pub(crate) enum Stdout {}

impl Stdout {
    pub(crate) fn new() -> io::Result<Stdout> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn pending(&self) -> bool {
        match *self {}
    }

    pub(crate) async fn receive<R: PeerRead>(&mut self, _: &mut R) -> io::Result<usize> {
        match *self {}
    }

    pub(crate) fn deliver(&mut self, _: &[u8]) -> io::Result<()> {
        match *self {}
    }

    pub(crate) async fn drain(&mut self) -> io::Result<()> {
        match *self {}
    }
}

pub(crate) fn stdin_is_pipe() -> bool {
    false
}

pub(crate) fn stdout_spliceable() -> bool {
    false
}

pub(crate) fn is_stdout_error(_: &io::Error) -> bool {
    false
}
