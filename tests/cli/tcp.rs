//! TCP: listen and connect.
