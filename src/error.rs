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
    /// The terminal hung up (SIGHUP).
    HangUp = 129,
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

/// The usage error of `-U` where there are no Unix domain sockets (Windows, in tokio).
#[cfg(not(unix))]
pub const NO_UNIX_SOCKETS: &str =
    "-U needs Unix domain sockets, which sockkit supports only on Unix systems (Linux, macOS, BSD)";

/// A command-line mistake found after clap parsed the arguments (exit status 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code: ExitCode::Usage,
        message: message.into(),
    })
}

/// Why a value parser refused a command-line value: the reason, and at most one hint line.
///
/// `main` words every argument error alike: `sockkit: error: invalid value 'V' for --FLAG: REASON`, then
/// `hint: HINT` when there is one.
#[derive(Debug)]
pub struct BadValue {
    pub reason: String,
    pub hint: Option<String>,
}

impl BadValue {
    pub fn new(reason: impl Into<String>) -> BadValue {
        BadValue {
            reason: reason.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> BadValue {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for BadValue {}

/// A clap error as one line and at most one hint, naming the argument and the value.
///
/// clap's own rendering is several lines beginning `error:`; this keeps the README's promise of one
/// `sockkit: error: ...` line for every error. `--help` and `--version` never come here.
pub fn describe_clap(err: &clap::Error) -> (String, Option<String>) {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let get = |kind: ContextKind| -> Option<Vec<String>> {
        match err.get(kind)? {
            ContextValue::String(s) => Some(vec![s.clone()]),
            ContextValue::Strings(v) => Some(v.clone()),
            ContextValue::StyledStr(s) => Some(vec![s.to_string()]),
            ContextValue::StyledStrs(v) => Some(v.iter().map(|s| s.to_string()).collect()),
            ContextValue::Number(n) => Some(vec![n.to_string()]),
            _ => None,
        }
    };
    let one = |kind: ContextKind| get(kind).and_then(|v| v.into_iter().next());
    let arg = one(ContextKind::InvalidArg)
        .map(|a| arg_name(&a))
        .unwrap_or_else(|| "an argument".to_string());
    let value = one(ContextKind::InvalidValue).unwrap_or_default();
    let usage_hint = || {
        one(ContextKind::Usage).and_then(|u| {
            let line = u.lines().next()?.trim().to_string();
            let line = line
                .strip_prefix("Usage:")
                .unwrap_or(&line)
                .trim()
                .to_string();
            Some(format!("usage: {line}"))
        })
    };
    let suggestion = || {
        one(ContextKind::SuggestedArg)
            .or_else(|| one(ContextKind::SuggestedSubcommand))
            .map(|s| format!("did you mean '{s}'?"))
    };
    match err.kind() {
        ErrorKind::InvalidValue if value.is_empty() => (format!("{arg} needs a value"), usage_hint()),
        ErrorKind::InvalidValue => {
            let valid = get(ContextKind::ValidValue).unwrap_or_default();
            let hint = (!valid.is_empty()).then(|| format!("expected one of: {}", valid.join(", ")));
            (format!("invalid value '{value}' for {arg}"), hint.or_else(suggestion))
        }
        ErrorKind::ValueValidation => {
            let source = std::error::Error::source(err);
            let bad = source.and_then(|s| s.downcast_ref::<BadValue>());
            let (reason, hint) = match (bad, source) {
                (Some(b), _) => (b.reason.clone(), b.hint.clone()),
                (None, Some(s)) => (s.to_string(), None),
                (None, None) => ("not accepted".to_string(), None),
            };
            (format!("invalid value '{value}' for {arg}: {reason}"), hint)
        }
        ErrorKind::UnknownArgument => {
            let given = one(ContextKind::InvalidArg).unwrap_or_default();
            let trailing = matches!(
                err.get(ContextKind::TrailingArg),
                Some(ContextValue::Bool(true))
            );
            let hint = suggestion().or_else(|| {
                trailing.then(|| format!("to pass '{given}' as a value, write '-- {given}'"))
            });
            (format!("unexpected argument '{given}'"), hint.or_else(usage_hint))
        }
        ErrorKind::InvalidSubcommand => (
            format!(
                "unknown command '{}'",
                one(ContextKind::InvalidSubcommand).unwrap_or_default()
            ),
            suggestion().or_else(|| Some("sockkit --help lists the commands".into())),
        ),
        ErrorKind::ArgumentConflict => {
            let prior = get(ContextKind::PriorArg)
                .map(|v| v.iter().map(|a| arg_name(a)).collect::<Vec<_>>().join(", "))
                .unwrap_or_else(|| "another option given".to_string());
            (format!("{arg} cannot be used with {prior}"), None)
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = get(ContextKind::InvalidArg)
                .map(|v| v.iter().map(|a| arg_name(a)).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            (format!("missing required {missing}"), usage_hint())
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => (
            "a command is required: connect, listen, udp-listen, udp-send, lab-client or lab-server"
                .to_string(),
            Some("sockkit --help says what each one does".into()),
        ),
        ErrorKind::TooManyValues => (format!("unexpected value '{value}' for {arg}"), usage_hint()),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => (
            format!(
                "{arg} takes {} values, got {}",
                one(ContextKind::ExpectedNumValues).unwrap_or_default(),
                one(ContextKind::ActualNumValues).unwrap_or_default()
            ),
            usage_hint(),
        ),
        ErrorKind::NoEquals => (format!("{arg} needs '=' before its value"), None),
        ErrorKind::InvalidUtf8 => ("an argument is not valid UTF-8".to_string(), None),
        _ => {
            // Anything else: clap's first line, without its own "error: ".
            let text = err.render().to_string();
            let line = text.lines().next().unwrap_or("invalid command line");
            (line.strip_prefix("error: ").unwrap_or(line).to_string(), None)
        }
    }
}

/// `--connect-timeout <DURATION>` -> `--connect-timeout`; `<PORT>` -> `PORT`; `[HOST PORT]...` ->
/// `HOST PORT`.
fn arg_name(shown: &str) -> String {
    let first = shown.split_whitespace().next().unwrap_or(shown);
    if first.starts_with(['<', '[']) {
        shown
            .trim_end_matches('.')
            .replace(['<', '>', '[', ']'], "")
    } else {
        first.to_string()
    }
}

/// The status an error maps to: the first [`Exit`] in its chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(|e| e.downcast_ref::<Exit>())
        .map_or(ExitCode::Failure, |e| e.code)
}

/// The error a command ends with when stdout fails: a quiet end with status 0 when its reader
/// closed it (`| head`, as ripgrep does), else `cannot write to stdout: ...` (status 1).
pub fn stdout_failed(err: &io::Error) -> anyhow::Error {
    if err.kind() == io::ErrorKind::BrokenPipe {
        return anyhow::Error::new(Exit {
            code: ExitCode::Success,
            message: String::new(),
        });
    }
    anyhow::anyhow!("cannot write to stdout: {}", describe_io(err))
}

/// Whether `err` ends the program without a word (see [`stdout_failed`]).
pub fn is_quiet(err: &anyhow::Error) -> bool {
    err.chain()
        .find_map(|e| e.downcast_ref::<Exit>())
        .is_some_and(|e| e.message.is_empty())
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
        // The OS's own words, made lowercase and without "(os error 24)" (Unix wording).
        #[cfg(unix)]
        {
            let e = io::Error::from_raw_os_error(nix::errno::Errno::EMFILE as i32);
            assert_eq!(describe_io(&e), "too many open files");
        }
    }

    fn one_line(args: &[&str]) -> (String, Option<String>) {
        use clap::Parser;
        let err = crate::cli::Cli::try_parse_from(args).unwrap_err();
        describe_clap(&err)
    }

    #[test]
    fn clap_errors_become_one_line_naming_flag_and_value() {
        let (line, hint) = one_line(&["sockkit", "connect", "-w", "-1s", "h", "1"]);
        assert_eq!(
            line,
            "invalid value '-1s' for --connect-timeout: a duration cannot be negative"
        );
        assert!(hint.unwrap().contains("500ms"));
        let (line, _) = one_line(&["sockkit", "listen", "1", "2", "3"]);
        assert_eq!(line, "unexpected value '3' for HOST PORT");
        let (line, hint) = one_line(&["sockkit", "conect"]);
        assert_eq!(line, "unknown command 'conect'");
        assert_eq!(hint.as_deref(), Some("did you mean 'connect'?"));
        let (line, _) = one_line(&["sockkit", "lab-server", "--port", "abc"]);
        assert_eq!(
            line,
            "invalid value 'abc' for --port: expected a port number from 0 to 65535"
        );
        for (line, hint) in [
            one_line(&["sockkit", "connect", "--bogus", "h", "1"]),
            one_line(&["sockkit", "connect"]),
            one_line(&["sockkit"]),
        ] {
            assert!(!line.contains('\n') && !line.starts_with("error"), "{line}");
            assert!(!hint.unwrap_or_default().contains('\n'));
        }
    }

    #[test]
    fn exit_codes_found_in_chain() {
        let e = usage("bad port").context("while parsing");
        assert_eq!(exit_code(&e), ExitCode::Usage);
        assert_eq!(exit_code(&anyhow::anyhow!("x")), ExitCode::Failure);
    }
}
