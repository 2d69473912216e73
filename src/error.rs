//! Exit codes and error wording, in one place.
//!
//! Commands return `anyhow::Error`; `main` prints it once as `sockkit: error: {err:#}` and asks
//! [`exit_code`] what status it maps to. Errors that need a status other than 1 carry an [`Exit`]
//! in their chain.

use std::fmt;
use std::io;

/// The process exit statuses sockkit documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done.
    Success = 0,
    /// A network or I/O failure, or bad data from a peer or stdin.
    Failure = 1,
    /// The command line was wrong.
    Usage = 2,
    /// Interrupted by Ctrl-C (SIGINT).
    Interrupted = 130,
    /// Terminated by SIGTERM.
    Terminated = 143,
}

/// An error that ends the program with a specific status.
#[derive(Debug)]
pub struct Exit {
    pub code: ExitCode,
    pub message: String,
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// A command-line mistake found after clap parsed the arguments (exit status 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code: ExitCode::Usage,
        message: message.into(),
    })
}

/// The status an error maps to: the first [`Exit`] in its chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(|e| e.downcast_ref::<Exit>())
        .map_or(ExitCode::Failure, |e| e.code)
}

/// An I/O error in the words a person expects: lowercase, without "(os error 111)".
pub fn describe_io(err: &io::Error) -> String {
    use io::ErrorKind::*;
    // Errors we made ourselves carry their own words ("timed out after 3s").
    if let Some(inner) = err.get_ref() {
        return inner.to_string();
    }
    let text = match err.kind() {
        ConnectionRefused => "connection refused",
        ConnectionReset => "connection reset by peer",
        ConnectionAborted => "connection aborted",
        AddrInUse => "address already in use",
        AddrNotAvailable => "address not available on this machine",
        PermissionDenied => "permission denied",
        TimedOut => "timed out",
        BrokenPipe => "broken pipe (the peer closed its end)",
        HostUnreachable => "host unreachable",
        NetworkUnreachable => "network unreachable",
        NotFound => "not found",
        _ => "",
    };
    if !text.is_empty() {
        return text.to_string();
    }
    // Fall back to the OS text, lowercased at the start and without the errno suffix.
    let full = err.to_string();
    let trimmed = match full.find(" (os error") {
        Some(i) => &full[..i],
        None => &full,
    };
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_well() {
        let e = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(describe_io(&e), "connection refused");
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(describe_io(&e), "too many open files");
    }

    #[test]
    fn exit_codes_found_in_chain() {
        let e = usage("bad port").context("while parsing");
        assert_eq!(exit_code(&e), ExitCode::Usage);
        assert_eq!(exit_code(&anyhow::anyhow!("x")), ExitCode::Failure);
    }
}
