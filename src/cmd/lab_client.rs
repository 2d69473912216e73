//! `sockkit lab-client`: the student's side of the socket-lab handshake (PROTOCOL.md section 1).
//!
//! Prints exactly the lab's lines, `{'clientid': 60644} has successfully connected to 127.0.0.1/12000`
//! and `Data acknowledged by server and you passed the test`, and turns every way a server can
//! misbehave (not running, closing early, sending something that is not a pickle or not the expected
//! value, never acknowledging) into one clear line and exit status 1. Messages are found by their
//! pickle STOP opcode, so a reply split or joined by TCP is read exactly once.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::{DisplayMode, Framing, LabClientArgs};
use crate::error::{describe_io, ExitCode};
use crate::lab::{Student, Welcome};
use crate::net::{self, ConnectOpts};
use crate::output::Output;
use crate::pickle::encode::encode;
use crate::pickle::Value;
use crate::pickle::{Decoded, Event, Limits, PickleStream};
use crate::render::{hex::HexDump, Render, StreamLabel};
use crate::repl::Attached;

/// Why no message came.
enum Missing {
    Closed,
    TimedOut,
}

/// The connection to the lab server, with the pickles read so far.
struct Session {
    stream: TcpStream,
    pickles: PickleStream,
    buf: BytesMut,
    /// Every byte received, and how many of them the messages shown so far took (for -v).
    raw: Vec<u8>,
    taken: usize,
    out: Output,
    /// Show every message exchanged (-v or --mode hex).
    show: bool,
}

impl Session {
    /// Reads the next whole pickle, waiting at most `limit`.
    async fn next(&mut self, limit: Duration) -> Result<std::result::Result<Decoded, Missing>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(event) = self.pickles.next_event() {
                return self.event(event).await.map(Ok);
            }
            self.buf.clear();
            self.buf.reserve(4096);
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await;
            let n = match read {
                Err(_) => return Ok(Err(Missing::TimedOut)),
                Ok(Err(e)) => bail!("connection to the lab server lost: {}", describe_io(&e)),
                Ok(Ok(n)) => n,
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

    /// With -v: a labelled hex dump of one message.
    async fn show_bytes(&self, what: &str, bytes: &[u8]) {
        if !self.show {
            return;
        }
        let mut text = Vec::new();
        let mut dump = HexDump::new(StreamLabel::default(), false);
        let mut diag = Vec::new();
        dump.feed(bytes, &mut text, &mut diag);
        dump.finish(&mut text, &mut diag);
        self.out
            .text(format!("{what} {} bytes:", bytes.len()))
            .await;
        self.out
            .text(String::from_utf8_lossy(&text).trim_end().to_string())
            .await;
    }

    async fn show_received(&mut self, decoded: &Decoded) {
        if self.show {
            let end = (self.taken + decoded.len()).min(self.raw.len());
            let bytes = self.raw[self.taken..end].to_vec();
            self.taken = end;
            self.show_bytes("<-- received", &bytes).await;
            self.out.text(format!("    = {}", decoded.repr())).await;
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
    let send = crate::cli::SendArgs {
        send: crate::cli::SendMode::Raw,
        pickle_protocol: args.pickle_protocol,
        crlf: false,
    };
    let mut repl = Attached::start(&out, format!("lab {place}> "), &args.repl, &send, None).await?;
    let control = repl.take_control();
    let (reader, writer) = session.stream.into_split();
    let cfg = crate::relay::RelayConfig::default();
    let label = crate::render::StreamLabel {
        peer: None,
        direction: "received",
    };
    let result = tokio::select! {
        r = crate::relay::relay(reader, writer, Some(repl.input), &out, 1, label, &cfg) => r.map(|_| ()),
        () = Attached::serve_controls(control, out.clone()) => Ok(()),
    };
    out.close(1).await;
    out.flush().await;
    crate::repl::end_session();
    result.map(|()| ExitCode::Success)
}

pub async fn run(args: LabClientArgs, out: Output) -> Result<ExitCode> {
    let student = Student {
        name: args.name.clone(),
        github: args.github.clone(),
        sid: args.sid,
    };
    let record = encode(&student.to_value(), args.pickle_protocol)
        .map_err(|e| anyhow!("cannot encode the student record: {e}"))?;
    let opts = ConnectOpts {
        timeout: Some(args.connect_timeout),
        refused_hint: "is the lab server running?",
        retry: args.retry,
        ..ConnectOpts::default()
    };
    let stream = net::connect(&args.ip, args.port, &opts).await?;
    let mut session = Session {
        stream,
        pickles: PickleStream::new(Framing::Stop, Limits::default()),
        buf: BytesMut::new(),
        raw: Vec::new(),
        taken: 0,
        out: out.clone(),
        show: args.verbose || args.display.mode() == DisplayMode::Hex,
    };
    let place = format!("{}/{}", args.ip, args.port);

    // 1. The server speaks first: the client id.
    let welcome = match session.next(args.ack_timeout).await? {
        Ok(decoded) => decoded,
        Err(Missing::Closed) => {
            bail!("the lab server at {place} closed the connection before sending a client id")
        }
        Err(Missing::TimedOut) => bail!(
            "the lab server at {place} sent no client id within {}",
            humantime::format_duration(args.ack_timeout)
        ),
    };
    session.show_received(&welcome).await;
    let value = welcome
        .to_value()
        .map_err(|e| anyhow!("unusable first message: {e}"))?;
    if Welcome::from_value(&value).is_none() {
        bail!(
            "unexpected first message from the lab server: {} (expected {{'clientid': <int>}})",
            welcome.repr()
        );
    }
    out.text(format!(
        "{} has successfully connected to {place}",
        welcome.repr()
    ))
    .await;

    // 2. The student record; 3. the acknowledgement.
    session.send(&record).await?;
    match session.next(args.ack_timeout).await? {
        Ok(ack) => {
            session.show_received(&ack).await;
            match ack.to_value() {
                Ok(Value::Int(1)) => {
                    out.text("Data acknowledged by server and you passed the test".into())
                        .await;
                    if args.repl.interactive {
                        return keep_talking(session, &args, &place).await;
                    }
                    Ok(ExitCode::Success)
                }
                _ => bail!("unexpected reply from the lab server: {} (expected 1)", ack.repr()),
            }
        }
        Err(Missing::Closed) => bail!("the lab server closed the connection without acknowledging the student record"),
        Err(Missing::TimedOut) => bail!(
            "no acknowledgement from the lab server within {} (older lab servers send none; --ack-timeout waits longer)",
            humantime::format_duration(args.ack_timeout)
        ),
    }
}
