//! The integration tests: one binary, a small harness, one module per area.
//!
//! Every test runs the real `sockkit` binary against real peers (python3, Debian's nc, or sockkit
//! itself), on port 0 or a port the program reports; every wait has a timeout.

mod harness;

mod generated;
mod hardening;
mod hex_display;
mod lab;
mod pickle_display;
mod readme;
mod repl;
mod send_modes;
mod tcp;
mod udp;
