//! `--allow` / `--deny` on a dual-stack listener: a rule means the same whether it is written as a
//! plain IPv4 address or as the IPv4-mapped IPv6 address a dual-stack socket sees, and whichever family
//! the client arrives on.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::harness::*;

fn ipv6_available() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// Connects to a `-v` listener and says `line`; returns whether the client was served (its line is
/// printed) or refused (the server says so and closes it unread).
fn try_client(server: &Proc, to: SocketAddr, line: &str) -> bool {
    let mut c = TcpStream::connect_timeout(&to, TIMEOUT).expect("connect");
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    let me = c.local_addr().unwrap().to_string();
    let _ = c.write_all(format!("{line}\n").as_bytes());
    let (accepted, refused) = (format!("connection from {me}"), format!("refused {me}"));
    let err = server
        .stderr
        .wait_for(&format!("{accepted:?} or {refused:?}"), |b| {
            let t = String::from_utf8_lossy(b);
            t.contains(&accepted) || t.contains(&refused)
        });
    if String::from_utf8_lossy(&err).contains(&accepted) {
        server.stdout.wait_contains(&format!("{line}\n"));
        true
    } else {
        let mut buf = [0u8; 16];
        assert!(
            matches!(c.read(&mut buf), Ok(0) | Err(_)),
            "refused, yet data came"
        );
        false
    }
}

#[test]
fn mapped_and_plain_rules_mean_the_same_on_a_dual_stack_listener() {
    let v6 = ipv6_available();
    for (flag, rule, v4_served) in [
        ("--deny", "::ffff:127.0.0.1", false),
        ("--deny", "127.0.0.1", false),
        ("--allow", "::ffff:127.0.0.1", true),
        ("--allow", "127.0.0.1", true),
        ("--allow", "::ffff:127.0.0.0/104", true),
    ] {
        // No host: one socket on [::] takes both families.
        let server = Proc::sockkit_null(&["listen", "-k", "-v", flag, rule, "0"]);
        let port = server.listening_port();
        let served = try_client(&server, local(port), &format!("v4 {flag} {rule}"));
        assert_eq!(
            served,
            v4_served,
            "127.0.0.1 with {flag} {rule}: {}",
            server.stderr.text()
        );
        if v6 {
            // ::1 is neither 127.0.0.1 nor mapped: denied by --allow, let through by --deny.
            let to: SocketAddr = format!("[::1]:{port}").parse().unwrap();
            let served = try_client(&server, to, &format!("v6 {flag} {rule}"));
            assert_eq!(
                served,
                flag == "--deny",
                "::1 with {flag} {rule}: {}",
                server.stderr.text()
            );
        }
    }
}

#[test]
fn the_lab_server_normalises_rules_too() {
    let server = Proc::sockkit_null(&["lab-server", "--port", "0", "--deny", "::ffff:127.0.0.1"]);
    let port = server.stdout_listening_port();
    let mut c = TcpStream::connect_timeout(&local(port), TIMEOUT).unwrap();
    c.set_read_timeout(Some(TIMEOUT)).unwrap();
    // Refused: closed before the welcome, so nothing is read.
    let mut buf = [0u8; 64];
    assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
    server.stderr.wait_contains("not allowed by --allow/--deny");
}
