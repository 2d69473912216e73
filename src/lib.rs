//! sockkit: a netcat-style socket tool.
//!
//! Map of the modules, from the command line down:
//! - [`cli`]: the clap definition of the seven subcommands and their shared flags, converted once
//!   into plain configs (nothing below `cli` and `cmd` knows clap);
//! - [`cmd`]: one module per subcommand, each turning its arguments into a config and running it;
//! - [`relay`]: the end-of-stream policy (pure) and the one copy engine every relay runs, the hub of
//!   many-client servers, and the Linux fast paths (one `cfg`-gated module);
//! - [`accept`]: the accept loop every TCP server shares; [`conn`]: a connection of any kind;
//! - [`net`]: every resolve, bind, connect and socket option; [`dgram`]: datagrams in batches;
//!   `unix`: the same for Unix domain sockets (`-U`), and the socket file's life;
//! - [`tls`]: `--tls`: rustls configs, certificate checks, the self-signed certificate and its pin;
//! - [`input`]: the stdin thread; [`send`]: how input lines become messages (raw, hex, pickle);
//! - [`output`]: the stdout thread; [`render`]: the display modes (raw, hex, pickle);
//! - [`repl`]: the line editor; [`pickle`]: the safe pickle scanner, decoder, repr and literal parser;
//! - [`lab`]: the socket-lab handshake messages; [`escape`]: peer-chosen text made safe to print;
//! - [`error`]: exit codes and error wording; [`units`]: byte counts as people read them.
//!
//! The binary parses the command line and calls [`run`]; the integration tests run the binary.

pub(crate) mod accept;
pub mod access;
pub mod cli;
pub mod cmd;
pub(crate) mod conn;
pub(crate) mod dgram;
pub mod error;
pub(crate) mod escape;
pub(crate) mod input;
pub(crate) mod lab;
pub(crate) mod net;
pub(crate) mod output;
pub mod pickle;
pub(crate) mod relay;
pub(crate) mod render;
pub(crate) mod repl;
pub mod send;
pub(crate) mod tls;
pub(crate) mod units;
#[cfg(unix)]
pub(crate) mod unix;

pub use repl::end_session;

use std::future::Future;
use std::time::Duration;

use anyhow::Result;

use crate::cli::{Cli, Command, DisplayArgs};
use crate::error::ExitCode;
use crate::output::Output;
use crate::render::RenderOpts;

/// Runs a parsed command line to its end and returns the exit status.
pub fn run(cli: Cli) -> Result<ExitCode> {
    // One thread is plenty for a socket relay: the work is I/O-bound, and rendering has its own
    // thread (output.rs). A single-threaded runtime also keeps per-connection state cheap. The lab
    // server is the exception: under attack its work is CPU-bound (decoding what thousands of clients
    // send), so it uses every core; measured in bench/p4_lab.py's hostile run.
    let runtime = match cli.command {
        Command::LabServer(_) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Connect(a) => a.repl.check()?,
        Command::Listen(a) => a.repl.check()?,
        Command::UdpListen(a) => a.repl.check()?,
        Command::UdpSend(a) => a.repl.check()?,
        Command::LabClient(a) => a.repl.check()?,
        Command::LabServer(_) | Command::Relay(_) | Command::Generate(_) => {}
    }
    match cli.command {
        Command::Connect(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::connect::run(args, out.clone())).await
        }
        Command::Listen(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::listen::run(args, out.clone())).await
        }
        Command::UdpListen(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::udp_listen::run(args, out.clone())).await
        }
        Command::UdpSend(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::udp_send::run(args, out.clone())).await
        }
        Command::LabClient(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::lab_client::run(args, out.clone())).await
        }
        Command::LabServer(args) => {
            let (out, _) = Output::start(RenderOpts::default());
            // The lab server handles its own signals: it drains and prints a summary.
            let result = cmd::lab_server::run(args, out.clone()).await;
            finish(&out, result).await
        }
        Command::Relay(args) => {
            let out = start_output(&args.display);
            with_signals(&out, cmd::relay::run(args, out.clone())).await
        }
        Command::Generate(args) => cmd::generate::run(args).map(|()| ExitCode::Success),
    }
}

/// The stdout of a command. `-v` has no part in it: verbose only ever adds lines on stderr, so a
/// script's output is the same with or without it.
fn start_output(display: &DisplayArgs) -> Output {
    let opts = RenderOpts {
        mode: display.mode(),
        framing: display.framing,
        max_message: display.max_message,
        verbose: false,
    };
    Output::start(opts).0
}

/// Runs a command until it ends, a signal arrives or stdout fails, then shows what is left (see
/// [`finish`]). After a signal the command is asked to stop ([`stopped`]) and given
/// [`SIGNAL_DRAIN`] to deliver what it holds.
async fn with_signals(
    out: &Output,
    command: impl Future<Output = Result<ExitCode>>,
) -> Result<ExitCode> {
    tokio::pin!(command);
    // Biased, signals first: their handlers are installed before the command first runs, so a
    // signal sent as soon as it says "listening on" ends it through here (cleaning up what it
    // holds, such as a Unix socket file) rather than by the default action.
    let code = tokio::select! {
        biased;
        code = signal() => code,
        r = &mut command => return finish(out, r).await,
        e = out.failed() => return Err(e),
    };
    let _ = STOP
        .get_or_init(|| tokio::sync::watch::channel(false).0)
        .send(true);
    tokio::select! {
        _ = &mut command => {}
        () = tokio::time::sleep(SIGNAL_DRAIN) => {}
        e = out.failed() => return Err(e),
    }
    interrupted(out, code, SIGNAL_DRAIN).await
}

/// Set once a signal asked the command to stop.
static STOP: std::sync::OnceLock<tokio::sync::watch::Sender<bool>> = std::sync::OnceLock::new();

/// Resolves once a signal has asked the running command to stop: a relay then delivers what it
/// holds and returns.
pub(crate) async fn stopped() {
    let mut rx = STOP
        .get_or_init(|| tokio::sync::watch::channel(false).0)
        .subscribe();
    let _ = rx.wait_for(|stop| *stop).await;
}

/// A write to stdout blocked this long means its reader stopped reading: the end gives up on it.
const STDOUT_STUCK: Duration = Duration::from_secs(2);

/// After a signal, what is left is shown for at most this long.
const SIGNAL_DRAIN: Duration = Duration::from_secs(1);

/// The command has ended: every received byte is shown (as a value, or a `#` line saying why not)
/// before the program exits, however long the last decode takes, as long as stdout takes output.
/// If stdout blocks, or a signal arrives meanwhile, the bytes not shown are counted in the error
/// and the exit status is not 0.
async fn finish(out: &Output, result: Result<ExitCode>) -> Result<ExitCode> {
    let lost = tokio::select! {
        lost = out.drain(STDOUT_STUCK, None) => lost,
        code = signal() => return interrupted(out, code, SIGNAL_DRAIN).await,
    };
    // stdout failed while the command was ending: that is the end's error (a closed stdout's is
    // a quiet one).
    if let Some(e) = out.failure() {
        return Err(e);
    }
    if lost == 0 {
        return result;
    }
    let what = format!(
        "{lost} received bytes were not shown: stdout took nothing for {}s",
        STDOUT_STUCK.as_secs()
    );
    match result {
        Ok(_) => Err(anyhow::anyhow!(what)),
        Err(e) => {
            eprintln!("sockkit: error: {what}");
            Err(e)
        }
    }
}

/// A signal arrived: what is left is shown within `left`, and what could not be is said.
async fn interrupted(out: &Output, code: ExitCode, left: Duration) -> Result<ExitCode> {
    let lost = out.drain(STDOUT_STUCK, Some(left)).await;
    if let Some(e) = out.failure().filter(|e| !crate::error::is_quiet(e)) {
        eprintln!("sockkit: error: {e:#}");
    }
    if lost > 0 {
        eprintln!("sockkit: interrupted: {lost} received bytes were not shown");
    }
    Ok(code)
}

/// Sleeps until `at`, or for ever when there is no deadline (for a `select!` branch that may be off).
pub(crate) async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Resolves on Ctrl-C (130), SIGTERM (143) or SIGHUP (129: the terminal went away). Caught rather
/// than left to their default action so that stdout is flushed and `main` restores the terminal the
/// REPL put in raw mode. Where there is no SIGTERM or SIGHUP (Windows), Ctrl-C alone.
pub async fn signal() -> ExitCode {
    #[cfg(unix)]
    {
        unix_signal().await
    }
    #[cfg(not(unix))]
    {
        match tokio::signal::ctrl_c().await {
            Ok(()) => ExitCode::Interrupted,
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(unix)]
async fn unix_signal() -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    // Under `nohup` SIGHUP is ignored, and must stay so: a handler would end a server meant to outlive
    // its terminal.
    let mut hup = if hangup_ignored() {
        None
    } else {
        signal(SignalKind::hangup()).ok()
    };
    let hangup = async {
        match hup.as_mut() {
            Some(h) => h.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = int.recv() => ExitCode::Interrupted,
        _ = term.recv() => ExitCode::Terminated,
        _ = hangup => ExitCode::HangUp,
    }
}

/// Whether SIGHUP is ignored (as `nohup` leaves it).
#[cfg(unix)]
fn hangup_ignored() -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}
