//! The command line: clap derive types for the six subcommands, the display and send modes they share,
//! and the hidden `generate` command that writes completions and man pages.
//!
//! Doc comments are the help text. Short flags follow nc where they mean the same thing (`-l -u -k -v -w
//! -z -4 -6 -n -s -p -q -C`); everything else is long-only. Parsing stops here: each command turns its
//! `*Args` into a validated config before any I/O.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The end-of-stream rules and exit statuses, shown in the long help of every command.
macro_rules! eos_help {
    () => {
        "End of stream:
  When stdin ends, sockkit half-closes the connection (shuts down its write side) and keeps printing
  what the peer sends until the peer closes; a reply that arrives after our EOF is never lost.
  --no-shutdown keeps the write side open; -q SECS quits that long after stdin ends.
  When the peer closes, sockkit flushes stdout and exits, even if stdin is still open (at once for a
  terminal; a pipe still delivering data is sent until it ends or stays quiet for 1s).
  If the peer resets the connection before taking all of stdin, what it sent is still printed,
  then sockkit exits 1 (\"could not send: connection reset by peer\").

Exit status:
  0 success, 1 network or I/O failure (or bad input data), 2 usage error, 130 interrupted (Ctrl-C),
  143 terminated (SIGTERM). A closed stdout (as in `| head`) is a normal end."
    };
}

const AFTER_HELP: &str = eos_help!();

/// A netcat for people who read what they receive: TCP and UDP relays with correct half-close,
/// hex and Python-pickle display, and the socket-lab handshake.
#[derive(Debug, Parser)]
#[command(name = "sockkit", version, propagate_version = true, after_long_help = AFTER_HELP)]
#[command(max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to a TCP server and relay stdin to it and its data to stdout.
    #[command(after_long_help = CONNECT_LONG, after_help = CONNECT_EXAMPLES)]
    Connect(ConnectArgs),
    /// Listen for TCP clients and relay stdin to them and their data to stdout.
    #[command(after_long_help = LISTEN_LONG, after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
    /// Receive UDP datagrams from any number of senders and answer the most recent one.
    #[command(name = "udp-listen", after_help = UDP_LISTEN_EXAMPLES, after_long_help = UDP_LISTEN_LONG)]
    UdpListen(UdpListenArgs),
    /// Send UDP datagrams and wait for the replies.
    #[command(name = "udp-send", after_help = UDP_SEND_EXAMPLES, after_long_help = UDP_SEND_LONG)]
    UdpSend(UdpSendArgs),
    /// Play the student's side of the socket-lab pickle handshake.
    #[command(name = "lab-client", after_help = LAB_CLIENT_EXAMPLES, after_long_help = LAB_CLIENT_LONG)]
    LabClient(LabClientArgs),
    /// Run the socket-lab server: many students at once, and no bad client can stop it.
    #[command(name = "lab-server", after_help = LAB_SERVER_EXAMPLES, after_long_help = LAB_SERVER_LONG)]
    LabServer(LabServerArgs),
    /// Write shell completions and man pages (for packagers and the repository's own files).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

macro_rules! connect_examples {
    () => {
        "\
Examples:
  sockkit connect localhost 12345              talk to a server, as `nc localhost 12345`
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockkit connect example.org 80
  sockkit connect -x 127.0.0.1 12000           show what the server sends as a hex dump
  sockkit connect -z -v 127.0.0.1 20-25 80     which of these ports are open?"
    };
}

const CONNECT_EXAMPLES: &str = connect_examples!();
const CONNECT_LONG: &str = concat!(connect_examples!(), "\n\n", eos_help!());

macro_rules! listen_examples {
    () => {
        "\
Examples:
  sockkit listen 12345                          wait for one client, as `nc -l 12345`
  sockkit listen -k --echo 12345                an echo server for many clients at once
  sockkit listen -k --chat 127.0.0.1 12345      a chat room: every line goes to everyone else
  sockkit listen --mode pickle 12000            print the Python pickles a client sends"
    };
}

const LISTEN_EXAMPLES: &str = listen_examples!();
const LISTEN_LONG: &str = concat!(listen_examples!(), "\n\n", eos_help!());

macro_rules! udp_listen_examples {
    () => {
        "\
Examples:
  sockkit udp-listen 12345                 as `nc -l -u 12345`; typed lines go back to the sender
  sockkit udp-listen --show-sender -x 12345
  sockkit udp-listen --echo --count 10 12345"
    };
}

const UDP_LISTEN_EXAMPLES: &str = udp_listen_examples!();
const UDP_LISTEN_LONG: &str = concat!(udp_listen_examples!(), "\n\n", eos_help!());

macro_rules! udp_send_examples {
    () => {
        "\
Examples:
  sockkit udp-send localhost 12345 'Hello, world'
  echo ping | sockkit udp-send --wait 2s 127.0.0.1 12345
  sockkit udp-send --send hex 127.0.0.1 12345 '48 65 6c 6c 6f'"
    };
}

const UDP_SEND_EXAMPLES: &str = udp_send_examples!();
const UDP_SEND_LONG: &str = concat!(udp_send_examples!(), "\n\n", eos_help!());

macro_rules! lab_client_examples {
    () => {
        "\
Examples:
  sockkit lab-client --ip 127.0.0.1 --port 12000 --name \"Alice Brown\" --github abrown --sid 123456789
  sockkit lab-client -v --name \"Alice Brown\" --github abrown --sid 123456789   show every byte"
    };
}

const LAB_CLIENT_EXAMPLES: &str = lab_client_examples!();
const LAB_CLIENT_LONG: &str = concat!(lab_client_examples!(), "\n\n", eos_help!());

macro_rules! lab_server_examples {
    () => {
        "\
Examples:
  sockkit lab-server                                   serve 127.0.0.1:12000
  sockkit lab-server --host 0.0.0.0 --roster class.csv"
    };
}

const LAB_SERVER_EXAMPLES: &str = lab_server_examples!();
const LAB_SERVER_LONG: &str = concat!(lab_server_examples!(), "\n\n", eos_help!());

/// How received bytes are shown on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DisplayMode {
    /// Bytes exactly as received.
    #[default]
    Raw,
    /// A hex dump with offsets and an ASCII column, like `hexdump -C`.
    Hex,
    /// Decode Python pickles in the stream and print each as Python's repr() would.
    Pickle,
}

/// How typed or piped input is turned into bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SendMode {
    /// Bytes exactly as read.
    #[default]
    Raw,
    /// Each line is hex digits (spaces allowed), sent as the bytes they spell.
    Hex,
    /// Each line is a Python literal, sent as one pickle.
    Pickle,
}

/// Where one pickle ends and the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Framing {
    /// Pickles back to back; each ends at its STOP opcode (what the socket labs send).
    #[default]
    Stop,
    /// Each pickle after a 4-byte big-endian length, as Python's multiprocessing.connection sends.
    Len32,
}

/// Options shared by every command that shows received data.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// How to show received data.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DisplayMode::Raw)]
    pub mode: DisplayMode,
    /// Short for --mode hex.
    #[arg(short = 'x', conflicts_with = "mode")]
    pub hex: bool,
    /// How pickles are delimited in the stream (--mode pickle).
    #[arg(long, value_enum, value_name = "FRAMING", default_value_t = Framing::Stop)]
    pub framing: Framing,
    /// Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message: usize,
}

impl DisplayArgs {
    pub fn mode(&self) -> DisplayMode {
        if self.hex {
            DisplayMode::Hex
        } else {
            self.mode
        }
    }
}

/// Options shared by every command that sends typed or piped input.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one
    /// Python literal per line, sent as a pickle).
    #[arg(long = "send", value_enum, value_name = "MODE", default_value_t = SendMode::Raw)]
    pub send: SendMode,
    /// Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python
    /// 3.0+).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub pickle_protocol: u8,
    /// Send line endings as CRLF (LF becomes CR LF).
    #[arg(short = 'C', long)]
    pub crlf: bool,
}

/// The interactive REPL.
#[derive(Debug, Clone, Args)]
pub struct ReplArgs {
    /// Type messages in a line editor (history, /commands); the default when stdin and stdout are a
    /// terminal.
    #[arg(short = 'I', long, conflicts_with = "no_interactive")]
    pub interactive: bool,
    /// Never open the line editor, even on a terminal: read stdin as a plain stream.
    #[arg(long)]
    pub no_interactive: bool,
    /// Do not read or write the REPL history file.
    #[arg(long)]
    pub no_history: bool,
}

impl ReplArgs {
    /// Whether to open the REPL: asked for, or both ends are a terminal and it was not refused.
    pub fn wanted(&self) -> bool {
        use std::io::IsTerminal;
        self.interactive
            || (!self.no_interactive
                && std::io::stdin().is_terminal()
                && std::io::stdout().is_terminal())
    }
}

/// Address-family and resolution options.
#[derive(Debug, Clone, Args)]
pub struct FamilyArgs {
    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Numeric addresses only: never resolve names.
    #[arg(short = 'n', long)]
    pub numeric: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Host name or address of the server.
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Port to connect to; with -z, any number of ports and ranges (20-25).
    #[arg(value_name = "PORT", required = true, num_args = 1..)]
    pub ports: Vec<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Source address to connect from.
    #[arg(short = 's', long = "source", value_name = "ADDR")]
    pub source: Option<String>,
    /// Source port to connect from.
    #[arg(short = 'p', long = "source-port", value_name = "PORT")]
    pub source_port: Option<u16>,
    /// Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds).
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Keep retrying a refused connection for this long (wait for a server to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry: Option<Duration>,
    /// Close the connection after this long without data in either direction (exit 1).
    #[arg(short = 'i', long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Quit this many seconds after stdin ends, even if the peer is still open (0 = at once).
    #[arg(short = 'q', long = "quit-after-eof", value_name = "SECS", value_parser = parse_duration)]
    pub quit_after_eof: Option<Duration>,
    /// Do not half-close the connection when stdin ends.
    #[arg(long, conflicts_with = "quit_after_eof")]
    pub no_shutdown: bool,
    /// Only send: ignore what the peer sends, quit when stdin ends.
    #[arg(long, conflicts_with = "recv_only")]
    pub send_only: bool,
    /// Only receive: do not read stdin.
    #[arg(long)]
    pub recv_only: bool,
    /// Zero-I/O mode: report which ports accept a connection, send nothing.
    #[arg(short = 'z', long = "zero-io")]
    pub zero_io: bool,
    /// Say what happens on stderr: connections, half-closes, transfer summaries.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show a live byte count and rate on stderr (when it is a terminal).
    #[arg(long)]
    pub progress: bool,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// [HOST] PORT: the address to listen on (default: every IPv6 and IPv4 address) and the port
    /// (0 picks a free one and prints it).
    #[arg(value_name = "HOST PORT", num_args = 0..=2)]
    pub addr: Vec<String>,
    /// Port to listen on (for nc-traditional habits: `listen -p 12345`).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`.
    #[arg(short = 'l', hide = true)]
    pub listen: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Keep listening: serve many clients at once.
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// Most clients served at once with -k; extra clients are closed.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 100)]
    pub max_conns: usize,
    /// Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS")]
    pub allow: Vec<String>,
    /// Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS")]
    pub deny: Vec<String>,
    /// Send every client's data back to it.
    #[arg(long, conflicts_with_all = ["broker", "chat"])]
    pub echo: bool,
    /// Relay each client's data to all other clients (implies -k).
    #[arg(long)]
    pub broker: bool,
    /// Like --broker, with a `<clientN>` prefix on each line and control characters escaped.
    #[arg(long)]
    pub chat: bool,
    /// Close a connection after this long without data in either direction.
    #[arg(short = 'i', long, value_name = "DURATION", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Quit this many seconds after stdin ends (single-client mode).
    #[arg(short = 'q', long = "quit-after-eof", value_name = "SECS", value_parser = parse_duration)]
    pub quit_after_eof: Option<Duration>,
    /// Do not half-close the connection when stdin ends.
    #[arg(long, conflicts_with = "quit_after_eof")]
    pub no_shutdown: bool,
    /// Only send: ignore what clients send.
    #[arg(long, conflicts_with = "recv_only")]
    pub send_only: bool,
    /// Only receive: do not read stdin.
    #[arg(long)]
    pub recv_only: bool,
    /// Say what happens on stderr: connections, half-closes, transfer summaries.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show a live byte count and rate on stderr (when it is a terminal).
    #[arg(long)]
    pub progress: bool,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct UdpListenArgs {
    /// [HOST] PORT: the address to listen on (default: every IPv6 and IPv4 address) and the port.
    #[arg(value_name = "HOST PORT", num_args = 0..=2)]
    pub addr: Vec<String>,
    /// Port to listen on (for nc-traditional habits).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Accepted and ignored, so `sockkit udp-listen -l 12345` works.
    #[arg(short = 'l', hide = true)]
    pub listen: bool,
    /// Accepted and ignored, so `sockkit udp-listen -u 12345` works like `nc -u -l 12345`.
    #[arg(short = 'u', hide = true)]
    pub udp: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Prefix each datagram with the address it came from.
    #[arg(long)]
    pub show_sender: bool,
    /// Send every datagram back to its sender.
    #[arg(long)]
    pub echo: bool,
    /// Exit 0 after this many datagrams.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Say what happens on stderr (implies --show-sender).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct UdpSendArgs {
    /// Host name or address to send to.
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Port to send to.
    #[arg(value_name = "PORT")]
    pub port: u16,
    /// The message; without it, each line of stdin is sent as one datagram.
    #[arg(value_name = "MESSAGE")]
    pub message: Option<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Keep resending the first datagram while the port is closed, for this long (wait for a
    /// listener to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry: Option<Duration>,
    /// Stop waiting for replies after this long without one (0 = do not wait).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub wait: Duration,
    /// Stop after this many replies.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Prefix each reply with the address it came from.
    #[arg(long)]
    pub show_sender: bool,
    /// Say what happens on stderr.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct LabClientArgs {
    /// Server address.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub ip: String,
    /// Server port.
    #[arg(long, value_name = "PORT", default_value_t = 12000)]
    pub port: u16,
    /// Student name.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// GitHub user name.
    #[arg(long, value_name = "USER")]
    pub github: String,
    /// Student id.
    #[arg(long, value_name = "SID")]
    pub sid: i64,
    /// Keep retrying a refused connection for this long (wait for a server to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry: Option<Duration>,
    /// How long to wait for the acknowledgement.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub ack_timeout: Duration,
    /// Give up connecting after this long.
    #[arg(short = 'w', long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Pickle protocol of the student dict (Python 3.8+ sends 4).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub pickle_protocol: u8,
    /// Show every message exchanged, each direction labelled.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    // With -I/--interactive, the connection stays open in the REPL after the handshake; without it the
    // lab's own behaviour (exit after the acknowledgement) holds even on a terminal.
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(Debug, Args)]
pub struct LabServerArgs {
    /// Address to listen on.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, value_name = "PORT", default_value_t = 12000)]
    pub port: u16,
    /// Close a client that has not completed its handshake after this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Append one CSV row per acknowledged student to this file.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// Most clients connected at once; extra clients are closed.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 10_000)]
    pub max_conns: usize,
    /// Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS")]
    pub allow: Vec<String>,
    /// Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS")]
    pub deny: Vec<String>,
    /// Largest message accepted from a client, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    pub max_message: usize,
    /// Show every message exchanged.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write completions/ and man/ into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// Parses `500ms`, `3s`, `2m`, `1h`, `1m30s`, or a bare number of seconds (`5`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = if let Ok(secs) = text.parse::<f64>() {
        Duration::try_from_secs_f64(secs).map_err(|_| {
            format!("invalid duration '{text}': expected a number of seconds >= 0 or a value like 500ms, 3s, 2m")
        })?
    } else {
        humantime::parse_duration(text)
            .map_err(|e| format!("invalid duration '{text}': {e} (examples: 500ms, 3s, 2m)"))?
    };
    // Deadlines are the time now plus the duration: keep that sum representable.
    if d > MAX_DURATION {
        return Err(format!(
            "invalid duration '{text}': longer than 100 years (leave the option out for no limit)"
        ));
    }
    Ok(d)
}

/// The longest duration any option takes: 100 years (of 365.25 days, as humantime counts `100y`).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("nan").is_err());
        assert_eq!(parse_duration("100y").map(|_| ()), Ok(()));
        assert!(parse_duration("1e30").is_err());
        for huge in ["101y", "18000000000000000000s", "3200000000"] {
            let err = parse_duration(huge).unwrap_err();
            assert!(err.contains("longer than 100 years"), "{huge}: {err}");
        }
    }
}
