//! One module per subcommand. Each has a `run` that validates its arguments into a config, then works.

/// Public for the fuzz target of its port lists.
pub mod connect;
pub(crate) mod generate;
pub(crate) mod lab_client;
pub(crate) mod lab_server;
pub(crate) mod listen;
pub(crate) mod relay;
pub(crate) mod udp_listen;
pub(crate) mod udp_send;
