//! The `sockkit` binary: parse the command line, run it, print an error once, exit with its status.

use clap::error::ErrorKind;
use clap::Parser;

use sockkit::cli::Cli;
use sockkit::error::{describe_clap, exit_code, is_quiet, ExitCode};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version are clap's, to stdout, status 0.
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.exit()
        }
        Err(err) => {
            // Every other argument error is one line, like every other error, plus at most one hint.
            let (line, hint) = describe_clap(&err);
            eprintln!("sockkit: error: {line}");
            if let Some(hint) = hint {
                eprintln!("hint: {hint}");
            }
            std::process::exit(ExitCode::Usage as i32);
        }
    };
    let code = match sockkit::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if !is_quiet(&err) {
                eprintln!("sockkit: error: {err:#}");
            }
            exit_code(&err)
        }
    };
    // Leave the terminal as we found it, whatever happened to the REPL.
    sockkit::end_session();
    // Exit at once: the stdin thread may be blocked in a read that will never return.
    std::process::exit(code as i32);
}
