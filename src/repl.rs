//! The interactive REPL: rustyline on its own thread, typed lines sent to the network side over the same
//! kind of channel as the stdin pump, and incoming data printed above the prompt through rustyline's
//! external printer, so output never breaks the line being typed.
//!
//! Lines starting with `/` are commands ([`COMMANDS`]); Tab completes them. History is kept per user in
//! `$XDG_STATE_HOME/sockkit/history` (else `~/.local/state/sockkit/history`), at most [`HISTORY_MAX`]
//! entries.
//!
//! Keys: Ctrl-C on a typed line clears it; Ctrl-C twice in a row on an empty line ends the session
//! with status 130, as Ctrl-C does outside the REPL (once would make a stray key fatal). Ctrl-D on an
//! empty line, or `/close`, half-closes like EOF on stdin: the editor stays open, so `/quit` (or
//! Ctrl-D again) ends the session whenever the person wants. The terminal is restored on every way
//! out: `/quit`, Ctrl-C, SIGHUP, SIGTERM, an error, a panic.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{
    Cmd, ConditionalEventHandler, Context, Editor, Event, EventContext, EventHandler,
    ExternalPrinter, Helper, Highlighter, Hinter, KeyEvent, Movement, RepeatCount, Validator,
};
use tokio::sync::mpsc;

use crate::send;
use crate::{render::DisplayMode, send::SendMode};

/// The commands, with their help text.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "/hex",
        "/hex 48 65 6c    send the bytes these hex digits spell",
    ),
    (
        "/pickle",
        "/pickle {'a': 1}  send a Python literal as one pickle",
    ),
    ("/raw", "/raw TEXT         send TEXT without a newline"),
    (
        "/mode",
        "/mode raw|hex|pickle  change how received data is shown",
    ),
    ("/send", "/send FILE        send a file's contents"),
    (
        "/to",
        "/to N | HOST:PORT | all  choose who lines go to (listen -k, udp-listen)",
    ),
    (
        "/peers",
        "/peers            list the peers, numbered for /to",
    ),
    (
        "/close",
        "/close            half-close: the peer sees EOF, we keep reading",
    ),
    ("/quit", "/quit             end the session"),
    ("/help", "/help             this list"),
];

/// Most history entries kept.
pub const HISTORY_MAX: usize = 1000;

/// One peer lines can be sent to, as `/peers` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The number `/to N` takes (a client id, or the order a UDP sender was first seen in).
    pub number: u64,
    /// Its address, which `/to HOST:PORT` (or `/to PATH` for a named Unix socket) takes.
    pub addr: crate::accept::Peer,
    /// What `/peers` says about it.
    pub desc: String,
}

/// Who lines can be sent to, shared with the network side (listen -k clients, UDP senders).
///
/// `/to` works the same wherever peers are listed: `/to N` and `/to HOST:PORT` (or a Unix sender's
/// path) pick a listed peer, and the choice is stored whole: servers go by its number, datagram
/// commands by its address.
#[derive(Debug, Default)]
pub struct Peers {
    pub list: Mutex<Vec<Peer>>,
    /// The chosen peer; `None` means the default (all clients, or the latest UDP sender). A UDP
    /// address nobody has sent from yet is a peer numbered 0.
    pub target: Mutex<Option<Peer>>,
    /// Whether `/to` also takes an address nobody has sent from yet (UDP can send anywhere).
    pub any_address: bool,
}

/// What the REPL asks of the network side besides sending bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Show received data in this mode from now on.
    Mode(DisplayMode),
    /// End the session.
    Quit,
}

/// How the REPL is set up.
pub struct ReplOptions {
    /// The prompt; shared so the network side can update it (e.g. the number of clients).
    pub prompt: Arc<Mutex<String>>,
    pub history: bool,
    pub crlf: bool,
    pub pickle_protocol: u8,
    /// Present for commands that have several peers (listen -k, UDP).
    pub peers: Option<Arc<Peers>>,
}

/// A running REPL: typed data, control requests, and the printer for incoming data.
pub struct Repl {
    pub input: mpsc::Receiver<Bytes>,
    pub control: mpsc::UnboundedReceiver<Control>,
    pub printer: Box<dyn ExternalPrinter + Send>,
}

#[derive(Helper, Hinter, Highlighter, Validator)]
struct CommandCompleter;

impl Completer for CommandCompleter {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        if let Some(rest) = head.strip_prefix("/mode ") {
            let modes = ["raw", "hex", "pickle"]
                .iter()
                .filter(|m| m.starts_with(rest.trim_start()))
                .map(|m| Pair {
                    display: m.to_string(),
                    replacement: m.to_string(),
                })
                .collect();
            return Ok((pos - rest.trim_start().len(), modes));
        }
        if !head.starts_with('/') || head.contains(' ') {
            return Ok((pos, Vec::new()));
        }
        let found = COMMANDS
            .iter()
            .filter(|(name, _)| name.starts_with(head))
            .map(|(name, _)| Pair {
                display: name.to_string(),
                replacement: format!("{name} "),
            })
            .collect();
        Ok((0, found))
    }
}

#[cfg(unix)]
static SAVED_TERMIOS: OnceLock<libc::termios> = OnceLock::new();

/// Saves the terminal state so [`restore_terminal`] can undo rustyline's raw mode at any exit, a panic
/// included.
fn save_terminal() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
    });
    // SAFETY: tcgetattr fills the struct we pass; on failure we keep nothing.
    #[cfg(unix)]
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            let _ = SAVED_TERMIOS.set(t);
        }
    }
}

/// Puts the terminal back as it was before the REPL started (call before exiting).
pub fn restore_terminal() {
    // Elsewhere the line editor restores the console itself.
    #[cfg(unix)]
    if let Some(t) = SAVED_TERMIOS.get() {
        // SAFETY: restores attributes read from the same descriptor by tcgetattr.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, t);
        }
    }
}

/// Where history lives for this user.
pub fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".local/state"),
    };
    Some(base.join("sockkit").join("history"))
}

/// Starts the REPL thread.
pub fn start(opts: ReplOptions) -> anyhow::Result<Repl> {
    save_terminal();
    let config = rustyline::Config::builder()
        .max_history_size(HISTORY_MAX)?
        .auto_add_history(true)
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<CommandCompleter, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(CommandCompleter));
    editor.bind_sequence(
        KeyEvent::ctrl('C'),
        EventHandler::Conditional(Box::new(ClearOrInterrupt)),
    );
    let history = if opts.history { history_path() } else { None };
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let printer = editor.create_external_printer()?;
    let (tx, rx) = mpsc::channel(16);
    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("repl".into())
        .spawn(move || run(editor, opts, history, tx, ctl_tx))?;
    Ok(Repl {
        input: rx,
        control: ctl_rx,
        printer: Box::new(printer),
    })
}

/// Ctrl-C: clears a typed line; on an empty line, the default (the editor returns `Interrupted`).
struct ClearOrInterrupt;

impl ConditionalEventHandler for ClearOrInterrupt {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        (!ctx.line().is_empty()).then_some(Cmd::Kill(Movement::WholeBuffer))
    }
}

/// Ends the session as Ctrl-C outside the REPL does: the signal handler in `lib.rs` flushes stdout,
/// `main` restores the terminal and exits 130. (The editor reads Ctrl-C as a key, so no SIGINT is
/// sent by the terminal itself.) Where there is no raise(3) of SIGINT, the session ends as /quit.
fn interrupt_process(ctl: &mpsc::UnboundedSender<Control>) {
    #[cfg(unix)]
    if nix::sys::signal::raise(nix::sys::signal::Signal::SIGINT).is_ok() {
        return;
    }
    let _ = ctl.send(Control::Quit);
}

fn run(
    mut editor: Editor<CommandCompleter, DefaultHistory>,
    opts: ReplOptions,
    history: Option<PathBuf>,
    tx: mpsc::Sender<Bytes>,
    ctl: mpsc::UnboundedSender<Control>,
) {
    let mut hex = send::encoder(SendMode::Hex, opts.pickle_protocol);
    let mut pickle = send::encoder(SendMode::Pickle, opts.pickle_protocol);
    // Dropped on /close or Ctrl-D: the network side sees the end of our data and half-closes.
    let mut tx = Some(tx);
    let mut interrupts = 0;
    loop {
        let prompt = opts.prompt.lock().map(|p| p.clone()).unwrap_or_default();
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                interrupts += 1;
                if interrupts >= 2 {
                    interrupt_process(&ctl);
                    break;
                }
                println!("(Ctrl-C again to end the session)");
                continue;
            }
            Err(ReadlineError::Eof) if tx.is_some() => {
                interrupts = 0;
                tx = None;
                println!("(sent EOF: the peer sees the end of our data; still receiving, /quit or Ctrl-D to end)");
                continue;
            }
            Err(ReadlineError::Eof) => {
                let _ = ctl.send(Control::Quit);
                break;
            }
            Err(e) => {
                eprintln!("sockkit: error: the terminal failed: {e}");
                let _ = ctl.send(Control::Quit);
                break;
            }
        };
        interrupts = 0;
        save_history(&mut editor, history.as_ref());
        let outcome = match line.strip_prefix('/') {
            None => {
                let mut bytes = line.into_bytes();
                bytes.extend_from_slice(if opts.crlf { b"\r\n" } else { b"\n" });
                Step::Send(bytes)
            }
            Some(_) => command(&line, &mut *hex, &mut *pickle, &opts),
        };
        match (outcome, &tx) {
            (Step::Send(_) | Step::SendFile(_) | Step::Close, None) => {
                println!("error: EOF was sent, nothing more can be (/quit ends the session)");
            }
            (Step::Send(bytes), Some(sender)) => {
                if sender.blocking_send(Bytes::from(bytes)).is_err() {
                    break;
                }
            }
            (Step::SendFile(path), Some(sender)) => {
                if !send_file(&path, sender) {
                    break;
                }
            }
            (Step::Control(c), _) => {
                let quit = c == Control::Quit;
                let _ = ctl.send(c);
                if quit {
                    break;
                }
            }
            (Step::Close, Some(_)) => {
                tx = None;
                println!("(sent EOF: still receiving, /quit or Ctrl-D to end)");
            }
            (Step::Nothing, _) => {}
        }
    }
    save_history(&mut editor, history.as_ref());
    if let Some(a) = ACTIVE.get() {
        a.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

fn save_history(editor: &mut Editor<CommandCompleter, DefaultHistory>, path: Option<&PathBuf>) {
    if let Some(path) = path {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
}

enum Step {
    Send(Vec<u8>),
    SendFile(PathBuf),
    Control(Control),
    Close,
    Nothing,
}

/// Runs a `/command`; errors are one line and send nothing.
fn command<'a>(
    line: &str,
    hex: &'a mut dyn send::Encode,
    pickle: &'a mut dyn send::Encode,
    opts: &ReplOptions,
) -> Step {
    let (name, arg) = match line.split_once(' ') {
        Some((n, a)) => (n, a.trim_start()),
        None => (line, ""),
    };
    let fail = |msg: String| {
        println!("error: {msg}");
        Step::Nothing
    };
    match name {
        "/hex" | "/pickle" => {
            let enc = if name == "/hex" { hex } else { pickle };
            match enc.encode(arg.as_bytes()) {
                Ok(Some(bytes)) => Step::Send(bytes),
                Ok(None) => fail(format!("{name} needs an argument (see /help)")),
                Err(e) => fail(format!(
                    "column {}: {}",
                    e.column + name.len() + 1,
                    e.message
                )),
            }
        }
        "/raw" => Step::Send(arg.as_bytes().to_vec()),
        "/mode" => match arg {
            "raw" => Step::Control(Control::Mode(DisplayMode::Raw)),
            "hex" => Step::Control(Control::Mode(DisplayMode::Hex)),
            "pickle" => Step::Control(Control::Mode(DisplayMode::Pickle)),
            _ => fail(format!("unknown mode '{arg}': use raw, hex or pickle")),
        },
        "/send" if arg.is_empty() => fail("/send needs a file name".into()),
        "/send" => Step::SendFile(PathBuf::from(arg)),
        "/to" => to(arg, opts),
        "/peers" => {
            match &opts.peers {
                None => println!("one peer: the prompt names it"),
                Some(peers) => {
                    let list = peers.list.lock().map(|l| l.clone()).unwrap_or_default();
                    let target = peers.target.lock().map(|t| t.clone()).unwrap_or_default();
                    if list.is_empty() {
                        println!("no peers yet");
                    }
                    for peer in list {
                        let mark = if target.as_ref().is_some_and(|t| t.number == peer.number) {
                            " <- /to"
                        } else {
                            ""
                        };
                        println!("{}: {} {}{mark}", peer.number, peer.desc, peer.addr);
                    }
                }
            }
            Step::Nothing
        }
        "/close" => Step::Close,
        "/quit" => Step::Control(Control::Quit),
        "/help" => {
            for (_, help) in COMMANDS {
                println!("{help}");
            }
            println!(
                "Other lines are sent with a newline. Ctrl-D: half-close (again: end). Ctrl-C: clear the line; twice on an empty line: end."
            );
            Step::Nothing
        }
        other => fail(format!("unknown command {other}: /help lists them")),
    }
}

fn to(arg: &str, opts: &ReplOptions) -> Step {
    let Some(peers) = &opts.peers else {
        println!("error: /to needs several peers (listen -k or udp-listen)");
        return Step::Nothing;
    };
    let list = peers.list.lock().map(|l| l.clone()).unwrap_or_default();
    let chosen = match choose(arg, &list, peers.any_address) {
        Ok(c) => c,
        Err(msg) => {
            println!("error: {msg}");
            return Step::Nothing;
        }
    };
    match &chosen {
        Some(peer) => println!("lines now go to {}", peer.addr),
        None if peers.any_address => println!("lines now go to the latest sender"),
        None => println!("lines now go to every client"),
    }
    if let Ok(mut t) = peers.target.lock() {
        *t = chosen;
    }
    Step::Nothing
}

/// What `/to ARG` picks: `N` (a number `/peers` shows), `HOST:PORT` (a listed peer, or with
/// `any_address` any address), or `all`/nothing for the default.
fn choose(arg: &str, list: &[Peer], any_address: bool) -> Result<Option<Peer>, String> {
    use crate::accept::Peer as Addr;
    if arg.is_empty() || arg == "all" {
        return Ok(None);
    }
    if let Ok(n) = arg.parse::<u64>() {
        return list
            .iter()
            .find(|p| p.number == n)
            .map(|p| Some(p.clone()))
            .ok_or_else(|| format!("no peer {n} (/peers lists them)"));
    }
    // A Unix sender, by the path it sent from.
    if let Some(p) = list
        .iter()
        .find(|p| matches!(&p.addr, Addr::Local(name) if name == arg))
    {
        return Ok(Some(p.clone()));
    }
    let addr = arg
        .parse::<std::net::SocketAddr>()
        .map(crate::net::display_addr)
        .map_err(|_| {
            format!("'{arg}' is neither a peer number nor an address like 127.0.0.1:5000")
        })?;
    if let Some(p) = list.iter().find(|p| p.addr == Addr::Ip(addr)) {
        Ok(Some(p.clone()))
    } else if any_address {
        Ok(Some(Peer {
            number: 0,
            addr: Addr::Ip(addr),
            desc: String::new(),
        }))
    } else {
        Err(format!("no peer at {addr} (/peers lists them)"))
    }
}

/// Sends a file in chunks, with progress for large files; false when the network side is gone.
fn send_file(path: &PathBuf, tx: &mpsc::Sender<Bytes>) -> bool {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            println!(
                "error: cannot open {}: {}",
                path.display(),
                crate::error::describe_io(&e)
            );
            return true;
        }
    };
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut sent = 0u64;
    let mut next_report = total / 10;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                println!(
                    "error: reading {}: {}",
                    path.display(),
                    crate::error::describe_io(&e)
                );
                return true;
            }
        };
        if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
            return false;
        }
        sent += n as u64;
        if total >= 1 << 20 && sent >= next_report {
            print!(
                "\rsent {} of {}",
                crate::units::human_bytes(sent as f64),
                crate::units::human_bytes(total as f64)
            );
            let _ = std::io::stdout().flush();
            next_report += total / 10;
        }
    }
    println!(
        "{}sent {} ({})",
        if total >= 1 << 20 { "\r" } else { "" },
        path.display(),
        crate::units::human_bytes(sent as f64)
    );
    true
}

/// How a command's REPL is set up, as the command line says.
#[derive(Debug, Clone)]
pub struct ReplSetup {
    /// Read and write the history file.
    pub history: bool,
    /// How typed lines are sent.
    pub send: send::SendOpts,
}

/// A REPL attached to a command: its input replaces stdin, its controls are served by
/// [`Attached::serve_controls`].
pub struct Attached {
    pub input: mpsc::Receiver<Bytes>,
    pub prompt: Arc<Mutex<String>>,
    control: mpsc::UnboundedReceiver<Control>,
}

impl Attached {
    /// Starts the REPL with `prompt` and routes stdout through it.
    pub async fn start(
        out: &crate::output::Output,
        prompt: String,
        setup: &ReplSetup,
        peers: Option<Arc<Peers>>,
    ) -> anyhow::Result<Attached> {
        // Whatever was printed before must be on screen before the prompt is drawn.
        out.flush().await;
        let prompt = Arc::new(Mutex::new(prompt));
        let repl = start(ReplOptions {
            prompt: prompt.clone(),
            history: setup.history,
            crlf: setup.send.crlf,
            pickle_protocol: setup.send.pickle_protocol,
            peers,
        })?;
        let active = Arc::new(std::sync::atomic::AtomicBool::new(true));
        out.send(crate::output::OutMsg::AttachRepl(crate::output::ReplSink {
            printer: repl.printer,
            active: active.clone(),
        }))
        .await;
        ACTIVE.get_or_init(|| active);
        Ok(Attached {
            input: repl.input,
            prompt,
            control: repl.control,
        })
    }

    /// Applies /mode requests; resolves when the person asks to /quit.
    pub async fn serve_controls(
        mut control: mpsc::UnboundedReceiver<Control>,
        out: crate::output::Output,
    ) {
        while let Some(c) = control.recv().await {
            match c {
                Control::Mode(m) => out.send(crate::output::OutMsg::SetMode(m)).await,
                Control::Quit => return,
            }
        }
        // The editor thread ended without /quit (the network side stopped taking input, or a second
        // Ctrl-C raised SIGINT): the command ends by its own rules or by that signal.
        std::future::pending::<()>().await
    }

    /// Runs `work` (the command's network side) with the REPL attached: `/mode` requests are applied
    /// meanwhile, and `/quit` ends it early (`None`). Either way the session is closed: what was
    /// printed is on screen, the prompt erased, the terminal restored.
    pub async fn run<T>(
        control: mpsc::UnboundedReceiver<Control>,
        out: &crate::output::Output,
        work: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        let result = tokio::select! {
            r = work => Some(r),
            () = Attached::serve_controls(control, out.clone()) => None,
        };
        out.flush().await;
        end_session();
        result
    }

    /// Splits off the control channel so it can be served beside the relay.
    pub fn take_control(&mut self) -> mpsc::UnboundedReceiver<Control> {
        let (_, empty) = mpsc::unbounded_channel();
        std::mem::replace(&mut self.control, empty)
    }
}

static ACTIVE: OnceLock<Arc<std::sync::atomic::AtomicBool>> = OnceLock::new();

/// Called when the session ends: stop printing through the REPL, restore the terminal.
pub fn end_session() {
    if let Some(a) = ACTIVE.get() {
        if a.swap(false, std::sync::atomic::Ordering::Relaxed) {
            // The prompt is still on screen: erase it so what follows starts on a clean line.
            let mut out = std::io::stdout();
            let _ = out.write_all(b"\r\x1b[2K");
            let _ = out.flush();
        }
    }
    restore_terminal();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_takes_numbers_and_addresses_alike() {
        let a: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let b: std::net::SocketAddr = "[::1]:6000".parse().unwrap();
        use crate::accept::Peer as Addr;
        let peer = |number, addr, desc: &str| Peer {
            number,
            addr,
            desc: desc.into(),
        };
        let list = vec![
            peer(1, Addr::Ip(a), "x"),
            peer(2, Addr::Ip(b), "y"),
            peer(3, Addr::Local("/tmp/s.sock".into()), "z"),
            peer(
                4,
                Addr::Local("a local process (pid 1, uid 0, gid 0)".into()),
                "w",
            ),
        ];
        let to = |arg, any| choose(arg, &list, any).map(|p| p.map(|p| p.number));
        for any in [false, true] {
            assert_eq!(to("1", any), Ok(Some(1)));
            assert_eq!(to("2", any), Ok(Some(2)));
            assert_eq!(to("127.0.0.1:5000", any), Ok(Some(1)));
            assert_eq!(to("[::ffff:127.0.0.1]:5000", any), Ok(Some(1)));
            assert_eq!(to("/tmp/s.sock", any), Ok(Some(3)));
            assert_eq!(to("4", any), Ok(Some(4)));
            assert_eq!(to("all", any), Ok(None));
            assert!(to("5", any).is_err());
            assert!(to("nonsense", any).is_err());
        }
        let elsewhere = "10.0.0.1:9";
        assert!(choose(elsewhere, &list, false).is_err());
        assert_eq!(
            choose(elsewhere, &list, true).map(|p| p.map(|p| p.addr)),
            Ok(Some(Addr::Ip(elsewhere.parse().unwrap())))
        );
    }
}
