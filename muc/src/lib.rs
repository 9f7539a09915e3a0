//! XEP-0045 multi-user chat: rooms (occupants, roles, affiliations,
//! configuration, history, moderation, invitations) and the service that
//! hosts them, as a Sans-IO fan-out engine.
#![deny(missing_docs)]
