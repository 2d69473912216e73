//! The `sockkit` binary: parse the command line, run it, print an error once, exit with its status.

use clap::Parser;

use sockkit::cli::Cli;
use sockkit::error::exit_code;

fn main() {
    let cli = Cli::parse();
    let code = match sockkit::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sockkit: error: {err:#}");
            exit_code(&err)
        }
    };
    // Leave the terminal as we found it, whatever happened to the REPL.
    sockkit::repl::end_session();
    // Exit at once: the stdin thread may be blocked in a read that will never return.
    std::process::exit(code as i32);
}
