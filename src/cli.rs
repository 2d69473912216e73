//! The command line: clap derive types for the six subcommands, the display and send modes they share,
//! and the hidden `generate` command that writes completions and man pages.
//!
//! Doc comments are the help text. Short flags follow nc where they mean the same thing (`-l -u -k -v -w
//! -z -4 -6 -n -s -p -q -C`); everything else is long-only. Parsing stops here: each command turns its
//! `*Args` into a validated config before any I/O.
//!
//! The modes the library takes ([`DisplayMode`], [`SendMode`], [`Framing`]) are plain enums of the
//! modules that use them; clap sees them through the `*Arg` mirrors below, converted while parsing,
//! so no clap type goes below this module and the fields of the `*Args` hold the library's values.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{EnumValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

use crate::error::BadValue;
use crate::pickle::Framing;
use crate::render::DisplayMode;
use crate::send::{SendMode, SendOpts};

/// The end-of-stream rules of the TCP relays (connect, listen), shown in their long help.
macro_rules! tcp_eos {
    () => {
        "End of stream:
  When stdin ends, sockkit half-closes the connection (shuts down its write side) and keeps
  printing what the peer sends until the peer closes; a reply that arrives after our EOF is never
  lost. --no-shutdown keeps the write side open; -q SECS quits that long after stdin ends.
  When the peer closes, sockkit flushes stdout and exits, even if stdin is still open (at once for
  a terminal; a pipe still delivering data is sent until it ends or stays quiet for 1s).
  If the peer resets the connection before taking all of stdin, what it sent is still printed,
  then sockkit exits 1 (\"could not send: connection reset by peer\")."
    };
}

/// The exit statuses, shown in the long help of every command.
macro_rules! exit_status {
    () => {
        "Exit status:
  0 success, 1 network or I/O failure (or bad input data), 2 usage error, 129 hung up (SIGHUP),
  130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A closed stdout (as in `| head`) is a
  normal end."
    };
}

const AFTER_HELP: &str = concat!(
    "End of stream: see the long help of each command (sockkit connect --help, ...).\n\n",
    exit_status!()
);

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
    /// Connect to a TCP server (or a Unix socket, -U) and relay stdin to it and its data to stdout.
    #[command(after_long_help = CONNECT_LONG, after_help = CONNECT_EXAMPLES)]
    Connect(ConnectArgs),
    /// Listen for TCP clients (or on a Unix socket, -U) and relay stdin to them and their data to
    /// stdout.
    #[command(after_long_help = LISTEN_LONG, after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
    /// Receive UDP datagrams (or Unix datagrams, -U) from any number of senders and answer the most
    /// recent one.
    #[command(name = "udp-listen", after_help = UDP_LISTEN_EXAMPLES, after_long_help = UDP_LISTEN_LONG)]
    UdpListen(UdpListenArgs),
    /// Send UDP datagrams (or Unix datagrams, -U) and wait for the replies.
    #[command(name = "udp-send", after_help = UDP_SEND_EXAMPLES, after_long_help = UDP_SEND_LONG)]
    UdpSend(UdpSendArgs),
    /// Play the student's side of the socket-lab pickle handshake.
    #[command(name = "lab-client", after_help = LAB_CLIENT_EXAMPLES, after_long_help = LAB_CLIENT_LONG)]
    LabClient(LabClientArgs),
    /// Run the socket-lab server: many students at once, and no bad client can stop it.
    #[command(name = "lab-server", after_help = LAB_SERVER_EXAMPLES, after_long_help = LAB_SERVER_LONG)]
    LabServer(LabServerArgs),
    /// Forward a TCP port to a target, and show what passes both ways.
    #[command(after_help = RELAY_EXAMPLES, after_long_help = RELAY_LONG)]
    Relay(RelayCmdArgs),
    /// Write shell completions and man pages (for packagers and the repository's own files).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

// Examples: each command on a line of its own, its comment above it, every line at most 78 columns
// (so no terminal of 80 columns or more wraps one), so that a copied line runs as shown. The test
// tests/cli/help_examples.rs runs every one of them.

macro_rules! connect_examples {
    () => {
        "\
Examples:
  # talk to a server, as `nc localhost 12345`
  sockkit connect localhost 12345
  # send a request, print the reply
  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | sockkit connect localhost 8080
  # show what the server sends as a hex dump
  sockkit connect -x 127.0.0.1 12000
  # which of these ports are open? (exit 0 only if all are)
  sockkit connect -z -v 127.0.0.1 12000-12002 12345"
    };
}

const CONNECT_EXAMPLES: &str = connect_examples!();
const CONNECT_LONG: &str = concat!(
    connect_examples!(),
    "\n\n",
    tcp_eos!(),
    "\n\n",
    exit_status!()
);

macro_rules! listen_examples {
    () => {
        "\
Examples:
  # wait for one client, as `nc -l 12345`
  sockkit listen 12345
  # an echo server for many clients at once
  sockkit listen -k --echo 12345
  # a chat room: every line goes to everyone else
  sockkit listen -k --chat 127.0.0.1 12345
  # print the Python pickles a client sends
  sockkit listen --mode pickle 12000"
    };
}

const LISTEN_EXAMPLES: &str = listen_examples!();
const LISTEN_LONG: &str = concat!(
    listen_examples!(),
    "\n\n",
    tcp_eos!(),
    "\n  With -k (and --broker, --chat) stdin ending ends nothing: clients are served until Ctrl-C,
  and -q and --no-shutdown are refused.",
    "\n\n",
    exit_status!()
);

macro_rules! relay_examples {
    () => {
        "\
Examples:
  # forward local port 8080 to a web server, as socat TCP-LISTEN:8080,fork TCP:host:80
  sockkit relay 8080 example.com:80
  # watch the lab handshakes between students and the course server, decoded
  sockkit relay --mode pickle 12000 127.0.0.1:12001
  # the same as hex dumps, one header per block and direction
  sockkit relay -x -v 127.0.0.1:12000 127.0.0.1:12001"
    };
}

const RELAY_EXAMPLES: &str = relay_examples!();
const RELAY_LONG: &str = concat!(
    relay_examples!(),
    "\n\n",
    "Connections and ends:
  Every client is served at once (up to -m) on a connection of its own to TARGET. Each side's
  end is passed on: when the client stops sending, the target is sent EOF, and the target's
  answers still reach the client, until the target ends too. A reset on one side resets the
  other. A target that refuses or does not answer within -w closes that client with one line
  on stderr; the relay keeps serving.

Display:
  --mode hex and --mode pickle show each direction of each connection as a stream of its own,
  headed `#N client -> server` or `#N server -> client`. --mode raw shows nothing unless --show
  is given: a pure forwarder. Nothing but what passes is ever written to stdout.",
    "\n\n",
    exit_status!()
);

macro_rules! udp_listen_examples {
    () => {
        "\
Examples:
  # as `nc -l -u 12345`; typed lines go back to the sender
  sockkit udp-listen 12345
  # each datagram as a hex dump headed by its sender
  sockkit udp-listen --show-sender -x 12345
  # echo ten datagrams, then exit
  sockkit udp-listen --echo --count 10 12345"
    };
}

const UDP_LISTEN_EXAMPLES: &str = udp_listen_examples!();
const UDP_LISTEN_LONG: &str = concat!(
    udp_listen_examples!(),
    "\n\n",
    "End of stream:
  UDP has no connection to close: when stdin ends, udp-listen keeps receiving until Ctrl-C or
  --count datagrams. Each line of stdin goes as one datagram to the latest sender (or the one
  chosen with /to in the line editor); before any datagram came, there is no one to send it to.",
    "\n\n",
    exit_status!()
);

macro_rules! udp_send_examples {
    () => {
        "\
Examples:
  # one datagram, then print the replies
  sockkit udp-send localhost 12345 'Hello, world'
  # each line of stdin is a datagram; wait 2s for replies
  echo ping | sockkit udp-send --wait 2s 127.0.0.1 12345
  # the bytes these hex digits spell
  sockkit udp-send --send hex 127.0.0.1 12345 '48 65 6c 6c 6f'"
    };
}

const UDP_SEND_EXAMPLES: &str = udp_send_examples!();
const UDP_SEND_LONG: &str = concat!(
    udp_send_examples!(),
    "\n\n",
    "End of stream:
  UDP has no connection to close: after MESSAGE, or when stdin ends, udp-send waits for replies
  until --wait passes without one or --count replies came. No reply at all is exit 1, and so is
  a closed port (the host answers ICMP port unreachable).",
    "\n\n",
    exit_status!()
);

macro_rules! lab_client_examples {
    () => {
        "\
Examples:
  # the handshake with a lab server on 127.0.0.1:12000
  sockkit lab-client --port 12000 --name Ada --github ada --sid 123456789
  # the same, showing every byte exchanged
  sockkit lab-client -v --port 12000 --name Ada --github ada --sid 1"
    };
}

const LAB_CLIENT_EXAMPLES: &str = lab_client_examples!();
const LAB_CLIENT_LONG: &str = concat!(
    lab_client_examples!(),
    "\n\n",
    "End of stream:
  The handshake has its own end: lab-client exits 0 once the server acknowledges the student
  record, 1 if the server closes, stays silent or answers something else. With -I the connection
  stays open in the line editor after the acknowledgement, until /quit or the server closes.",
    "\n\n",
    exit_status!()
);

macro_rules! lab_server_examples {
    () => {
        "\
Examples:
  # serve the lab on 127.0.0.1:12000
  sockkit lab-server --port 12000
  # serve every address, one CSV row per acknowledged student
  sockkit lab-server --host 0.0.0.0 --port 12000 --roster class.csv"
    };
}

const LAB_SERVER_EXAMPLES: &str = lab_server_examples!();
const LAB_SERVER_LONG: &str = concat!(
    lab_server_examples!(),
    "\n\n",
    "End of stream:
  Each client is served until it closes; one that has not completed its handshake is closed
  after --handshake-timeout. Ctrl-C or SIGTERM stops accepting, lets handshakes in flight finish
  (for a bounded time), prints a summary and exits 130 or 143.",
    "\n\n",
    exit_status!()
);

/// The clap face of [`DisplayMode`]: same variants, and their doc comments are the help text.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum DisplayModeArg {
    /// Bytes exactly as received.
    Raw,
    /// A hex dump with offsets and an ASCII column, like `hexdump -C`.
    Hex,
    /// Decode Python pickles in the stream and print each as Python's repr() would.
    Pickle,
}

impl From<DisplayModeArg> for DisplayMode {
    fn from(arg: DisplayModeArg) -> DisplayMode {
        match arg {
            DisplayModeArg::Raw => DisplayMode::Raw,
            DisplayModeArg::Hex => DisplayMode::Hex,
            DisplayModeArg::Pickle => DisplayMode::Pickle,
        }
    }
}

/// The clap face of [`SendMode`].
#[derive(Debug, Clone, Copy, ValueEnum)]
enum SendModeArg {
    /// Bytes exactly as read.
    Raw,
    /// Each line is hex digits (spaces allowed), sent as the bytes they spell.
    Hex,
    /// Each line is a Python literal, sent as one pickle.
    Pickle,
}

impl From<SendModeArg> for SendMode {
    fn from(arg: SendModeArg) -> SendMode {
        match arg {
            SendModeArg::Raw => SendMode::Raw,
            SendModeArg::Hex => SendMode::Hex,
            SendModeArg::Pickle => SendMode::Pickle,
        }
    }
}

/// The clap face of [`Framing`].
#[derive(Debug, Clone, Copy, ValueEnum)]
enum FramingArg {
    /// Pickles back to back; each ends at its STOP opcode (what the socket labs send).
    Stop,
    /// Each pickle after a 4-byte big-endian length, as Python's multiprocessing.connection sends.
    Len32,
}

impl From<FramingArg> for Framing {
    fn from(arg: FramingArg) -> Framing {
        match arg {
            FramingArg::Stop => Framing::Stop,
            FramingArg::Len32 => Framing::Len32,
        }
    }
}

/// Parses the values of the mirror `A` (its names and help, for usage, completions and man pages)
/// and hands on the library's `D`: the one place the two meet.
fn mirrored<A, D>() -> impl TypedValueParser<Value = D>
where
    A: ValueEnum + Clone + Send + Sync + 'static,
    D: From<A> + Clone + Send + Sync + 'static,
{
    EnumValueParser::<A>::new().map(D::from)
}

/// Options shared by every command that shows received data.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// How to show received data.
    #[arg(long, value_name = "MODE", default_value = "raw", value_parser = mirrored::<DisplayModeArg, DisplayMode>())]
    pub mode: DisplayMode,
    /// Short for --mode hex.
    #[arg(short = 'x', conflicts_with = "mode")]
    pub hex: bool,
    /// How pickles are delimited in the stream (--mode pickle).
    #[arg(long, value_name = "FRAMING", default_value = "stop", value_parser = mirrored::<FramingArg, Framing>())]
    pub framing: Framing,
    /// Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024, value_parser = parse_limit, allow_negative_numbers = true)]
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
    #[arg(long = "send", value_name = "MODE", default_value = "raw", value_parser = mirrored::<SendModeArg, SendMode>())]
    pub send: SendMode,
    /// Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python
    /// 3.0+).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = parse_pickle_protocol, allow_negative_numbers = true)]
    pub pickle_protocol: u8,
    /// Send line endings as CRLF (LF becomes CR LF).
    #[arg(short = 'C', long)]
    pub crlf: bool,
}

impl From<&SendArgs> for SendOpts {
    fn from(args: &SendArgs) -> SendOpts {
        SendOpts {
            mode: args.send,
            pickle_protocol: args.pickle_protocol,
            crlf: args.crlf,
        }
    }
}

impl ReplArgs {
    /// The REPL's set-up, typed lines sent as `send` says.
    pub fn setup(&self, send: &SendArgs) -> crate::repl::ReplSetup {
        crate::repl::ReplSetup {
            history: !self.no_history,
            send: send.into(),
        }
    }
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
    /// `-I` needs a terminal to edit lines on: without one it is a usage error, said once.
    pub fn check(&self) -> anyhow::Result<()> {
        use std::io::IsTerminal;
        if self.interactive && !std::io::stdin().is_terminal() {
            return Err(crate::error::usage(
                "-I/--interactive needs a terminal on stdin, and stdin is a pipe or a file (leave -I out to send stdin as it is)",
            ));
        }
        Ok(())
    }

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
    #[arg(value_name = "HOST", value_parser = parse_host, required_unless_present = "unix", conflicts_with = "unix")]
    pub host: Option<String>,
    /// Port to connect to; with -z, any number of ports and ranges (20-25).
    #[arg(value_name = "PORT", required_unless_present = "unix", num_args = 1.., allow_negative_numbers = true)]
    pub ports: Vec<String>,
    /// Connect to the Unix stream socket at PATH instead of HOST PORT (@NAME: Linux's abstract
    /// namespace).
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath, conflicts_with_all = ["zero_io", "source", "source_port"])]
    pub unix: Option<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Source address to connect from.
    #[arg(short = 's', long = "source", value_name = "ADDR", value_parser = parse_host)]
    pub source: Option<String>,
    /// Source port to connect from.
    #[arg(short = 'p', long = "source-port", value_name = "PORT", value_parser = parse_port, allow_negative_numbers = true)]
    pub source_port: Option<u16>,
    /// Give up a connection attempt, and with --tls its handshake, after this long (500ms, 3s, 2m; a
    /// bare number is seconds).
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub connect_timeout: Option<Duration>,
    /// Keep retrying a refused connection (with -U, also a missing socket file) for this long (wait
    /// for a server to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    pub retry: Option<Duration>,
    /// Zero-I/O mode: report which ports accept a connection, send nothing (so the relay flags -q,
    /// -i, --no-shutdown, --send-only, --recv-only, --send, -C, -I are refused with it).
    #[arg(short = 'z', long = "zero-io")]
    pub zero_io: bool,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

/// TLS, for `connect` and `listen`. The flags that belong to one side only are refused on the other.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// Use TLS (1.2 or 1.3). connect verifies the server's certificate against the system's trusted
    /// authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate
    /// and prints the --pin a client needs.
    #[arg(long, visible_alias = "ssl")]
    pub tls: bool,
    /// connect: trust the certificate authorities in this PEM file instead of the system's.
    #[arg(
        long,
        value_name = "FILE",
        visible_alias = "ssl-trustfile",
        requires = "tls"
    )]
    pub ca: Option<PathBuf>,
    /// connect: accept exactly the server certificate with this SHA-256 digest, `sha256:HEX`, as
    /// `listen --tls` prints it (repeatable); the handshake's signatures are still checked.
    #[arg(long, value_name = "PIN", value_parser = parse_pin, requires = "tls")]
    pub pin: Vec<[u8; 32]>,
    /// connect: do not verify the server's certificate at all (a warning says so): anyone on the
    /// path can read and change the data.
    #[arg(long, requires = "tls", conflicts_with_all = ["ca", "pin"])]
    pub insecure: bool,
    /// connect: the server name to send and to check the certificate against [default: HOST, unless
    /// it is an IP address].
    #[arg(
        long,
        value_name = "NAME",
        visible_alias = "ssl-servername",
        requires = "tls"
    )]
    pub sni: Option<String>,
    /// An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable).
    #[arg(
        long,
        value_name = "PROTO",
        visible_alias = "ssl-alpn",
        requires = "tls"
    )]
    pub alpn: Vec<String>,
    /// Certificate chain in PEM: the server's (listen) or a client certificate (connect); with --key.
    #[arg(long, value_name = "FILE", visible_alias = "ssl-cert", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// The private key of --cert, in PEM.
    #[arg(long, value_name = "FILE", visible_alias = "ssl-key", requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,
    /// listen: require client certificates issued by the authorities in this PEM file.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub client_ca: Option<PathBuf>,
}

impl TlsArgs {
    fn cert_and_key(&self) -> Option<(PathBuf, PathBuf)> {
        Some((self.cert.clone()?, self.key.clone()?))
    }

    /// The client's TLS options, if `--tls` was given; a server-only flag is refused.
    pub(crate) fn client(&self) -> anyhow::Result<Option<crate::tls::ClientOpts>> {
        if self.client_ca.is_some() {
            return Err(crate::error::usage(
                "--client-ca applies to listen --tls (it asks clients for certificates); to trust a server's authority, use --ca",
            ));
        }
        Ok(self.tls.then(|| crate::tls::ClientOpts {
            ca: self.ca.clone(),
            pins: self.pin.clone(),
            insecure: self.insecure,
            sni: self.sni.clone(),
            alpn: self.alpn.clone(),
            cert: self.cert_and_key(),
        }))
    }

    /// The server's TLS options, if `--tls` was given; a client-only flag is refused.
    pub(crate) fn server(&self) -> anyhow::Result<Option<crate::tls::ServerOpts>> {
        let client_only = [
            (
                self.ca.is_some(),
                "--ca",
                "to verify client certificates, use --client-ca",
            ),
            (
                !self.pin.is_empty(),
                "--pin",
                "a server does not pin its clients; use --client-ca",
            ),
            (
                self.insecure,
                "--insecure",
                "a server checks nothing unless --client-ca is given",
            ),
            (
                self.sni.is_some(),
                "--sni",
                "the server name is the client's choice",
            ),
        ];
        if let Some((_, flag, fix)) = client_only.iter().find(|(given, _, _)| *given) {
            return Err(crate::error::usage(format!(
                "{flag} applies to connect --tls only: {fix}"
            )));
        }
        Ok(self.tls.then(|| crate::tls::ServerOpts {
            cert: self.cert_and_key(),
            client_ca: self.client_ca.clone(),
            alpn: self.alpn.clone(),
        }))
    }
}

/// A `--pin` value: `sha256:` and the certificate's SHA-256 digest in hex (colons allowed).
pub fn parse_pin(text: &str) -> Result<[u8; 32], BadValue> {
    crate::tls::parse_pin(text).map_err(|reason| {
        BadValue::new(reason).hint("listen --tls prints the pin of its certificate; openssl x509 -noout -fingerprint -sha256 shows any certificate's")
    })
}

/// How `connect` and `listen` relay a connection: the end-of-stream flags.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Close a connection after this long without data in either direction (exit 1 when it was the
    /// only one).
    #[arg(short = 'i', long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub idle_timeout: Option<Duration>,
    /// Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one
    /// connection only, not with -k).
    #[arg(short = 'q', long = "quit-after-eof", value_name = "SECS", value_parser = parse_duration, allow_hyphen_values = true)]
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
    /// Say what happens on stderr: connections, half-closes, transfer summaries.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show a live byte count and rate on stderr (when it is a terminal).
    #[arg(long)]
    pub progress: bool,
}

impl From<&RelayArgs> for crate::relay::RelayConfig {
    fn from(args: &RelayArgs) -> Self {
        crate::relay::RelayConfig {
            no_shutdown: args.no_shutdown,
            quit_after_eof: args.quit_after_eof,
            idle_timeout: args.idle_timeout,
            send_only: args.send_only,
            verbose: args.verbose,
            progress: args.progress,
        }
    }
}

#[derive(Debug, Args)]
pub struct RelayCmdArgs {
    /// [HOST:]PORT to listen on (no HOST: every IPv6 and IPv4 address; port 0 picks a free one and
    /// prints it), or a Unix socket: a path starting with / or ./, or @name (Linux).
    #[arg(value_name = "LISTEN")]
    pub listen: String,
    /// HOST:PORT each client is forwarded to (an IPv6 address in brackets: [::1]:80), or a Unix
    /// socket: a path starting with / or ./, or @name (Linux).
    #[arg(value_name = "TARGET")]
    pub target: String,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Accepted for nc habits: relay always serves many clients at once.
    #[arg(short = 'k', long, hide = true)]
    pub keep_open: bool,
    /// Most clients served at once; extra clients are closed.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 100, value_parser = parse_limit, allow_negative_numbers = true)]
    pub max_conns: usize,
    /// Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub allow: Vec<String>,
    /// Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub deny: Vec<String>,
    /// Give up connecting to the target after this long (500ms, 3s, 2m; a bare number is seconds).
    #[arg(short = 'w', long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub connect_timeout: Option<Duration>,
    /// Close a connection after this long without data in either direction.
    #[arg(short = 'i', long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub idle_timeout: Option<Duration>,
    /// With --mode raw, show what passes too (by default a raw relay only forwards).
    #[arg(long)]
    pub show: bool,
    /// Serve TLS to clients, with --cert/--key or a self-signed certificate whose --pin is printed.
    #[arg(long)]
    pub listen_tls: bool,
    /// Speak TLS to the target, verifying its certificate (the system's authorities, --ca or
    /// --pin) and its name (TARGET's host, or --sni).
    #[arg(long)]
    pub target_tls: bool,
    /// --listen-tls: the certificate chain clients are shown, in PEM; with --key.
    #[arg(long, value_name = "FILE", requires_all = ["listen_tls", "key"])]
    pub cert: Option<PathBuf>,
    /// --listen-tls: the private key of --cert, in PEM.
    #[arg(long, value_name = "FILE", requires_all = ["listen_tls", "cert"])]
    pub key: Option<PathBuf>,
    /// --listen-tls: require client certificates issued by the authorities in this PEM file.
    #[arg(long, value_name = "FILE", requires = "listen_tls")]
    pub client_ca: Option<PathBuf>,
    /// --target-tls: trust the certificate authorities in this PEM file instead of the system's.
    #[arg(long, value_name = "FILE", requires = "target_tls")]
    pub ca: Option<PathBuf>,
    /// --target-tls: accept exactly the target certificate with this SHA-256 digest (repeatable).
    #[arg(long, value_name = "PIN", value_parser = parse_pin, requires = "target_tls")]
    pub pin: Vec<[u8; 32]>,
    /// --target-tls: do not verify the target's certificate at all (a warning says so).
    #[arg(long, requires = "target_tls", conflicts_with_all = ["ca", "pin"])]
    pub insecure: bool,
    /// --target-tls: the server name to send and check [default: TARGET's host, unless an address].
    #[arg(long, value_name = "NAME", requires = "target_tls")]
    pub sni: Option<String>,
    /// Say on stderr when each connection opens and closes: who closed first, bytes each way.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// [HOST] PORT: the address to listen on (default: every IPv6 and IPv4 address) and the port
    /// (0 picks a free one and prints it).
    #[arg(value_name = "HOST PORT", num_args = 0..=2, allow_negative_numbers = true)]
    pub addr: Vec<String>,
    /// Port to listen on (for nc-traditional habits: `listen -p 12345`).
    #[arg(short = 'p', long, value_name = "PORT", value_parser = parse_port, allow_negative_numbers = true)]
    pub port: Option<u16>,
    /// Listen on a Unix stream socket at PATH instead of a TCP port (@NAME: Linux's abstract
    /// namespace). A stale socket file there is replaced; the file is removed on exit.
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath, conflicts_with_all = ["addr", "port", "allow", "deny"])]
    pub unix: Option<String>,
    /// Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as
    /// the umask leaves them].
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode, allow_negative_numbers = true)]
    pub unix_mode: Option<u32>,
    /// Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`.
    #[arg(short = 'l', hide = true)]
    pub listen: bool,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Keep listening: serve many clients at once.
    #[arg(short = 'k', long)]
    pub keep_open: bool,
    /// Most clients served at once with -k; extra clients are closed.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 100, value_parser = parse_limit, allow_negative_numbers = true)]
    pub max_conns: usize,
    /// Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub allow: Vec<String>,
    /// Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub deny: Vec<String>,
    /// Send every client's data back to it (and print it); stdin is not read, so the flags about stdin
    /// (-q, --no-shutdown, --send-only, --send, -C, -I) are refused with it.
    #[arg(long, conflicts_with_all = ["broker", "chat"])]
    pub echo: bool,
    /// Relay each client's data to all other clients (implies -k).
    #[arg(long)]
    pub broker: bool,
    /// Like --broker, with a `<clientN>` prefix on each line and control characters (C0, C1, bidi
    /// overrides) escaped.
    #[arg(long)]
    pub chat: bool,
    #[command(flatten)]
    pub relay: RelayArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
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
    #[arg(value_name = "HOST PORT", num_args = 0..=2, allow_negative_numbers = true)]
    pub addr: Vec<String>,
    /// Port to listen on (for nc-traditional habits).
    #[arg(short = 'p', long, value_name = "PORT", value_parser = parse_port, allow_negative_numbers = true)]
    pub port: Option<u16>,
    /// Receive on a Unix datagram socket at PATH instead of a UDP port (@NAME: Linux's abstract
    /// namespace). A stale socket file there is replaced; the file is removed on exit.
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath, conflicts_with_all = ["addr", "port", "rcvbuf"])]
    pub unix: Option<String>,
    /// Permissions of the -U socket file, in octal (660: owner and group may send) [default: as the
    /// umask leaves them].
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode, allow_negative_numbers = true)]
    pub unix_mode: Option<u32>,
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
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,
    /// Say what happens on stderr: where it listens, each datagram's sender and size, and every
    /// second and at the end how many datagrams came and how many the kernel dropped (stdout is
    /// unchanged; --show-sender puts the sender there).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Receive buffer of the socket (SO_RCVBUF), in bytes or with K, M or G: datagrams that arrive
    /// while it is full are dropped by the kernel. The system caps it (net.core.rmem_max on Linux);
    /// a note says so when it gives less [default: 4M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, allow_negative_numbers = true)]
    pub rcvbuf: Option<usize>,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub repl: ReplArgs,
    #[command(flatten)]
    pub send: SendArgs,
}

#[derive(Debug, Args)]
pub struct UdpSendArgs {
    /// Host name or address to send to (with -U, the first word is the MESSAGE).
    #[arg(value_name = "HOST", value_parser = parse_host, required_unless_present = "unix")]
    pub host: Option<String>,
    /// Port to send to.
    #[arg(value_name = "PORT", value_parser = parse_dest_port, allow_negative_numbers = true, required_unless_present = "unix")]
    pub port: Option<u16>,
    /// The message; without it, each line of stdin is sent as one datagram.
    #[arg(value_name = "MESSAGE")]
    pub message: Option<String>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Send to the Unix datagram socket at PATH instead of HOST PORT (@NAME: Linux's abstract
    /// namespace); replies come back to a socket of its own.
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub unix: Option<String>,
    /// Keep resending the first datagram while the port is closed (with -U: wait while the socket is
    /// missing), for this long (wait for a listener to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    pub retry: Option<Duration>,
    /// Stop waiting for replies after this long without one (0 = do not wait).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, allow_hyphen_values = true)]
    pub wait: Duration,
    /// Stop after this many replies.
    #[arg(long, value_name = "N", value_parser = parse_count, allow_negative_numbers = true)]
    pub count: Option<u64>,
    /// Prefix each reply with the address it came from.
    #[arg(long)]
    pub show_sender: bool,
    /// Cut stdin into datagrams of SIZE bytes (the last one may be shorter) instead of one datagram
    /// per line: a stream, to measure a link or a server.
    #[arg(long, value_name = "SIZE", value_parser = parse_datagram_size, allow_negative_numbers = true)]
    pub size: Option<usize>,
    /// Send at most this many datagrams a second, evenly spaced (1000, 1000/s, 20/ms, 30/m).
    #[arg(long, value_name = "RATE", value_parser = parse_rate, allow_hyphen_values = true)]
    pub rate: Option<f64>,
    /// Say what happens on stderr, and at the end how many datagrams were sent and received.
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
    #[arg(long, value_name = "IP", default_value = "127.0.0.1", value_parser = parse_host)]
    pub ip: String,
    /// Server port.
    #[arg(long, value_name = "PORT", default_value_t = 12000, value_parser = parse_dest_port, allow_negative_numbers = true)]
    pub port: u16,
    /// Connect to a lab server on the Unix stream socket at PATH instead of --ip/--port (@NAME:
    /// Linux's abstract namespace).
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath, conflicts_with_all = ["ip", "port"])]
    pub unix: Option<String>,
    /// Student name.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// GitHub user name.
    #[arg(long, value_name = "USER")]
    pub github: String,
    /// Student id.
    #[arg(long, value_name = "SID", allow_negative_numbers = true, value_parser = parse_sid)]
    pub sid: i64,
    /// Keep retrying a refused connection for this long (wait for a server to start).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    pub retry: Option<Duration>,
    /// Give up waiting for the client id or the acknowledgement after this long (default: wait
    /// as a Python client does, with a note on stderr after 5 s).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub ack_timeout: Option<Duration>,
    /// Give up connecting after this long.
    #[arg(short = 'w', long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub connect_timeout: Duration,
    /// Pickle protocol of the student dict (Python 3.8+ sends 4).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = parse_pickle_protocol, allow_negative_numbers = true)]
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
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, value_name = "PORT", default_value_t = 12000, value_parser = parse_port, allow_negative_numbers = true)]
    pub port: u16,
    /// Listen on a Unix stream socket at PATH instead of --host/--port (@NAME: Linux's abstract
    /// namespace); each client's id is then its number, 1, 2, 3... A stale socket file there is
    /// replaced; the file is removed on exit.
    #[arg(short = 'U', long = "unix", value_name = "PATH", value_hint = ValueHint::AnyPath, conflicts_with_all = ["host", "port", "allow", "deny"])]
    pub unix: Option<String>,
    /// Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as
    /// the umask leaves them].
    #[arg(long, value_name = "OCTAL", value_parser = parse_mode, allow_negative_numbers = true)]
    pub unix_mode: Option<u32>,
    /// Deadline for a student record: the first must be complete this long after the client
    /// connected, each later one this long after its first bytes, however slowly they arrive.
    /// Silence between records is never a reason to close (see --idle-timeout).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub handshake_timeout: Duration,
    /// Close an acknowledged client that sends nothing for this long (default: never, as the
    /// original server keeps it).
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub idle_timeout: Option<Duration>,
    /// Accept only records with exactly the three keys, the name and GitHub user name as str and
    /// the sid as int (the original server takes any values and ignores extra keys).
    #[arg(long)]
    pub strict: bool,
    /// Append one CSV row per acknowledged student to this file.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// Most clients connected at once; extra clients are closed.
    #[arg(short = 'm', long, value_name = "N", default_value_t = 10_000, value_parser = parse_limit, allow_negative_numbers = true)]
    pub max_conns: usize,
    /// Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub allow: Vec<String>,
    /// Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable).
    #[arg(long, value_name = "CIDRS", value_parser = parse_cidrs)]
    pub deny: Vec<String>,
    /// Largest record accepted from a client, in bytes. The original server reads one recv(1024),
    /// so no longer record ever worked with it; the default leaves eight times that.
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024, value_parser = parse_limit, allow_negative_numbers = true)]
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

/// Parses `500ms`, `3s`, `2m`, `1h`, `1m30s`, or a bare number of seconds (`5`, `0.5`, `1.5s`).
pub fn parse_duration(text: &str) -> Result<Duration, BadValue> {
    const EXAMPLES: &str =
        "write a number and a unit, like 500ms, 3s, 2m or 1m30s (a bare number is seconds)";
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('-') {
        // `-w -v`: the next flag was taken as the value (durations take values starting with `-` so
        // that `-1s` can be refused as negative rather than as an unknown flag).
        if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return Err(
                BadValue::new("expected a duration, found what looks like a flag")
                    .hint("give the option its value, like 3s, before the next flag"),
            );
        }
        return Err(BadValue::new("a duration cannot be negative").hint(EXAMPLES));
    }
    // A number with at most one unit: decimals and exponents allowed (`0.5s`, `1e3ms`).
    let split = text
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "" | "s" | "sec" | "secs" => Some(1.0),
        "ms" => Some(1e-3),
        "us" => Some(1e-6),
        "ns" => Some(1e-9),
        "m" | "min" | "mins" => Some(60.0),
        "h" | "hr" | "hrs" => Some(3600.0),
        "d" | "day" | "days" => Some(86_400.0),
        _ => None,
    };
    let simple = match (number.parse::<f64>(), scale) {
        (Ok(n), Some(scale)) if !number.is_empty() => Some(n * scale),
        _ => None,
    };
    let d = match simple {
        Some(secs) if secs.is_nan() => return Err(BadValue::new("not a number").hint(EXAMPLES)),
        Some(secs) if secs > MAX_DURATION.as_secs_f64() => None,
        Some(secs) => Some(Duration::from_secs_f64(secs)),
        None => match humantime::parse_duration(text) {
            Ok(d) => Some(d),
            Err(humantime::DurationError::NumberOverflow) => None,
            Err(_) => return Err(BadValue::new("not a duration").hint(EXAMPLES)),
        },
    };
    // Deadlines are the time now plus the duration: keep that sum representable.
    match d {
        Some(d) if d <= MAX_DURATION => Ok(d),
        _ => Err(BadValue::new("longer than 100 years").hint("leave the option out for no limit")),
    }
}

/// A duration that must be more than zero (a timeout of 0 would fail everything at once).
pub fn parse_timeout(text: &str) -> Result<Duration, BadValue> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(BadValue::new("must be more than 0").hint(
            "give a time like 500ms or 3s (an option with no default has no limit when left out)",
        ));
    }
    Ok(d)
}

fn parse_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, BadValue> {
    text.trim()
        .parse::<T>()
        .map_err(|_| BadValue::new(format!("expected {what}")))
}

/// A port to listen on or bind from: 0 picks a free one.
pub fn parse_port(text: &str) -> Result<u16, BadValue> {
    parse_number(text, "a port number from 0 to 65535")
}

/// A port to send or connect to: 0 cannot be reached.
pub fn parse_dest_port(text: &str) -> Result<u16, BadValue> {
    match parse_number::<u16>(text, "a port number from 1 to 65535")? {
        0 => Err(BadValue::new("port 0 cannot be connected or sent to")
            .hint("give the port the server listens on (1 to 65535)")),
        port => Ok(port),
    }
}

/// A count of messages: at least 1 (leave the option out for no limit).
pub fn parse_count(text: &str) -> Result<u64, BadValue> {
    match parse_number::<u64>(text, "a whole number, at least 1")? {
        0 => Err(BadValue::new("must be at least 1").hint("leave the option out for no limit")),
        n => Ok(n),
    }
}

/// The permissions of a socket file: octal digits, at most 7777.
/// `--unix-mode` without `-U` is refused (checked by the commands: clap's `requires` gives way
/// to the positional address that `-U` conflicts with).
pub fn check_unix_mode(unix: &Option<String>, mode: Option<u32>) -> anyhow::Result<()> {
    if mode.is_some() && unix.is_none() {
        return Err(crate::error::usage(
            "--unix-mode applies only with -U PATH: it sets the socket file's permissions",
        ));
    }
    Ok(())
}

pub fn parse_mode(text: &str) -> Result<u32, BadValue> {
    let digits = text.trim().trim_start_matches("0o");
    match u32::from_str_radix(digits, 8) {
        Ok(mode) if mode <= 0o7777 && !digits.is_empty() && !digits.starts_with('+') => Ok(mode),
        _ => Err(BadValue::new("not an octal mode").hint("give octal digits such as 600 or 660")),
    }
}

/// A limit (clients, bytes): at least 1, since 0 would refuse everything.
pub fn parse_limit(text: &str) -> Result<usize, BadValue> {
    match parse_number::<usize>(text, "a whole number, at least 1")? {
        0 => Err(BadValue::new(
            "must be at least 1 (0 would refuse everything)",
        )),
        n => Ok(n),
    }
}

/// A size in bytes: a whole number, optionally with K, M or G (binary multiples: 4K is 4096).
pub fn parse_size(text: &str) -> Result<usize, BadValue> {
    let t = text.trim();
    let (number, scale) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (t, 1),
        Some((i, _)) => match t[i..].to_ascii_uppercase().as_str() {
            "K" | "KB" | "KIB" => (&t[..i], 1 << 10),
            "M" | "MB" | "MIB" => (&t[..i], 1 << 20),
            "G" | "GB" | "GIB" => (&t[..i], 1 << 30),
            _ => ("", 0),
        },
    };
    match number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
    {
        Some(0) => Err(BadValue::new("must be at least 1")),
        Some(n) => Ok(n),
        None => Err(BadValue::new("expected a size in bytes")
            .hint("write a whole number, optionally with K, M or G, like 65536, 256K or 4M")),
    }
}

/// The largest UDP payload over IPv4.
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// A datagram size for `udp-send --size`: 1 to 65507 bytes.
pub fn parse_datagram_size(text: &str) -> Result<usize, BadValue> {
    match parse_size(text)? {
        n if n <= MAX_UDP_PAYLOAD => Ok(n),
        _ => Err(
            BadValue::new(format!("a datagram holds at most {MAX_UDP_PAYLOAD} bytes"))
                .hint("give a size from 1 to 65507, like 1400 or 8K"),
        ),
    }
}

/// A rate in datagrams a second: `1000`, `1000/s`, `20/ms`, `30/m`.
pub fn parse_rate(text: &str) -> Result<f64, BadValue> {
    const EXAMPLES: &str = "write how many a second, like 1000 or 1000/s (also /ms, /m, /h)";
    let (number, per) = text.trim().split_once('/').unwrap_or((text.trim(), "s"));
    let seconds = match per {
        "s" | "sec" => 1.0,
        "ms" => 1e-3,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(BadValue::new("not a rate").hint(EXAMPLES)),
    };
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && seconds / n <= MAX_DURATION.as_secs_f64() => {
            Ok(n / seconds)
        }
        Ok(n) if n.is_finite() && n > 0.0 => Err(BadValue::new("slower than one in 100 years")),
        Ok(_) => Err(BadValue::new("must be more than 0").hint(EXAMPLES)),
        Err(_) => Err(BadValue::new("not a rate").hint(EXAMPLES)),
    }
}

/// A pickle protocol, 0 to 5.
pub fn parse_pickle_protocol(text: &str) -> Result<u8, BadValue> {
    match parse_number::<u8>(text, "a pickle protocol from 0 to 5") {
        Ok(n) if n <= 5 => Ok(n),
        _ => Err(BadValue::new("expected a pickle protocol from 0 to 5")),
    }
}

/// A student id: any whole number, negative included (Python's `int`).
pub fn parse_sid(text: &str) -> Result<i64, BadValue> {
    parse_number(text, "a whole number")
}

/// A host name or address: not empty (an empty shell variable must not mean "anywhere").
pub fn parse_host(text: &str) -> Result<String, BadValue> {
    if text.trim().is_empty() {
        return Err(
            BadValue::new("the host is empty").hint("give a name or an address such as 127.0.0.1")
        );
    }
    Ok(text.to_string())
}

/// An `--allow`/`--deny` value: comma-separated entries, none of them empty, so that an empty shell
/// variable is refused rather than removing the filter.
pub fn parse_cidrs(text: &str) -> Result<String, BadValue> {
    if text.split(',').any(|e| e.trim().is_empty()) {
        return Err(BadValue::new("an entry is empty").hint(
            "give addresses or CIDR ranges separated by single commas, like 10.0.0.0/8,::1",
        ));
    }
    Ok(text.to_string())
}

/// The longest duration any option takes: 100 years (of 365.25 days, as humantime counts `100y`).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_modes_are_octal() {
        assert_eq!(parse_mode("600").unwrap(), 0o600);
        assert_eq!(parse_mode("0o660").unwrap(), 0o660);
        assert_eq!(parse_mode("1777").unwrap(), 0o1777);
        for bad in ["", "9", "68", "17777", "+7", "rw"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    /// Each clap mirror turns into the library's variant of the same name, and the flags hand on
    /// what they parsed.
    #[test]
    fn mirrors_map_to_the_same_variant() {
        fn same<A: ValueEnum + std::fmt::Debug, D: From<A> + std::fmt::Debug>() {
            for a in A::value_variants() {
                assert_eq!(format!("{a:?}"), format!("{:?}", D::from(a.clone())));
            }
        }
        same::<DisplayModeArg, DisplayMode>();
        same::<SendModeArg, SendMode>();
        same::<FramingArg, Framing>();
        let cli = Cli::try_parse_from([
            "sockkit",
            "connect",
            "--mode",
            "pickle",
            "--framing",
            "len32",
            "--send",
            "hex",
            "-C",
            "h",
            "1",
        ])
        .unwrap();
        let Command::Connect(args) = cli.command else {
            panic!("not connect")
        };
        assert_eq!(args.display.mode(), DisplayMode::Pickle);
        assert_eq!(args.display.framing, Framing::Len32);
        assert_eq!(
            SendOpts::from(&args.send),
            SendOpts {
                mode: SendMode::Hex,
                pickle_protocol: 4,
                crlf: true
            }
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536").ok(), Some(65536));
        assert_eq!(parse_size("4K").ok(), Some(4096));
        assert_eq!(parse_size("4m").ok(), Some(4 << 20));
        assert_eq!(parse_size("1GiB").ok(), Some(1 << 30));
        for bad in ["", "0", "-1", "4X", "K", "1.5M", "99999999999999999999"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_and_datagram_sizes() {
        assert_eq!(parse_rate("1000").ok(), Some(1000.0));
        assert_eq!(parse_rate("1000/s").ok(), Some(1000.0));
        assert_eq!(parse_rate("20/ms").ok(), Some(20_000.0));
        assert_eq!(parse_rate("30/m").ok(), Some(0.5));
        for bad in ["", "0", "-5", "x/s", "10/week", "nan", "inf"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_datagram_size("65507").ok(), Some(65507));
        assert!(parse_datagram_size("65508").is_err());
        assert!(parse_datagram_size("0").is_err());
    }

    #[test]
    fn durations() {
        let ok = |t: &str| parse_duration(t).ok();
        assert_eq!(ok("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(ok("3s"), Some(Duration::from_secs(3)));
        assert_eq!(ok("2m"), Some(Duration::from_secs(120)));
        assert_eq!(ok("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(ok("5"), Some(Duration::from_secs(5)));
        assert_eq!(ok("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(ok("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(ok("1e3ms"), Some(Duration::from_secs(1)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("nan").is_err());
        assert!(parse_duration("100y").is_ok());
        assert_eq!(
            parse_duration("-1s").unwrap_err().reason,
            "a duration cannot be negative"
        );
        assert_eq!(
            parse_duration("-v").unwrap_err().reason,
            "expected a duration, found what looks like a flag"
        );
        assert!(parse_duration("1e30").is_err());
        for huge in ["101y", "18000000000000000000s", "3200000000", "1e99s"] {
            let err = parse_duration(huge).unwrap_err();
            assert_eq!(err.reason, "longer than 100 years", "{huge}");
        }
    }
}
