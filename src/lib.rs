//! sockkit: a netcat-style socket tool.
//!
//! Map of the modules:
//! - [`cli`]: the clap definition of the six subcommands and their shared flags;
//! - [`cmd`]: one module per subcommand, each turning its arguments into a config and running it;
//! - [`net`]: every resolve, bind, connect and socket option;
//! - [`relay`]: the bidirectional copy between a connection and stdin/stdout, with half-close;
//!   [`poll_relay`] does the same as a poll(2) loop when the bytes need no looking at;
//! - [`input`]: the stdin pump; [`send`]: how input lines become messages (raw, hex, pickle);
//! - [`output`]: the one owner of stdout; [`render`]: the display modes (raw, hex, pickle);
//! - [`pickle`]: the safe pickle scanner, decoder, Python repr and Python-literal parser;
//! - [`lab`]: the socket-lab handshake messages;
//! - [`error`]: exit codes and error wording.
//!
//! The binary parses the command line and calls [`run`]; the integration tests run the binary.

pub mod access;
pub mod cli;
pub mod cmd;
pub mod error;
pub mod input;
pub mod lab;
pub mod net;
pub mod output;
pub mod pickle;
pub mod poll_relay;
pub mod relay;
pub mod render;
pub mod repl;
pub mod send;
pub mod splice;

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
    // thread (output.rs). A single-threaded runtime also keeps per-connection state cheap.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Connect(args) => {
            let out = start_output(&args.display, args.verbose);
            with_signals(&out, cmd::connect::run(args, out.clone())).await
        }
        Command::Listen(args) => {
            let out = start_output(&args.display, args.verbose);
            with_signals(&out, cmd::listen::run(args, out.clone())).await
        }
        Command::UdpListen(args) => {
            let out = start_output(&args.display, args.verbose);
            with_signals(&out, cmd::udp_listen::run(args, out.clone())).await
        }
        Command::UdpSend(args) => {
            let out = start_output(&args.display, args.verbose);
            with_signals(&out, cmd::udp_send::run(args, out.clone())).await
        }
        Command::LabClient(args) => {
            let out = start_output(&args.display, args.verbose);
            with_signals(&out, cmd::lab_client::run(args, out.clone())).await
        }
        Command::LabServer(args) => {
            let (out, _) = Output::start(RenderOpts::default());
            // The lab server handles its own signals: it drains and prints a summary.
            let result = cmd::lab_server::run(args, out.clone()).await;
            finish(&out).await;
            result
        }
        Command::Generate(args) => cmd::generate::run(args).map(|()| ExitCode::Success),
    }
}

fn start_output(display: &DisplayArgs, verbose: bool) -> Output {
    let opts = RenderOpts {
        mode: display.mode(),
        framing: display.framing,
        max_message: display.max_message,
        verbose,
    };
    Output::start(opts).0
}

/// Runs a command until it ends or a signal arrives; either way stdout is flushed (bounded) first.
async fn with_signals(
    out: &Output,
    command: impl Future<Output = Result<ExitCode>>,
) -> Result<ExitCode> {
    let result = tokio::select! {
        r = command => r,
        code = signal() => Ok(code),
    };
    finish(out).await;
    result
}

/// Flushes stdout, giving up after a while if stdout is stuck (a reader that stopped reading).
async fn finish(out: &Output) {
    let _ = tokio::time::timeout(Duration::from_secs(2), out.flush()).await;
}

/// Resolves on Ctrl-C (130) or SIGTERM (143).
pub async fn signal() -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => ExitCode::Interrupted,
        _ = term.recv() => ExitCode::Terminated,
    }
}
