//! One module per subcommand. Each has a `run` that validates its arguments into a config, then works.

pub mod connect;
pub mod generate;
pub mod lab_client;
pub mod lab_server;
pub mod listen;
pub mod udp_listen;
pub mod udp_send;
