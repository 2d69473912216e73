//! `connect --tls` and `listen --tls` against real peers on loopback: `openssl s_server` and
//! `openssl s_client` (Debian's openssl, installed by .ci/setup), python3's `ssl` module, and
//! sockkit itself. Certificates are made at test time with openssl in a temporary directory: a CA,
//! leaves it signed (a good one, an expired one, one for another name, a client certificate) and a
//! self-signed one.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{hash, random_bytes, require, Captured, Proc};

/// Test certificates, made with openssl, in a directory removed on drop.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        require("openssl");
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=sockkit test CA",
        ]);
        pki.leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1", "2");
        pki.leaf("expired", "localhost", "DNS:localhost,IP:127.0.0.1", "-1");
        pki.leaf("client", "test client", "DNS:client.test", "2");
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ]);
        pki
    }

    /// `NAME.pem` and `NAME.key`, signed by the CA, valid for `days` (negative: expired).
    fn leaf(&self, name: &str, cn: &str, san: &str, days: &str) {
        let (key, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        std::fs::write(
            self.path(&ext),
            format!("subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"),
        )
        .unwrap();
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            days,
            "-out",
            &pem,
            "-extfile",
            &ext,
        ]);
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn p(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    /// The `sha256:...` pin of a certificate, as openssl computes it.
    fn pin(&self, name: &str) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(self.path(name))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let hex = text.trim().rsplit('=').next().unwrap().replace(':', "");
        format!("sha256:{}", hex.to_lowercase())
    }
}

/// `openssl s_server` with `cert`/`key` on a free port; returns it and the port. It echoes nothing
/// back; what it receives goes to its stdout.
fn s_server(pki: &Pki, cert: &str, key: &str) -> (Proc, u16) {
    let port = crate::harness::free_port();
    let accept = format!("127.0.0.1:{port}");
    let p = Proc::start(
        "openssl",
        &[
            "s_server",
            "-accept",
            &accept,
            "-cert",
            &pki.p(cert),
            "-key",
            &pki.p(key),
            "-quiet",
            "-naccept",
            "1",
        ],
        Stdio::piped(),
    );
    crate::harness::wait_tcp_listening(port);
    (p, port)
}

/// The pin a self-signed `listen --tls` prints.
fn printed_pin(server: &Proc) -> String {
    let text = line_of(&server.stderr, "--pin sha256:");
    let at = text.find("--pin sha256:").unwrap() + "--pin ".len();
    text[at..at + "sha256:".len() + 64].to_string()
}

/// Waits for a whole line of `p`'s stdout containing `needle` and returns it.
fn stdout_line(p: &Proc, needle: &str) -> String {
    line_of(&p.stdout, needle)
}

/// Waits for a whole line of `out` containing `needle` and returns it.
fn line_of(out: &Captured, needle: &str) -> String {
    let has = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .lines()
            .any(|l| l.contains(needle))
            && b.ends_with(b"\n")
    };
    let text = out.wait_for(needle, has);
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap()
        .to_string()
}

fn one_error_line(err: &str) -> &str {
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one error line expected, got: {err}");
    lines[0]
}

#[test]
fn tls_self_signed_server_refused_without_trust_and_nothing_sent() {
    let pki = Pki::new();
    let (mut server, port) = s_server(&pki, "self.pem", "self.key");
    let port = port.to_string();
    let (code, out, err) =
        crate::harness::run_sockkit(&["connect", "--tls", "localhost", &port], b"secret\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    let line = one_error_line(&err);
    let pin = pki.pin("self.pem");
    assert!(
        line.contains("unknown issuer") && line.contains("self-signed"),
        "{line}"
    );
    assert!(line.contains("subject CN=localhost"), "{line}");
    assert!(line.contains(&pin), "{line} should name {pin}");
    server.close_stdin();
    let _ = server.wait_timeout(Duration::from_secs(5));
    assert!(
        !server.stdout.text().contains("secret"),
        "sent before the check"
    );
}

/// Where the system has no trusted certificates (here: SSL_CERT_FILE and SSL_CERT_DIR name nothing,
/// as in a container without ca-certificates), the built-in Mozilla roots are used, said in one
/// warning line: a self-signed server is still refused, and nothing is sent.
#[test]
fn tls_without_a_system_trust_store_checks_against_built_in_roots() {
    let pki = Pki::new();
    let (mut server, port) = s_server(&pki, "self.pem", "self.key");
    let nothing = pki.path("no-such-store");
    let mut client = Command::new(crate::harness::sockkit_path())
        .args(["connect", "--tls", "localhost", &port.to_string()])
        .env("SSL_CERT_FILE", &nothing)
        .env("SSL_CERT_DIR", &nothing)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut client.stdin.take().unwrap(), b"secret\n").unwrap();
    let out = client.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("sockkit: warning: no trusted certificates on this system (")
            && lines[0].ends_with(
                "checking against the Mozilla roots built into sockkit (--ca FILE chooses others)"
            ),
        "{err}"
    );
    assert!(
        lines[1].contains("unknown issuer") && lines[1].contains("self-signed"),
        "{err}"
    );
    server.close_stdin();
    let _ = server.wait_timeout(Duration::from_secs(5));
    assert!(
        !server.stdout.text().contains("secret"),
        "sent before the check"
    );
}

#[test]
fn tls_expired_certificate_refused() {
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, "expired.pem", "expired.key");
    let port = port.to_string();
    let ca = pki.p("ca.pem");
    let (code, _, err) = crate::harness::run_sockkit(
        &["connect", "--tls", "--ca", &ca, "localhost", &port],
        b"secret\n",
    );
    assert_eq!(code, Some(1), "{err}");
    let line = one_error_line(&err);
    assert!(line.contains("certificate refused: expired"), "{line}");
    assert!(line.contains(&pki.pin("expired.pem")), "{line}");
}

#[test]
fn tls_wrong_host_name_refused() {
    let pki = Pki::new();
    let (_server, port) = s_server(&pki, "server.pem", "server.key");
    let port = port.to_string();
    let ca = pki.p("ca.pem");
    let (code, _, err) = crate::harness::run_sockkit(
        &[
            "connect",
            "--ssl",
            "--ssl-trustfile",
            &ca,
            "--sni",
            "other.test",
            "127.0.0.1",
            &port,
        ],
        b"secret\n",
    );
    assert_eq!(code, Some(1), "{err}");
    let line = one_error_line(&err);
    assert!(
        line.contains(
            "name mismatch (wanted 'other.test', the certificate is for localhost, 127.0.0.1)"
        ),
        "{line}"
    );
    assert!(line.contains(&pki.pin("server.pem")), "{line}");
}

#[test]
fn tls_ca_accepted_data_reaches_openssl_s_server() {
    let pki = Pki::new();
    let (mut server, port) = s_server(&pki, "server.pem", "server.key");
    let port = port.to_string();
    let ca = pki.p("ca.pem");
    let mut client = Proc::sockkit(&["connect", "-v", "--tls", "--ca", &ca, "localhost", &port]);
    client.write(b"over tls\n");
    server.stdout.wait_contains("over tls");
    server.write(b"and back\n");
    client.stdout.wait_contains("and back");
    let err = line_of(&client.stderr, "server certificate:");
    assert!(client.stderr.text().contains("server: TLS 1.3"), "{err}");
    assert!(
        err.contains("subject CN=localhost, issuer CN=sockkit test CA"),
        "{err}"
    );
    assert_eq!(client.stdout.text(), "and back\n", "stdout holds data only");
}

#[test]
fn tls_pin_from_listen_works_and_a_wrong_pin_is_refused() {
    let mut server = Proc::sockkit(&["listen", "--tls", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let pin = printed_pin(&server);
    // A wrong pin first: refused, and the server keeps waiting with the same certificate.
    let wrong = format!("sha256:{}", "00".repeat(32));
    let (code, _, err) = crate::harness::run_sockkit(
        &["connect", "--tls", "--pin", &wrong, "127.0.0.1", &port],
        b"x",
    );
    assert_eq!(code, Some(1), "{err}");
    let line = one_error_line(&err);
    assert!(
        line.contains("it matches no --pin") && line.contains(&pin),
        "{line}"
    );
    let (code, _, err) = crate::harness::run_sockkit(
        &["connect", "-v", "--tls", "--pin", &pin, "localhost", &port],
        b"pinned hello\n",
    );
    assert_eq!(code, Some(0), "{err}");
    // -v: the handshake, the certificate, and the stats with the session.
    assert!(err.contains("server: TLS 1.3, TLS13_"), "{err}");
    assert!(
        err.contains("server certificate: subject CN=sockkit self-signed, issuer CN=sockkit self-signed, valid "),
        "{err}"
    );
    assert!(err.contains(&format!(", {pin}\n")), "{err}");
    assert!(
        err.contains("received 0 bytes") && err.contains(", over TLS 1.3, "),
        "{err}"
    );
    server.stdout.wait_contains("pinned hello");
    server.close_stdin();
    let (code, out, err) = server.finish();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"pinned hello\n");
}

#[test]
fn tls_mutual_accepted_and_refused() {
    require("openssl");
    let pki = Pki::new();
    let (cert, key, ca) = (pki.p("server.pem"), pki.p("server.key"), pki.p("ca.pem"));
    let server = Proc::sockkit(&[
        "listen",
        "--tls",
        "--cert",
        &cert,
        "--key",
        &key,
        "--client-ca",
        &ca,
        "-k",
        "127.0.0.1",
        "0",
    ]);
    let port = server.listening_port().to_string();
    // Without a client certificate: refused, reported, and the server keeps serving.
    let (code, _, _) = crate::harness::run_sockkit(
        &["connect", "--tls", "--ca", &ca, "localhost", &port],
        b"anonymous\n",
    );
    let err = line_of(&server.stderr, "TLS handshake failed");
    assert!(err.contains("no certificate"), "{err}");
    assert_ne!(code, Some(0));
    // With one, from sockkit...
    let (ccert, ckey) = (pki.p("client.pem"), pki.p("client.key"));
    let (code, _, err) = crate::harness::run_sockkit(
        &[
            "connect",
            "--tls",
            "--ca",
            &ca,
            "--ssl-cert",
            &ccert,
            "--ssl-key",
            &ckey,
            "localhost",
            &port,
        ],
        b"from sockkit\n",
    );
    assert_eq!(code, Some(0), "{err}");
    server.stdout.wait_contains("from sockkit");
    // ... and from openssl s_client.
    let mut sc = Proc::start(
        "openssl",
        &[
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-CAfile",
            &ca,
            "-cert",
            &ccert,
            "-key",
            &ckey,
            "-verify_return_error",
            "-quiet",
        ],
        Stdio::piped(),
    );
    sc.write(b"from s_client\n");
    server.stdout.wait_contains("from s_client");
    assert!(!server.stdout.text().contains("anonymous"));
}

/// A python3 TLS server that sends `hello`, reads to the client's close_notify, then ends with
/// close_notify or without it.
const PY_TLS_SERVER: &str = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
print('PORT', s.getsockname()[1], flush=True)
c, _ = s.accept()
t = ctx.wrap_socket(c, server_side=True)
t.sendall(b'hello\n')
# Read to the client's close_notify first, so that closing sends a FIN rather than a reset that
# could discard the hello before the client reads it.
got = b''
while True:
    b = t.recv(65536)
    if not b: break
    got += b
print('GOT', got, flush=True)
if sys.argv[3] == 'notify':
    t.unwrap().close()
else:
    socket.socket(fileno=t.detach()).close()
"#;

#[test]
fn tls_close_notify_is_a_normal_end_and_truncation_is_reported() {
    let pki = Pki::new();
    let (cert, key, ca) = (pki.p("server.pem"), pki.p("server.key"), pki.p("ca.pem"));
    let py = Proc::python(PY_TLS_SERVER, &[&cert, &key, "notify"]);
    let port = py.stdout_port().to_string();
    let (code, out, err) = crate::harness::run_sockkit(
        &["connect", "--tls", "--ca", &ca, "localhost", &port],
        b"to python\n",
    );
    assert_eq!((code, out.as_slice()), (Some(0), &b"hello\n"[..]), "{err}");
    let got = stdout_line(&py, "GOT");
    assert_eq!(got, r"GOT b'to python\n'");

    let mut py = Proc::python(PY_TLS_SERVER, &[&cert, &key, "truncate"]);
    let port = py.stdout_port().to_string();
    let mut client = Proc::sockkit_null(&["connect", "--tls", "--ca", &ca, "localhost", &port]);
    let (code, out, err) = client.finish();
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(out, b"hello\n");
    let line = one_error_line(&err);
    assert!(
        line.contains("truncated: the peer closed without TLS close_notify"),
        "{line}"
    );
    py.wait();
}

/// A python3 TLS client that verifies with the CA, sends its argument, half-closes with
/// close_notify where it can, and prints what it receives.
const PY_TLS_CLIENT: &str = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
t = ctx.wrap_socket(c, server_hostname='localhost')
t.sendall(sys.argv[3].encode())
got = b''
while True:
    b = t.recv(65536)
    if not b: break
    got += b
print('GOT', got, t.version(), flush=True)
"#;

#[test]
fn tls_python_client_to_listen_both_ways() {
    let pki = Pki::new();
    let (cert, key, ca) = (pki.p("server.pem"), pki.p("server.key"), pki.p("ca.pem"));
    let mut server = Proc::sockkit(&[
        "listen",
        "--tls",
        "--ssl-cert",
        &cert,
        "--ssl-key",
        &key,
        "127.0.0.1",
        "0",
    ]);
    let port = server.listening_port().to_string();
    let py = Proc::python(PY_TLS_CLIENT, &[&ca, &port, "from python\n"]);
    server.stdout.wait_contains("from python");
    server.write(b"from sockkit\n");
    server.close_stdin();
    let got = stdout_line(&py, "GOT");
    assert_eq!(got, r"GOT b'from sockkit\n' TLSv1.3");
}

#[test]
fn tls_listen_k_echo_handshakes_per_client() {
    let mut server = Proc::sockkit(&["listen", "-v", "--tls", "--echo", "-k", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let pin = printed_pin(&server);
    // A client that connects and says nothing must not hold up the others.
    let _silent =
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    for word in ["one", "two"] {
        let (code, out, err) = crate::harness::run_sockkit(
            &["connect", "--tls", "--pin", &pin, "127.0.0.1", &port],
            format!("{word}\n").as_bytes(),
        );
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out, format!("{word}\n").as_bytes());
    }
    // -v: each client's summary says which TLS session it had.
    let left = line_of(&server.stderr, "left: received 4 bytes");
    assert!(left.contains(", over TLS"), "{left}");
    server.signal(15);
    let _ = server.wait();
}

#[test]
fn tls_64_mib_each_way_equal_hashes() {
    const SIZE: usize = 64 << 20;
    let up = random_bytes(SIZE, 31);
    let down = random_bytes(SIZE, 32);
    let mut server = Proc::sockkit(&["listen", "--tls", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let pin = printed_pin(&server);
    let mut client = Proc::sockkit(&["connect", "--tls", "--pin", &pin, "127.0.0.1", &port]);
    let ((c1, got_up, e1), (c2, got_down, e2)) =
        crate::harness::exchange(&mut server, &mut client, &up, &down);
    assert_eq!((c1, c2), (Some(0), Some(0)), "listen: {e1} connect: {e2}");
    assert_eq!((got_up.len(), got_down.len()), (SIZE, SIZE));
    assert_eq!(hash(&got_up), hash(&up), "client to server bytes differ");
    assert_eq!(
        hash(&got_down),
        hash(&down),
        "server to client bytes differ"
    );
}

#[test]
fn tls_flags_of_the_other_side_or_without_tls_are_usage_errors() {
    for (args, needle) in [
        (&["connect", "--pin", "sha256:00", "h", "1"][..], "--tls"),
        (
            &["connect", "--tls", "--client-ca", "x", "h", "1"][..],
            "--client-ca applies to listen",
        ),
        (
            &["listen", "--tls", "--sni", "x", "0"][..],
            "--sni applies to connect",
        ),
        (
            &["connect", "--tls", "--pin", "sha256:abcd", "h", "1"][..],
            "32 bytes",
        ),
        (
            &["connect", "--tls", "-z", "h", "1"][..],
            "--tls does not apply with -z",
        ),
    ] {
        let (code, out, err) = crate::harness::run_sockkit(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn tls_chat_relays_lines_between_tls_clients() {
    let server = Proc::sockkit(&["listen", "-v", "--tls", "--chat", "127.0.0.1", "0"]);
    let port = server.listening_port().to_string();
    let pin = printed_pin(&server);
    let mut one = Proc::sockkit(&["connect", "--tls", "--pin", &pin, "127.0.0.1", &port]);
    // The server says so once client1's handshake is done; it joins the chat right after.
    line_of(&server.stderr, "client1 127.0.0.1:");
    let mut two = Proc::sockkit(&["connect", "--tls", "--pin", &pin, "127.0.0.1", &port]);
    two.write(b"ready\n");
    assert_eq!(stdout_line(&one, "ready"), "<client2> ready");
    one.write(b"hi \x1b[2J\n");
    assert_eq!(stdout_line(&two, "hi"), "<client1> hi \\x1b[2J");
}

/// Display and send modes over TLS: a hex dump of what a TLS server sends, and `--send pickle`
/// lines arriving as pickles that `listen --tls --mode pickle` shows, and a broker between TLS
/// clients.
#[test]
fn tls_with_display_and_send_modes_and_a_broker() {
    let server = Proc::sockkit(&[
        "listen",
        "-v",
        "--tls",
        "-k",
        "--broker",
        "--mode",
        "pickle",
        "127.0.0.1",
        "0",
    ]);
    let port = server.listening_port().to_string();
    let pin = printed_pin(&server);
    let mut hex = Proc::sockkit(&["connect", "--tls", "--pin", &pin, "-x", "127.0.0.1", &port]);
    // client1's handshake is done (it joins the broker's clients right after): then the second.
    let done = line_of(&server.stderr, ": TLS 1.");
    assert!(done.contains("client1 127.0.0.1:"), "{done}");
    let mut pickler = Proc::sockkit(&[
        "connect",
        "--tls",
        "--pin",
        &pin,
        "--send",
        "pickle",
        "127.0.0.1",
        &port,
    ]);
    pickler.write(b"{'a': [1, 2.5, None]}\n");
    // The server shows the pickle decoded, labelled with its client.
    let shown = stdout_line(&server, "{'a': [1, 2.5, None]}");
    assert!(shown.contains("client2"), "{shown}");
    // The broker passes the same bytes to the first client, which dumps them in hex: a protocol 4
    // pickle starts 80 04.
    let dump = stdout_line(&hex, "00000000  80 04");
    assert!(dump.starts_with("00000000  80 04"), "{dump}");
    pickler.close_stdin();
    hex.close_stdin();
}
