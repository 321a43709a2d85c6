//! Name forms of RFC 5280 4.2.1.6, each with its syntax check and its subtree match
//! (RFC 5280 4.2.1.10). One module per form, as rustls-webpki's `subject_name`.

pub(crate) mod directory;
pub(crate) mod dns;
pub(crate) mod email;
pub(crate) mod ip;
pub(crate) mod uri;
