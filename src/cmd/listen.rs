//! `sockkit listen [HOST] PORT`: a TCP server. One client by default, relayed like `connect`; with
//! `-k` many clients at once, each served by its own task; `--echo`, `--broker` and `--chat` turn it
//! into the echo and chat servers of the tutorials.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::access::Access;
use crate::cli::{DisplayMode, ListenArgs, ReplArgs, SendArgs, SendMode};
use crate::error::{describe_io, usage, ExitCode};
use crate::input::{self, InputOpts};
use crate::net::{self, display_addr, Family, ListenAddr, Resolve};
use crate::output::Output;
use crate::relay::{self, human_bytes, RelayConfig, PEER_CLOSED_GRACE, READ_SIZE};
use crate::render::StreamLabel;
use crate::repl::{Attached, Peers};

/// What a multi-client listener does with each client's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Print it (default).
    Print,
    /// Print it and send it back to the client.
    Echo,
    /// Print it and send it to every other client.
    Broker,
    /// Like Broker, line by line with a `<clientN>` prefix and control characters escaped.
    Chat,
}

/// A validated `listen` command line.
struct Config {
    at: ListenAddr,
    resolve: Resolve,
    keep_open: bool,
    max_conns: usize,
    access: Access,
    role: Role,
    relay: RelayConfig,
    /// The one-client echo server with raw bytes to a stdout that is no terminal: a plain loop on a
    /// thread of its own (see poll_relay::echo).
    fast_echo: bool,
    input: Option<InputOpts>,
    verbose: bool,
    repl: Option<(ReplArgs, SendArgs)>,
    /// With the REPL and -k: the client list behind /peers and /to, and the prompt.
    view: Option<ReplView>,
}

/// What the REPL shows of a multi-client listener.
struct ReplView {
    peers: Arc<Peers>,
    prompt: Arc<Mutex<String>>,
}

impl Config {
    fn from_args(args: ListenArgs) -> Result<Config> {
        let at = ListenAddr::from_args(&args.addr, args.port)?;
        if args.max_conns == 0 {
            return Err(usage("--max-conns must be at least 1"));
        }
        let role = match (args.echo, args.broker, args.chat) {
            (true, _, _) => Role::Echo,
            (_, _, true) => Role::Chat,
            (_, true, _) => Role::Broker,
            _ => Role::Print,
        };
        let keep_open = args.keep_open || matches!(role, Role::Broker | Role::Chat);
        // An echo server answers with the client's own bytes; stdin has no part in it.
        let reads_stdin = !args.recv_only && role != Role::Echo;
        let repl_wanted = reads_stdin && args.repl.wanted();
        // splice(2) fast paths for the plain one-client relay, when nothing needs to see the bytes.
        let plain = !keep_open && role == Role::Print && !repl_wanted;
        let splice_stdin = plain
            && reads_stdin
            && args.send.send == SendMode::Raw
            && !args.send.crlf
            && crate::splice::stdin_spliceable();
        let splice_stdout = plain
            && !args.send_only
            && args.display.mode() == DisplayMode::Raw
            && crate::splice::stdout_spliceable();
        let fast_echo = role == Role::Echo
            && !keep_open
            && args.display.mode() == DisplayMode::Raw
            && crate::splice::stdout_spliceable();
        let input = (reads_stdin && !splice_stdin).then_some(InputOpts {
            mode: args.send.send,
            pickle_protocol: args.send.pickle_protocol,
            crlf: args.send.crlf,
            lines: false,
        });
        let repl =
            (reads_stdin && args.repl.wanted()).then(|| (args.repl.clone(), args.send.clone()));
        Ok(Config {
            repl,
            view: None,
            at,
            resolve: Resolve {
                family: Family::from_flags(args.family.ipv4, args.family.ipv6),
                numeric: args.family.numeric,
            },
            keep_open,
            max_conns: args.max_conns,
            access: Access::from_args(&args.allow, &args.deny)?,
            role,
            relay: RelayConfig {
                no_shutdown: args.no_shutdown,
                quit_after_eof: args.quit_after_eof,
                idle_timeout: args.idle_timeout,
                send_only: args.send_only,
                verbose: args.verbose,
                progress: args.progress,
                splice_stdin,
                splice_stdout,
            },
            fast_echo,
            input,
            verbose: args.verbose,
        })
    }
}

pub async fn run(args: ListenArgs, out: Output) -> Result<ExitCode> {
    let cfg = Config::from_args(args)?;
    let listener = net::listen_tcp(&cfg.at, cfg.resolve, 1024).await?;
    let local = listener.local_addr()?;
    if cfg.verbose || cfg.at.port == 0 {
        eprintln!("sockkit: listening on {local}");
    }
    if cfg.keep_open {
        serve_many(listener, cfg, out).await
    } else {
        serve_one(listener, cfg, out).await
    }
}

/// One client: accept, stop listening, relay until the end-of-stream rules say stop.
async fn serve_one(listener: TcpListener, cfg: Config, out: Output) -> Result<ExitCode> {
    let mut input = match cfg.repl {
        Some(_) => None,
        None => cfg.input.map(input::spawn),
    };
    let (stream, peer) = loop {
        let (stream, peer) = listener
            .accept()
            .await
            .map_err(|e| anyhow::anyhow!("accept failed: {}", describe_io(&e)))?;
        if cfg.access.permits(display_addr(peer).ip()) {
            break (stream, peer);
        }
        eprintln!(
            "sockkit: refused {}: not allowed by --allow/--deny",
            display_addr(peer)
        );
    };
    drop(listener);
    let peer = display_addr(peer);
    let _ = stream.set_nodelay(true);
    if cfg.verbose {
        eprintln!("sockkit: connection from {peer}");
    }
    let label = StreamLabel {
        peer: None,
        direction: "received",
    };
    let mut control = None;
    if let Some((repl_args, send_args)) = &cfg.repl {
        let mut repl =
            Attached::start(&out, format!("{peer}> "), repl_args, send_args, None).await?;
        control = Some(repl.take_control());
        input = Some(repl.input);
    }
    let summary = if cfg.role == Role::Echo {
        echo_one(stream, &out, &cfg).await
    } else {
        let (reader, writer) = stream.into_split();
        let relay = relay::relay(reader, writer, input, &out, 0, label, &cfg.relay);
        match control {
            None => relay.await,
            Some(control) => {
                let summary = tokio::select! {
                    s = relay => s,
                    () = Attached::serve_controls(control, out.clone()) => {
                        out.flush().await;
                        crate::repl::end_session();
                        return Ok(ExitCode::Success);
                    }
                };
                out.close(0).await;
                out.flush().await;
                crate::repl::end_session();
                if matches!(summary, Ok(ref s) if s.end == relay::End::PeerClosed) {
                    eprintln!("sockkit: the client closed the connection");
                }
                summary
            }
        }
    };
    out.close(0).await;
    let summary = summary?;
    if cfg.verbose {
        eprintln!("sockkit: {peer}: {}", summary.describe());
    }
    Ok(if input::had_errors() {
        ExitCode::Failure
    } else {
        ExitCode::Success
    })
}

/// Echoes one client's bytes back to it (and prints them) until it closes.
async fn echo_one(stream: TcpStream, out: &Output, cfg: &Config) -> Result<relay::Summary> {
    if cfg.fast_echo {
        let stream = stream.into_std()?;
        let idle = cfg.relay.idle_timeout;
        return crate::poll_relay::on_thread("echo", move || crate::poll_relay::echo(stream, idle))
            .await;
    }
    // One task reads and writes back directly: no queue between them, the lowest latency.
    let start = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    out.open(0, StreamLabel::default()).await;
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut received = 0u64;
    let result = loop {
        if buf.capacity() < READ_SIZE / 4 {
            buf.reserve(READ_SIZE);
        }
        let read = reader.read_buf(&mut buf);
        let n = match cfg.relay.idle_timeout {
            Some(limit) => match tokio::time::timeout(limit, read).await {
                Ok(r) => r,
                Err(_) => {
                    break Err(anyhow::anyhow!(
                        "closed after {} without data (idle timeout)",
                        humantime::format_duration(limit)
                    ))
                }
            },
            None => read.await,
        };
        match n {
            Ok(0) => break Ok(()),
            Ok(n) => {
                received += n as u64;
                let data = buf.split().freeze();
                if let Err(e) = writer.write_all(&data).await {
                    break Err(anyhow::anyhow!("could not echo: {}", describe_io(&e)));
                }
                out.data(0, data).await;
            }
            Err(e) => break Err(anyhow::anyhow!("connection lost: {}", describe_io(&e))),
        }
    };
    let _ = writer.shutdown().await;
    out.close(0).await;
    result?;
    Ok(relay::Summary {
        sent: received,
        received,
        elapsed: start.elapsed(),
        end: relay::End::PeerClosed,
    })
}

/// The clients of a multi-client listener, by id.
type Clients = Arc<Mutex<HashMap<u64, Client>>>;

#[derive(Clone)]
struct Client {
    id: u64,
    peer: String,
    /// Bytes to send to this client; bounded, so a slow client slows its senders rather than
    /// growing memory.
    tx: mpsc::Sender<Bytes>,
}

/// Many clients at once, until a signal ends the program.
async fn serve_many(listener: TcpListener, mut cfg: Config, out: Output) -> Result<ExitCode> {
    let mut control = None;
    let mut typed = None;
    if let Some((repl_args, send_args)) = cfg.repl.clone() {
        let peers = Arc::new(Peers::default());
        let mut repl = Attached::start(
            &out,
            "no clients> ".into(),
            &repl_args,
            &send_args,
            Some(peers.clone()),
        )
        .await?;
        control = Some(repl.take_control());
        cfg.view = Some(ReplView {
            peers,
            prompt: repl.prompt.clone(),
        });
        typed = Some(repl.input);
    }
    let cfg = Arc::new(cfg);
    let clients: Clients = Arc::default();
    let lines = match typed {
        Some(rx) => Some(rx),
        None => cfg.input.map(input::spawn),
    };
    if let Some(rx) = lines {
        tokio::spawn(broadcast_stdin(rx, clients.clone(), cfg.clone()));
    }
    let quit = async {
        match control {
            Some(c) => Attached::serve_controls(c, out.clone()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(quit);
    let mut next_id = 1u64;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut quit => {
                out.flush().await;
                crate::repl::end_session();
                return Ok(ExitCode::Success);
            }
        };
        let (stream, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: report, back off briefly, keep serving.
                eprintln!("sockkit: accept failed: {}", describe_io(&e));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = display_addr(peer);
        if !cfg.access.permits(peer.ip()) {
            eprintln!("sockkit: refused {peer}: not allowed by --allow/--deny");
            continue;
        }
        let active = clients.lock().expect("clients lock").len();
        if active >= cfg.max_conns {
            eprintln!(
                "sockkit: refused {peer}: {active} clients connected (--max-conns {})",
                cfg.max_conns
            );
            drop(stream);
            continue;
        }
        let id = next_id;
        next_id += 1;
        let _ = stream.set_nodelay(true);
        if cfg.verbose {
            eprintln!("sockkit: connection from {peer} (client{id})");
        }
        let (tx, rx) = mpsc::channel(16);
        let client = Client {
            id,
            peer: format!("client{id} {peer}"),
            tx,
        };
        clients
            .lock()
            .expect("clients lock")
            .insert(id, client.clone());
        refresh_view(&clients, &cfg);
        tokio::spawn(serve_client(
            stream,
            peer,
            client,
            rx,
            clients.clone(),
            cfg.clone(),
            out.clone(),
        ));
    }
}

async fn broadcast_stdin(mut rx: mpsc::Receiver<Bytes>, clients: Clients, cfg: Arc<Config>) {
    while let Some(chunk) = rx.recv().await {
        // The REPL's /to picks one client; otherwise every client gets the line.
        let target = cfg
            .view
            .as_ref()
            .and_then(|v| v.peers.target.lock().ok().and_then(|t| t.clone()))
            .and_then(|t| t.parse::<u64>().ok());
        let queues: Vec<_> = match target {
            Some(id) => clients
                .lock()
                .expect("clients lock")
                .get(&id)
                .map(|c| c.tx.clone())
                .into_iter()
                .collect(),
            None => senders(&clients, None),
        };
        for tx in queues {
            let _ = tx.send(chunk.clone()).await;
        }
    }
    if cfg.verbose {
        eprintln!("sockkit: stdin ended; still serving clients (-k)");
    }
}

/// Updates the REPL's client list and prompt after a client joins or leaves.
fn refresh_view(clients: &Clients, cfg: &Config) {
    let Some(view) = &cfg.view else { return };
    let mut list: Vec<(u64, String)> = clients
        .lock()
        .expect("clients lock")
        .values()
        .map(|c| (c.id, c.peer.clone()))
        .collect();
    list.sort();
    let n = list.len();
    if let Ok(mut l) = view.peers.list.lock() {
        *l = list
            .into_iter()
            .map(|(id, p)| (id.to_string(), p))
            .collect();
    }
    if let Ok(mut p) = view.prompt.lock() {
        *p = match n {
            0 => "no clients> ".to_string(),
            1 => "1 client> ".to_string(),
            n => format!("{n} clients> "),
        };
    }
}

/// The send queues of all clients except `except`.
fn senders(clients: &Clients, except: Option<u64>) -> Vec<mpsc::Sender<Bytes>> {
    clients
        .lock()
        .expect("clients lock")
        .values()
        .filter(|c| Some(c.id) != except)
        .map(|c| c.tx.clone())
        .collect()
}

async fn serve_client(
    stream: TcpStream,
    peer: SocketAddr,
    client: Client,
    rx: mpsc::Receiver<Bytes>,
    clients: Clients,
    cfg: Arc<Config>,
    out: Output,
) {
    let start = Instant::now();
    let (reader, writer) = stream.into_split();
    let (reader_done, reader_done_rx) = watch::channel(false);
    let writer_task = tokio::spawn(write_loop(writer, rx, reader_done_rx));
    let id = client.id;
    let result = if cfg.relay.send_only {
        // Nothing is read; the connection lasts until the client closes or resets it.
        let mut reader = reader;
        let mut sink = [0u8; 1024];
        loop {
            match reader.read(&mut sink).await {
                Ok(0) => break Ok(0),
                Ok(_) => continue,
                Err(e) => break Err(anyhow::anyhow!("{}", describe_io(&e))),
            }
        }
    } else {
        let broadcast = matches!(cfg.role, Role::Broker | Role::Chat).then_some(&clients);
        read_loop(reader, &client, &out, &cfg, broadcast, true).await
    };
    // A client that stopped sending may still be reading what others send (it half-closed): keep it
    // registered until a write to it fails or nothing was queued for it for a grace period.
    let still_reading = result.is_ok()
        && !cfg.relay.send_only
        && (matches!(cfg.role, Role::Broker | Role::Chat) || cfg.input.is_some());
    if still_reading {
        let _ = reader_done.send(true);
        drop(client);
        let _ = writer_task.await;
        clients.lock().expect("clients lock").remove(&id);
        refresh_view(&clients, &cfg);
    } else {
        clients.lock().expect("clients lock").remove(&id);
        refresh_view(&clients, &cfg);
        drop(client);
        // The writer ends when every sender is gone: ours above, and the copies held by broadcasters.
        let _ = tokio::time::timeout(Duration::from_secs(5), writer_task).await;
    }
    match result {
        Ok(received) if cfg.verbose => eprintln!(
            "sockkit: client{id} {peer} left: received {} in {:.2}s",
            human_bytes(received as f64),
            start.elapsed().as_secs_f64()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("sockkit: client{id} {peer}: {e:#}"),
    }
}

/// Sends queued bytes to a client; half-closes when the queue closes, or, once the client has stopped
/// sending (`reader_done`), when nothing was queued for [`PEER_CLOSED_GRACE`].
async fn write_loop(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Bytes>,
    mut reader_done: watch::Receiver<bool>,
) {
    let mut watching = true;
    loop {
        let next = if *reader_done.borrow() {
            match tokio::time::timeout(PEER_CLOSED_GRACE, rx.recv()).await {
                Ok(next) => next,
                Err(_) => break,
            }
        } else if watching {
            tokio::select! {
                next = rx.recv() => next,
                changed = reader_done.changed() => {
                    watching = changed.is_ok();
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(chunk) = next else { break };
        if writer.write_all(&chunk).await.is_err() {
            // The client is gone; dropping the queue makes every sender's next send fail at once.
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// Reads one client until it closes: prints what it sends, and echoes or brokers it as the role says.
/// Returns the number of bytes received.
async fn read_loop(
    mut reader: tokio::net::tcp::OwnedReadHalf,
    client: &Client,
    out: &Output,
    cfg: &Config,
    broadcast: Option<&Clients>,
    labelled: bool,
) -> Result<u64> {
    let id = client.id;
    out.open(
        id,
        StreamLabel {
            peer: labelled.then(|| client.peer.clone()),
            direction: "received",
        },
    )
    .await;
    let mut chat = (cfg.role == Role::Chat).then(|| ChatLines::new(client.id));
    let mut buf = BytesMut::with_capacity(READ_SIZE);
    let mut total = 0u64;
    let idle = cfg.relay.idle_timeout;
    let result = loop {
        if buf.capacity() < READ_SIZE / 4 {
            buf.reserve(READ_SIZE);
        }
        let read = reader.read_buf(&mut buf);
        let n = match idle {
            Some(limit) => match tokio::time::timeout(limit, read).await {
                Ok(r) => r,
                Err(_) => {
                    break Err(anyhow::anyhow!(
                        "closed after {} without data (idle timeout)",
                        humantime::format_duration(limit)
                    ))
                }
            },
            None => read.await,
        };
        let n = match n {
            Ok(0) => break Ok(total),
            Ok(n) => n,
            Err(e) => break Err(anyhow::anyhow!("connection lost: {}", describe_io(&e))),
        };
        total += n as u64;
        let data = buf.split().freeze();
        let data = match chat.as_mut() {
            Some(lines) => match lines.push(&data) {
                Some(d) => d,
                None => continue,
            },
            None => data,
        };
        // Who hears this is decided before it is printed, so a client that joins after the line shows
        // on stdout does not receive it.
        let others = broadcast.map(|clients| senders(clients, Some(id)));
        out.data(id, data.clone()).await;
        match cfg.role {
            Role::Print => {}
            Role::Echo => {
                let _ = client.tx.send(data).await;
            }
            Role::Broker | Role::Chat => {
                for tx in others.into_iter().flatten() {
                    let _ = tx.send(data.clone()).await;
                }
            }
        }
    };
    if let (Some(lines), Some(clients)) = (chat.as_mut(), broadcast) {
        if let Some(rest) = lines.finish() {
            out.data(id, rest.clone()).await;
            for tx in senders(clients, Some(id)) {
                let _ = tx.send(rest.clone()).await;
            }
        }
    }
    out.close(id).await;
    result
}

/// Chat framing: whole lines only, each prefixed `<clientN> `, control characters escaped.
struct ChatLines {
    prefix: Vec<u8>,
    partial: Vec<u8>,
}

/// A line longer than this is sent in pieces rather than held forever.
const CHAT_LINE_MAX: usize = 64 * 1024;

impl ChatLines {
    fn new(id: u64) -> ChatLines {
        ChatLines {
            prefix: format!("<client{id}> ").into_bytes(),
            partial: Vec::new(),
        }
    }

    /// Adds received bytes; returns the complete lines, prefixed and escaped, if any.
    fn push(&mut self, data: &[u8]) -> Option<Bytes> {
        self.partial.extend_from_slice(data);
        let cut = match self.partial.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if self.partial.len() >= CHAT_LINE_MAX => self.partial.len(),
            None => return None,
        };
        let rest = self.partial.split_off(cut);
        let complete = std::mem::replace(&mut self.partial, rest);
        Some(self.format(&complete))
    }

    /// What is left when the client leaves (a last line without newline).
    fn finish(&mut self) -> Option<Bytes> {
        if self.partial.is_empty() {
            return None;
        }
        let mut rest = std::mem::take(&mut self.partial);
        rest.push(b'\n');
        Some(self.format(&rest))
    }

    fn format(&self, text: &[u8]) -> Bytes {
        let mut out = Vec::with_capacity(text.len() + self.prefix.len() * 2);
        for line in text.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(&self.prefix);
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            for &b in body {
                if (b < 0x20 && b != b'\t') || b == 0x7f {
                    out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                } else {
                    out.push(b);
                }
            }
            out.push(b'\n');
        }
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_prefixes_each_line_not_each_read() {
        let mut c = ChatLines::new(2);
        assert_eq!(c.push(b"hel"), None);
        assert_eq!(
            c.push(b"lo\nwor").as_deref(),
            Some(&b"<client2> hello\n"[..])
        );
        assert_eq!(
            c.push(b"ld\x1b[2J\r\nx\n").as_deref(),
            Some(&b"<client2> world\\x1b[2J\n<client2> x\n"[..])
        );
        assert_eq!(c.push(b"tail"), None);
        assert_eq!(c.finish().as_deref(), Some(&b"<client2> tail\n"[..]));
    }
}
