//! SIP/SIMPLE as Sans-IO engines: message parsing and serialization
//! (RFC 3261), non-INVITE transactions, subscriptions (RFC 6665, 3856),
//! PUBLISH (RFC 3903), PIDF bodies and MESSAGE (RFC 3428).
#![deny(missing_docs)]
