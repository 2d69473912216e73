//! `sockkit lab-client`: the student's side of the socket-lab handshake (PROTOCOL.md section 1).
//!
//! Prints exactly the lab's lines, `{'clientid': 60644} has successfully connected to 127.0.0.1/12000`
//! (or to the `-U` socket's path) and `Data acknowledged by server and you passed the test`, and accepts what a Python client
//! written from the lab README accepts: any welcome (printed with Python's `str()`, a nested dict or
//! a str id included), any acknowledgement equal to 1 in Python (`1`, `True`, `1.0`), however late
//! it comes (`--ack-timeout` sets a limit; by default a note on stderr after 5 s says what it waits
//! for). What a Python client would crash on (not running, closing early, bytes that are not a
//! pickle, a reply that is not 1) is one clear line and exit status 1. Messages are found by their
//! pickle STOP opcode, so a reply split or joined by TCP is read exactly once.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::LabClientArgs;
use crate::conn::Conn;
use crate::error::{describe_io, ExitCode};
use crate::escape::{escape, escape_into};
use crate::lab;
use crate::net::{self, ConnectOpts};
use crate::output::Output;
use crate::pickle::encode::encode;
use crate::pickle::Framing;
use crate::pickle::{Decoded, Event, Limits, PickleStream};
use crate::relay;
use crate::render::DisplayMode;
use crate::render::{hex::HexDump, Render, StreamLabel};
use crate::repl::Attached;

/// Why no message came.
enum Missing {
    Closed,
    TimedOut,
}

/// The connection to the lab server, with the pickles read so far.
struct Session {
    stream: Conn,
    pickles: PickleStream,
    buf: BytesMut,
    /// Every byte received, and how many of them the messages shown so far took (for -v).
    raw: Vec<u8>,
    taken: usize,
    out: Output,
    /// Show every message exchanged: on stdout with --mode hex (a display mode), on stderr with -v
    /// (which never changes stdout).
    show: bool,
    trace_to_stdout: bool,
    /// `HOST/PORT`, as the lab's lines name the server (or the -U path).
    place: String,
}

/// After this long without the message awaited, a note on stderr says what sockkit waits for.
const NOTE_AFTER: Duration = Duration::from_secs(5);

/// Python's `str()` of a received message, with unprintable characters escaped: what a Python
/// client's f-string prints (a dict or an int prints as its repr, a str as its text).
fn str_of(d: &Decoded) -> String {
    let mut text = Vec::new();
    match d.write_str_of(d.root, MAX_SHOWN, &mut text) {
        Ok(()) => {
            let mut out = Vec::with_capacity(text.len());
            escape_into(&text, &mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
        Err(e) => format!("<unshowable: {e}>"),
    }
}

/// The longest message shown whole.
const MAX_SHOWN: usize = 1 << 20;

impl Session {
    /// Reads the next whole pickle, waiting at most `limit` (for ever without one, as a Python
    /// client blocks in `recv`; then a note on stderr after [`NOTE_AFTER`] says what it waits for).
    async fn next(
        &mut self,
        limit: Option<Duration>,
        what: &str,
    ) -> Result<std::result::Result<Decoded, Missing>> {
        let started = tokio::time::Instant::now();
        let deadline = limit.map(|l| started + l);
        let mut note = Some(started + NOTE_AFTER).filter(|n| deadline.is_none_or(|d| *n < d));
        loop {
            if let Some(event) = self.pickles.next_event() {
                return self.event(event).await.map(Ok);
            }
            self.buf.clear();
            self.buf.reserve(4096);
            let read = tokio::select! {
                r = self.stream.read_buf(&mut self.buf) => r,
                () = crate::sleep_until(deadline) => return Ok(Err(Missing::TimedOut)),
                () = crate::sleep_until(note) => {
                    note = None;
                    eprintln!(
                        "sockkit: still waiting for {what} from the lab server at {} (a Python client would too; Ctrl-C ends, --ack-timeout gives up)",
                        self.place
                    );
                    continue;
                }
            };
            let n = match read {
                Err(e) => bail!("connection to the lab server lost: {}", describe_io(&e)),
                Ok(n) => n,
            };
            if n == 0 {
                return match self.pickles.finish() {
                    Some(event) => self.event(event).await.map(Ok),
                    None => Ok(Err(Missing::Closed)),
                };
            }
            self.pickles.push(&self.buf[..n]);
            if self.show {
                self.raw.extend_from_slice(&self.buf[..n]);
            }
        }
    }

    async fn event(&mut self, event: Event) -> Result<Decoded> {
        match event {
            Event::Message(decoded) => Ok(decoded),
            Event::Invalid { reason, bytes, .. } => {
                self.show_bytes("<-- received (not a pickle)", &bytes).await;
                bail!("the server sent something that is not a pickle: {reason}")
            }
            Event::Truncated { bytes } => {
                self.show_bytes("<-- received (truncated)", &bytes).await;
                bail!(
                    "the server closed the connection in the middle of a message ({} bytes)",
                    bytes.len()
                )
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.show_bytes("--> sent", bytes).await;
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| anyhow!("could not send to the lab server: {}", describe_io(&e)))
    }

    /// With -v or --mode hex: a labelled hex dump of one message.
    async fn show_bytes(&self, what: &str, bytes: &[u8]) {
        if !self.show {
            return;
        }
        let mut text = Vec::new();
        let mut dump = HexDump::new(StreamLabel::default(), false);
        let mut diag = Vec::new();
        dump.feed(bytes, &mut text, &mut diag);
        dump.finish(&mut text, &mut diag);
        self.trace(format!("{what} {} bytes:", bytes.len())).await;
        self.trace(String::from_utf8_lossy(&text).trim_end().to_string())
            .await;
    }

    /// One line of the exchange, where --mode hex or -v sends it.
    async fn trace(&self, line: String) {
        if self.trace_to_stdout {
            self.out.text(line).await;
        } else {
            // After what stdout already has, so a terminal or `2>&1` shows them in order.
            self.out.flush().await;
            eprintln!("{line}");
        }
    }

    async fn show_received(&mut self, decoded: &Decoded) {
        if self.show {
            let end = (self.taken + decoded.len()).min(self.raw.len());
            let bytes = self.raw[self.taken..end].to_vec();
            self.taken = end;
            self.show_bytes("<-- received", &bytes).await;
            self.trace(format!("    = {}", escape(&decoded.repr())))
                .await;
        }
    }
}

/// `--interactive`: after the handshake, a REPL on the same connection, showing what the server sends as
/// pickles (so `/pickle {...}` can send more records and see each acknowledgement).
async fn keep_talking(session: Session, args: &LabClientArgs, place: &str) -> Result<ExitCode> {
    let out = session.out.clone();
    if args.display.mode() == DisplayMode::Raw {
        out.send(crate::output::OutMsg::SetMode(DisplayMode::Pickle))
            .await;
    }
    out.text(
        "(handshake done: /pickle {...} sends another record, /help lists commands, /quit ends)"
            .into(),
    )
    .await;
    let setup = crate::repl::ReplSetup {
        history: !args.repl.no_history,
        send: crate::send::SendOpts {
            mode: crate::send::SendMode::Raw,
            pickle_protocol: args.pickle_protocol,
            crlf: false,
        },
    };
    let mut repl = Attached::start(&out, format!("lab {place}> "), &setup, None).await?;
    let control = repl.take_control();
    let label = crate::render::StreamLabel {
        peer: None,
        direction: "received",
    };
    let up = relay::Up::Queue(repl.input);
    let down = relay::stdout_down(&out, 1, label, false, false).await;
    let cfg = relay::RelayConfig::default();
    let work = relay::relay_conn(session.stream, up, down, &cfg, true);
    match Attached::run(control, &out, work).await {
        Some(Err(e)) => Err(e),
        _ => Ok(ExitCode::Success),
    }
}

/// The connection to the lab server, and how the lab's lines name it: `HOST/PORT`, or the -U path.
async fn connect(args: &LabClientArgs) -> Result<(Conn, String)> {
    if let Some(path) = &args.unix {
        #[cfg(unix)]
        {
            let addr = crate::unix::UnixAddr::parse(path)?;
            let stream =
                crate::unix::connect(&addr, Some(args.connect_timeout), args.retry).await?;
            return Ok((stream.into(), addr.to_string()));
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            return Err(crate::error::usage(crate::error::NO_UNIX_SOCKETS));
        }
    }
    let opts = ConnectOpts {
        timeout: Some(args.connect_timeout),
        refused_hint: "is the lab server running?",
        retry: args.retry,
        ..ConnectOpts::default()
    };
    let stream = net::connect(&args.ip, args.port, &opts).await?;
    Ok((stream.into(), format!("{}/{}", args.ip, args.port)))
}

pub async fn run(args: LabClientArgs, out: Output) -> Result<ExitCode> {
    let record = encode(
        &lab::student_dict(&args.name, &args.github, args.sid),
        args.pickle_protocol,
    )
    .map_err(|e| anyhow!("cannot encode the student record: {e}"))?;
    let (stream, place) = connect(&args).await?;
    let mut session = Session {
        stream,
        pickles: PickleStream::new(Framing::Stop, Limits::default()),
        buf: BytesMut::new(),
        raw: Vec::new(),
        taken: 0,
        out: out.clone(),
        show: args.verbose || args.display.mode() == DisplayMode::Hex,
        trace_to_stdout: args.display.mode() == DisplayMode::Hex,
        place: place.clone(),
    };
    let waited =
        |limit: Option<Duration>| humantime::format_duration(limit.unwrap_or_default()).to_string();

    // 1. The server speaks first: the client id. Whatever it is, a Python client prints it.
    let welcome = match session.next(args.ack_timeout, "a client id").await? {
        Ok(decoded) => decoded,
        Err(Missing::Closed) => {
            bail!("the lab server at {place} closed the connection before sending a client id")
        }
        Err(Missing::TimedOut) => bail!(
            "the lab server at {place} sent no client id within {} (--ack-timeout)",
            waited(args.ack_timeout)
        ),
    };
    session.show_received(&welcome).await;
    out.text(format!(
        "{} has successfully connected to {place}",
        str_of(&welcome)
    ))
    .await;

    // 2. The student record; 3. the acknowledgement: anything equal to 1 in Python.
    session.send(&record).await?;
    match session.next(args.ack_timeout, "the acknowledgement").await? {
        Ok(ack) => {
            session.show_received(&ack).await;
            if !lab::is_ack(&ack) {
                bail!(
                    "unexpected reply from the lab server: {} (expected 1)",
                    escape(&ack.repr())
                );
            }
            out.text("Data acknowledged by server and you passed the test".into())
                .await;
            if args.repl.interactive {
                return keep_talking(session, &args, &place).await;
            }
            Ok(ExitCode::Success)
        }
        Err(Missing::Closed) => bail!("the lab server closed the connection without acknowledging the student record"),
        Err(Missing::TimedOut) => bail!(
            "no acknowledgement from the lab server within {} (--ack-timeout; older lab servers send none)",
            waited(args.ack_timeout)
        ),
    }
}
