//! Many clients at once: `listen -k` (print what each sends, send stdin to all), `--echo` (send
//! each its own bytes back), `--broker` (send each what the others send) and `--chat` (the same,
//! line by line, each line prefixed `<clientN>` and escaped).
//!
//! Each client is one task running the [`engine`] on its connection: up is the client's queue (what
//! stdin or the other clients send it) or its own bytes (echo); down goes to the stdout thread as a
//! stream of its own; a [`HubTap`] passes what it sends to the others and, in raw display, holds a
//! partial line back (up to [`LINE_MAX`] bytes or [`super::lines::LINE_QUIET`] of quiet) so lines of different
//! clients never mix on stdout. The end-of-stream policy is the engine's: a client that stops sending
//! gets what is queued for it and is released at once, or (broker, chat) once the others have been
//! quiet toward it for [`PEER_CLOSED_GRACE`]. The accept loop is [`crate::accept`]'s, shared with
//! the lab server.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::engine::{self, Tap, Up};
use super::lines::{LineHold, LINE_MAX};
use super::policy::AfterPeer;
use super::{stdout_down, RelayConfig, PEER_CLOSED_GRACE};
use crate::accept::{Accept, Admitted, Gate, Peer};
use crate::conn::Conn;
use crate::output::Output;
use crate::render::StreamLabel;
use crate::units::byte_count;

/// What a server of many clients does with each client's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Print them (`-k`).
    Print,
    /// Print them and send them back to the client (`--echo`).
    Echo,
    /// Print them and send them to every other client (`--broker`).
    Broker,
    /// Like Broker, line by line with a `<clientN>` prefix and control characters escaped (`--chat`).
    Chat,
}

/// Who is connected, as the REPL's `/peers` shows them: number and who.
pub(crate) type Roster = Vec<(u64, Peer)>;

/// Told who is connected whenever a client joins or leaves.
pub(crate) type OnChange = Box<dyn Fn(&Roster) + Send + Sync>;

/// Asked which client stdin goes to, by number (`None`: all of them).
pub(crate) type Target = Box<dyn Fn() -> Option<u64> + Send + Sync>;

/// A step run on each accepted connection before it is relayed: the TLS handshake of
/// `listen --tls -k`, turning the TCP connection into a TLS one. It runs inside the client's own
/// task, so a slow or silent client never holds up the accept loop or the other clients; it must
/// bound its own time (the handshake has a deadline). Given the connection and the client's name
/// (`client3 127.0.0.1:50000`); a client it fails for is reported on stderr and closed, and never
/// joins the others. Gives the connection to relay, and what `-v` says of it when the client
/// leaves (the TLS session: version, suite, ALPN).
pub(crate) type Open = Box<
    dyn Fn(Conn, String) -> Pin<Box<dyn Future<Output = anyhow::Result<(Conn, String)>> + Send>>
        + Send
        + Sync,
>;

/// How the server runs.
pub(crate) struct Hub {
    pub role: Role,
    pub relay: RelayConfig,
    /// Raw display: hold partial lines so clients' lines do not mix.
    pub hold_lines: bool,
    pub verbose: bool,
    /// Called with the clients connected whenever one joins or leaves (the REPL's list and prompt).
    pub on_change: Option<OnChange>,
    /// The REPL's `/to`: the one client stdin goes to, when one is chosen.
    pub target: Option<Target>,
    /// What each connection goes through before it is relayed (`--tls`: the handshake).
    pub open: Option<Open>,
}

/// The clients connected, by number.
type Clients = Arc<Mutex<HashMap<u64, Client>>>;

#[derive(Clone)]
struct Client {
    peer: Peer,
    /// Bytes to send to this client; bounded, so a slow client slows its senders rather than
    /// growing memory.
    tx: mpsc::Sender<Bytes>,
}

/// Serves clients until the caller stops awaiting (a signal, the REPL's /quit). `stdin` is sent to
/// every client (or the `/to` target).
pub(crate) async fn serve<L: Accept>(
    hub: Hub,
    gate: Gate<L>,
    out: Output,
    stdin: Option<mpsc::Receiver<Bytes>>,
) -> anyhow::Result<()>
where
    L::Stream: Into<Conn>,
{
    let hub = Arc::new(hub);
    let clients: Clients = Arc::default();
    if let Some(rx) = stdin {
        tokio::spawn(broadcast(rx, clients.clone(), hub.clone()));
    }
    let mut next_id = 1u64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(crate::stopped());
    loop {
        let client = tokio::select! {
            client = gate.next(|| {}) => client,
            () = &mut stop => {
                // Each client's engine delivers what it holds and ends; the caller bounds the wait.
                while tasks.join_next().await.is_some() {}
                return Ok(());
            }
        };
        // Finished clients' results are not kept.
        while tasks.try_join_next().is_some() {}
        let id = next_id;
        next_id += 1;
        let client = Admitted {
            stream: client.stream.into(),
            peer: client.peer.into(),
            slot: client.slot,
        };
        tasks.spawn(serve_client(
            client,
            id,
            clients.clone(),
            hub.clone(),
            out.clone(),
        ));
    }
}

fn lock(clients: &Clients) -> std::sync::MutexGuard<'_, HashMap<u64, Client>> {
    // A panic while holding the lock is a bug elsewhere; the map itself stays consistent.
    clients.lock().unwrap_or_else(|e| e.into_inner())
}

fn changed(clients: &Clients, hub: &Hub) {
    if let Some(f) = &hub.on_change {
        let mut list: Roster = lock(clients)
            .iter()
            .map(|(id, c)| (*id, c.peer.clone()))
            .collect();
        list.sort_unstable_by_key(|(id, _)| *id);
        f(&list);
    }
}

/// The send queues of all clients except `except`.
fn queues(clients: &Clients, except: Option<u64>) -> Vec<mpsc::Sender<Bytes>> {
    lock(clients)
        .iter()
        .filter(|(id, _)| Some(**id) != except)
        .map(|(_, c)| c.tx.clone())
        .collect()
}

/// Sends stdin to every client, or to the REPL's `/to` target.
async fn broadcast(mut rx: mpsc::Receiver<Bytes>, clients: Clients, hub: Arc<Hub>) {
    while let Some(chunk) = rx.recv().await {
        let target = hub.target.as_ref().and_then(|t| t());
        let to: Vec<_> = match target {
            Some(id) => lock(&clients)
                .get(&id)
                .map(|c| c.tx.clone())
                .into_iter()
                .collect(),
            None => queues(&clients, None),
        };
        for tx in to {
            let _ = tx.send(chunk.clone()).await;
        }
    }
    if hub.verbose {
        eprintln!("sockkit: stdin ended; still serving clients (-k)");
    }
}

/// Serves one client: opens it (the TLS handshake), makes it one of the clients, relays it.
async fn serve_client(
    client: Admitted<Conn, Peer>,
    id: u64,
    clients: Clients,
    hub: Arc<Hub>,
    out: Output,
) {
    let Admitted { stream, peer, slot } = client;
    let name = format!("client{id} {peer}");
    let (stream, session) = match &hub.open {
        None => (stream, None),
        Some(open) => match open(stream, name.clone()).await {
            Ok((s, session)) => (s, Some(session)),
            Err(e) => {
                eprintln!("sockkit: {name}: {e:#}");
                return;
            }
        },
    };
    let (tx, rx) = mpsc::channel(16);
    lock(&clients).insert(
        id,
        Client {
            peer: peer.clone(),
            tx,
        },
    );
    changed(&clients, &hub);
    // Said once the client is one of the clients (and, over TLS, past its handshake): a client
    // announced here is one that stdin, the broker and the chat already reach.
    if hub.verbose {
        eprintln!("sockkit: connection from {peer} (client{id})");
    }
    let label = StreamLabel {
        peer: Some(name.clone()),
        direction: "received",
    };
    let down = stdout_down(&out, id, label, false, hub.relay.send_only).await;
    let up = match hub.role {
        Role::Echo => Up::Echo,
        _ => Up::Queue(rx),
    };
    let after_peer = match hub.role {
        // Between clients, the others may still be sending to one that stopped.
        Role::Broker | Role::Chat => AfterPeer::Linger(PEER_CLOSED_GRACE),
        // Only stdin or its own echo is for it: what is queued goes out, then it is released.
        Role::Print | Role::Echo => AfterPeer::Drain,
    };
    let mut tap = HubTap {
        id,
        fan_out: matches!(hub.role, Role::Broker | Role::Chat).then(|| clients.clone()),
        chat: (hub.role == Role::Chat).then(|| ChatLines::new(id)),
        hold: (hub.hold_lines && hub.role != Role::Chat).then(LineHold::default),
        passing: None,
    };
    // Each client's notes would need its name: the server says what matters itself.
    let settings = engine::Settings {
        verbose: false,
        ..hub.relay.settings(after_peer)
    };
    let (reader, writer) = stream.split();
    let result = engine::run(reader, writer, up, down, &mut tap, &settings).await;
    lock(&clients).remove(&id);
    drop(slot);
    changed(&clients, &hub);
    match result {
        Ok(s) if hub.verbose => eprintln!(
            "sockkit: {name} left: received {} in {:.2}s{}",
            byte_count(s.received),
            s.elapsed.as_secs_f64(),
            session.map(|s| format!(", over {s}")).unwrap_or_default()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("sockkit: {name}: {e:#}"),
    }
}

/// What a server does with a client's bytes besides showing them. See the module docs.
struct HubTap {
    id: u64,
    /// Broker and chat: the clients to pass the bytes to.
    fan_out: Option<Clients>,
    chat: Option<ChatLines>,
    hold: Option<LineHold>,
    /// Bytes to pass on, and the queues still to get them.
    passing: Option<(Bytes, Vec<mpsc::Sender<Bytes>>)>,
}

impl HubTap {
    /// Notes `data` to be passed on to the other clients. Who hears it is decided now, before it is
    /// printed, so a client that joins after the line shows on stdout does not receive it.
    fn queue_for_others(&mut self, data: &Bytes) {
        if let Some(clients) = &self.fan_out {
            let to = queues(clients, Some(self.id));
            if !to.is_empty() {
                self.passing = Some((data.clone(), to));
            }
        }
    }
}

impl Tap for HubTap {
    async fn received(&mut self, data: Bytes) -> Option<Bytes> {
        let data = match &mut self.chat {
            Some(lines) => lines.push(&data)?,
            None => data,
        };
        self.queue_for_others(&data);
        match &mut self.hold {
            Some(hold) => hold.push(data, Instant::now()),
            None => Some(data),
        }
    }

    fn busy(&self) -> bool {
        self.passing.is_some()
    }

    async fn pass_on(&mut self) {
        let Some((data, to)) = &mut self.passing else {
            return;
        };
        while let Some(tx) = to.last() {
            // A client that left takes nothing; a full queue is waited for, while our own keeps
            // draining (the engine goes on sending to our client meanwhile).
            if let Ok(permit) = tx.reserve().await {
                permit.send(data.clone());
            }
            to.pop();
        }
        self.passing = None;
    }

    async fn flush(&mut self, now: Instant, end: bool) -> Option<Bytes> {
        if end {
            // The end: what waits goes now (our own queue is closed, so nobody waits on us).
            self.pass_on().await;
            if let Some(rest) = self.chat.as_mut().and_then(ChatLines::finish) {
                self.queue_for_others(&rest);
                self.pass_on().await;
                return Some(rest);
            }
        }
        self.hold.as_mut()?.flush(now, end)
    }

    fn deadline(&self) -> Option<Instant> {
        self.hold.as_ref()?.due
    }

    fn transparent(&self) -> bool {
        self.fan_out.is_none() && self.chat.is_none() && self.hold.is_none()
    }
}

/// Chat framing: whole lines only, each prefixed `<clientN> `, control characters escaped.
struct ChatLines {
    prefix: Vec<u8>,
    partial: Vec<u8>,
}

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
            None if self.partial.len() >= LINE_MAX => self.partial.len(),
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
            // The same escapes as the REPL's display: C0, C1, DEL, bidi overrides, non-UTF-8 bytes.
            let mut text = String::with_capacity(body.len());
            crate::escape::escape_stream_into(body, &mut text);
            out.extend_from_slice(text.as_bytes());
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
        assert_eq!(
            c.push(b"c1 \xc2\x9b2J \x9b bidi \xe2\x80\xaex\n")
                .as_deref(),
            Some(&b"<client2> c1 \\x9b2J \\x9b bidi \\u202ex\n"[..])
        );
        assert_eq!(c.push(b"tail"), None);
        assert_eq!(c.finish().as_deref(), Some(&b"<client2> tail\n"[..]));
    }
}
