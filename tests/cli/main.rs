//! The integration tests: one binary, a small harness, one module per area.
//!
//! Every test runs the real `sockkit` binary against real peers (python3, Debian's nc, or sockkit
//! itself), on port 0 or a port the program reports; every wait has a timeout.
//!
//! Unix only: the peers, the signals and the pseudo-terminal these tests drive are Unix's. On
//! Windows the unit tests (`cargo test --lib`) still run.
#![cfg(unix)]

mod harness;

mod args;
mod filters;
mod generated;
mod hardening;
mod help_examples;
mod hex_display;
mod lab;
mod pickle_display;
mod readme;
mod relay;
mod repl;
mod send_modes;
mod tcp;
mod tls;
mod udp;
mod unix;
mod verbose;
