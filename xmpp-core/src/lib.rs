//! Sans-IO XMPP core.
#![deny(missing_docs)]
