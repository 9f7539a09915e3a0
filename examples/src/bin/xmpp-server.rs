//! Example XMPP server.
fn main() {}
