//! The socket-lab handshake messages (to be written).
