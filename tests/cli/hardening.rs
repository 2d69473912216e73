//! Faults and limits: signals, stdin's flags, closed descriptors, verbose output that must not touch the
//! data, and silent clients that must not block good ones.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::harness::*;

/// A Python server that sends `hello\n` and then keeps the connection open.
fn talkative_server() -> Proc {
    Proc::python(
        "import socket, time\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept(); c.sendall(b'hello\\n'); time.sleep(60)",
        &[],
    )
}

#[test]
fn sigterm_and_sigint_end_promptly_after_flushing() {
    for (sig, code) in [(15, 143), (2, 130)] {
        let server = talkative_server();
        let port = server.stdout_port().to_string();
        let mut client = Proc::sockkit(&["connect", "127.0.0.1", &port]);
        client.stdout.wait_contains("hello\n");
        client.signal(sig);
        let (status, out, err) = client.finish();
        assert_eq!(status, Some(code), "signal {sig}: {err}");
        assert_eq!(out, b"hello\n");
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // Close-on-exec, so children started by other tests do not inherit (and hold open) our pipe.
    // SAFETY: pipe2 fills two fresh descriptors.
    #[cfg(target_os = "linux")]
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // macOS has no pipe2: the flag is set right after, and a child another test starts in between
    // may hold the pipe open (a late EOF there, no wrong result).
    // SAFETY: pipe fills two fresh descriptors; F_SETFD only sets their flag.
    #[cfg(not(target_os = "linux"))]
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        for fd in fds {
            assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        }
    }
    // SAFETY: both are ours.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

fn flags(fd: &OwnedFd) -> i32 {
    // SAFETY: F_GETFL only reads.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) }
}

#[test]
fn stdin_and_stdout_flags_are_left_as_found() {
    for mode in [
        &["--mode", "raw"][..],
        &["--mode", "hex"][..],
        &["--send", "hex"][..],
    ] {
        let server = Proc::python(
            "import socket\n\
             s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
             print('PORT', s.getsockname()[1], flush=True)\n\
             c, _ = s.accept()\n\
             while c.recv(65536): pass\n\
             c.sendall(b'4142\\n'); c.close()",
            &[],
        );
        let port = server.stdout_port().to_string();
        let (stdin_r, mut stdin_w) = {
            let (r, w) = pipe();
            (r, std::fs::File::from(w))
        };
        let (stdout_r, stdout_w) = pipe();
        let (in_before, out_before) = (flags(&stdin_r), flags(&stdout_w));
        let mut args = vec!["connect", "127.0.0.1", &port];
        args.extend_from_slice(mode);
        let mut child = Command::new(sockkit_path())
            .args(&args)
            .stdin(Stdio::from(stdin_r.try_clone().unwrap()))
            .stdout(Stdio::from(stdout_w.try_clone().unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        stdin_w.write_all(b"4142\n").unwrap();
        drop(stdin_w);
        let status = child.wait().unwrap();
        assert!(status.success(), "{mode:?}");
        assert_eq!(
            flags(&stdin_r),
            in_before,
            "stdin's file status flags changed ({mode:?})"
        );
        assert_eq!(
            flags(&stdout_w),
            out_before,
            "stdout's file status flags changed ({mode:?})"
        );
        drop(stdout_w);
        let mut got = Vec::new();
        std::fs::File::from(stdout_r).read_to_end(&mut got).unwrap();
        assert!(!got.is_empty());
    }
}

#[test]
fn closed_stdin_is_an_empty_input() {
    let server = Proc::python(
        "import socket\n\
         s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
         print('PORT', s.getsockname()[1], flush=True)\n\
         c, _ = s.accept(); assert c.recv(10) == b''; c.sendall(b'saw EOF'); c.close()",
        &[],
    );
    let port = server.stdout_port();
    let mut sh = Proc::start(
        "bash",
        &[
            "-c",
            &format!("{} connect 127.0.0.1 {port} <&-", sockkit_path().display()),
        ],
        Stdio::null(),
    );
    let (code, out, err) = sh.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"saw EOF");
}

#[test]
fn verbose_output_never_changes_the_bytes_sent() {
    // UDP: nc-openbsd's -u -v sends probe bytes ("X") before the data; sockkit must not.
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(TIMEOUT)).unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    for verbose in [false, true] {
        let mut args = vec!["udp-send", "--wait", "0", "127.0.0.1", &port, "exact"];
        if verbose {
            args.insert(1, "-v");
        }
        let (code, _, err) = run_sockkit(&args, b"");
        assert_eq!(code, Some(0), "{err}");
        let mut buf = [0u8; 100];
        let (n, _) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"exact", "verbose={verbose}");
    }
    // TCP: the same bytes arrive with and without -v.
    for verbose in [false, true] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let mut args = vec!["connect", "127.0.0.1", &port];
        if verbose {
            args.insert(1, "-v");
        }
        let mut p = Proc::sockkit(&args);
        let (mut conn, _) = listener.accept().unwrap();
        p.write(b"payload");
        p.close_stdin();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"payload", "verbose={verbose}");
        drop(conn);
        let (code, out, _) = p.finish();
        assert_eq!(code, Some(0));
        assert!(out.is_empty(), "diagnostics leaked into stdout");
    }
}

#[test]
fn a_thousand_silent_clients_never_block_a_good_one() {
    let server = Proc::sockkit_null(&["lab-server", "--port", "0", "--handshake-timeout", "30s"]);
    let port = server.stdout_listening_port();
    let silent: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(local(port)).unwrap())
        .collect();
    let mut good = Proc::python(
        "import pickle, socket, sys\n\
         s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n\
         s.settimeout(10)\n\
         pickle.loads(s.recv(4096))\n\
         s.sendall(pickle.dumps({'student_name': 'On Time', 'github_username': 'g', 'sid': 7}))\n\
         print('ACK', pickle.loads(s.recv(4096)), flush=True)",
        &[&port.to_string()],
    );
    let (code, out, err) = good.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "ACK 1\n");
    server.stdout.wait_contains("Connected: Student: On Time,");
    drop(silent);
}

#[test]
fn idle_clients_of_listen_k_are_closed() {
    let server = Proc::sockkit_null(&["listen", "-k", "-i", "300ms", "127.0.0.1", "0"]);
    let port = server.listening_port();
    let mut idle = TcpStream::connect(local(port)).unwrap();
    idle.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = [0u8; 8];
    // Closed by the server: EOF (or a reset), well before our read timeout.
    match idle.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    server.stderr.wait_contains("idle timeout");
}

/// Bytes in the pipe between stdout's write end and its reader, asked with FIONREAD.
fn pipe_holds(fd: &OwnedFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    assert_eq!(
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &mut n) },
        0
    );
    n as usize
}

/// A signal while stdout is not being read: everything sockkit had received still reaches stdout
/// once its reader reads (within the bound), on the fast path too, where received bytes wait in a
/// pipe of sockkit's own rather than in the stdout thread. `-v` says how many bytes were received;
/// stdout has exactly those, in order.
#[test]
fn a_signal_delivers_everything_received_to_a_slow_stdout() {
    // The same bytes as the server's below.
    let data: Vec<u8> = (0..400_000u32)
        .map(|i| ((i * 7 + i / 251) % 256) as u8)
        .collect();
    for sig in [2, 15] {
        let server = Proc::python(
            "import socket, sys, time\n\
             data = bytes((i * 7 + i // 251) % 256 for i in range(400000))\n\
             s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
             print('PORT', s.getsockname()[1], flush=True)\n\
             c, _ = s.accept(); c.sendall(data); print('SENT', flush=True); time.sleep(60)",
            &[],
        );
        let port = server.stdout_port().to_string();
        let (out_r, out_w) = pipe();
        let mut child = Command::new(sockkit_path())
            .args(["connect", "-v", "127.0.0.1", &port])
            .stdin(Stdio::null())
            .stdout(Stdio::from(out_w))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Captured::spawn_reader(child.stderr.take().unwrap());
        server.stdout.wait_contains("SENT");
        // stdout's pipe is full: what sockkit receives now waits on its side.
        let start = std::time::Instant::now();
        while pipe_holds(&out_r) < 65536 {
            assert!(start.elapsed() < TIMEOUT, "stdout's pipe never filled");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: sends a signal to our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let mut out = Vec::new();
        std::fs::File::from(out_r).read_to_end(&mut out).unwrap();
        let status = child.wait().unwrap();
        let err = stderr.wait_eof();
        let err = String::from_utf8_lossy(&err);
        assert_eq!(status.code(), Some(128 + sig), "{err}");
        let received: usize = err
            .split("received ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no byte count in {err}"));
        assert!(received > 65536, "only {received} bytes received: {err}");
        assert_eq!(out.len(), received, "{err}");
        assert!(
            out[..] == data[..received],
            "stdout differs from what was sent"
        );
    }
}
