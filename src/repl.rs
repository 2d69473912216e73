//! The interactive REPL: rustyline on its own thread, typed lines sent to the network side over the same
//! kind of channel as the stdin pump, and incoming data printed above the prompt through rustyline's
//! external printer, so output never breaks the line being typed.
//!
//! Lines starting with `/` are commands ([`COMMANDS`]); Tab completes them. History is kept per user in
//! `$XDG_STATE_HOME/sockkit/history` (else `~/.local/state/sockkit/history`), at most [`HISTORY_MAX`]
//! entries. Ctrl-C clears the line; Ctrl-D on an empty line half-closes like EOF on stdin.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, ExternalPrinter, Helper, Highlighter, Hinter, Validator};
use tokio::sync::mpsc;

use crate::cli::{DisplayMode, SendMode};
use crate::send;

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
        "/to N | /to HOST:PORT  choose who lines go to (listen -k, UDP)",
    ),
    ("/peers", "/peers            list the peers"),
    (
        "/close",
        "/close            half-close: the peer sees EOF, we keep reading",
    ),
    ("/quit", "/quit             end the session"),
    ("/help", "/help             this list"),
];

/// Most history entries kept.
pub const HISTORY_MAX: usize = 1000;

/// Who lines can be sent to, shared with the network side (listen -k clients, UDP senders).
#[derive(Debug, Default)]
pub struct Peers {
    /// (name used by /to, description shown by /peers).
    pub list: Mutex<Vec<(String, String)>>,
    /// The chosen peer, by name; `None` means the default (all clients, or the latest UDP sender).
    pub target: Mutex<Option<String>>,
    /// Whether `/to` accepts any `HOST:PORT`, not just listed names (UDP).
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

static SAVED_TERMIOS: OnceLock<libc::termios> = OnceLock::new();

/// Saves the terminal state so [`restore_terminal`] can undo rustyline's raw mode at any exit.
fn save_terminal() {
    // SAFETY: tcgetattr fills the struct we pass; on failure we keep nothing.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            let _ = SAVED_TERMIOS.set(t);
        }
    }
}

/// Puts the terminal back as it was before the REPL started (call before exiting).
pub fn restore_terminal() {
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

fn run(
    mut editor: Editor<CommandCompleter, DefaultHistory>,
    opts: ReplOptions,
    history: Option<PathBuf>,
    tx: mpsc::Sender<Bytes>,
    ctl: mpsc::UnboundedSender<Control>,
) {
    let mut hex = send::encoder(SendMode::Hex, opts.pickle_protocol);
    let mut pickle = send::encoder(SendMode::Pickle, opts.pickle_protocol);
    loop {
        let prompt = opts.prompt.lock().map(|p| p.clone()).unwrap_or_default();
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                println!("(sent EOF: the peer sees the end of our data; still receiving, Ctrl-C to quit)");
                break;
            }
            Err(e) => {
                eprintln!("sockkit: error: the terminal failed: {e}");
                break;
            }
        };
        save_history(&mut editor, history.as_ref());
        let outcome = match line.strip_prefix('/') {
            None => {
                let mut bytes = line.into_bytes();
                bytes.extend_from_slice(if opts.crlf { b"\r\n" } else { b"\n" });
                Step::Send(bytes)
            }
            Some(_) => command(&line, &mut *hex, &mut *pickle, &opts),
        };
        match outcome {
            Step::Send(bytes) => {
                if tx.blocking_send(Bytes::from(bytes)).is_err() {
                    break;
                }
            }
            Step::SendFile(path) => {
                if !send_file(&path, &tx) {
                    break;
                }
            }
            Step::Control(c) => {
                let quit = c == Control::Quit;
                let _ = ctl.send(c);
                if quit {
                    break;
                }
            }
            Step::Close => {
                println!("(sent EOF: still receiving, /quit or Ctrl-C to end)");
                break;
            }
            Step::Nothing => {}
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
                    for (name, desc) in list {
                        let mark = if target.as_deref() == Some(&name) {
                            " <- /to"
                        } else {
                            ""
                        };
                        println!("{name}: {desc}{mark}");
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
                "Other lines are sent with a newline. Ctrl-D: half-close. Ctrl-C: clear the line."
            );
            Step::Nothing
        }
        other => fail(format!("unknown command {other}: /help lists them")),
    }
}

fn to(arg: &str, opts: &ReplOptions) -> Step {
    let Some(peers) = &opts.peers else {
        println!("error: /to needs several peers (listen -k or UDP)");
        return Step::Nothing;
    };
    let list = peers.list.lock().map(|l| l.clone()).unwrap_or_default();
    let chosen = if arg.is_empty() || arg == "all" {
        None
    } else if list.iter().any(|(name, _)| name == arg)
        || (peers.any_address && arg.parse::<std::net::SocketAddr>().is_ok())
    {
        Some(arg.to_string())
    } else {
        println!("error: no peer '{arg}' (/peers lists them)");
        return Step::Nothing;
    };
    println!(
        "lines now go to {}",
        chosen.as_deref().unwrap_or(if peers.any_address {
            "the latest sender"
        } else {
            "every client"
        })
    );
    if let Ok(mut t) = peers.target.lock() {
        *t = chosen;
    }
    Step::Nothing
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
                crate::relay::human_bytes(sent as f64),
                crate::relay::human_bytes(total as f64)
            );
            let _ = std::io::stdout().flush();
            next_report += total / 10;
        }
    }
    println!(
        "{}sent {} ({})",
        if total >= 1 << 20 { "\r" } else { "" },
        path.display(),
        crate::relay::human_bytes(sent as f64)
    );
    true
}

/// Makes received text safe and tidy for the terminal: control characters other than newline and tab
/// are shown as `\xNN`, and the text ends with a newline.
pub fn terminal_safe(text: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(text);
    let mut out = String::with_capacity(lossy.len() + 1);
    for c in lossy.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    if out.ends_with('\n') {
        out.pop();
    }
    out
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
        args: &crate::cli::ReplArgs,
        send: &crate::cli::SendArgs,
        peers: Option<Arc<Peers>>,
    ) -> anyhow::Result<Attached> {
        // Whatever was printed before must be on screen before the prompt is drawn.
        out.flush().await;
        let prompt = Arc::new(Mutex::new(prompt));
        let repl = start(ReplOptions {
            prompt: prompt.clone(),
            history: !args.no_history,
            crlf: send.crlf,
            pickle_protocol: send.pickle_protocol,
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
        // The REPL ended without /quit (Ctrl-D, /close): keep running until the peer closes.
        std::future::pending::<()>().await
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
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe(b"hi\x1b[2J\n"), "hi\\x1b[2J");
        assert_eq!(terminal_safe(b"a\tb\nc"), "a\tb\nc");
    }
}
