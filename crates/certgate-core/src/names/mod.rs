//! Name forms of <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6>, each with its syntax check and its subtree match
//! (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>). One module per form, as rustls-webpki's `subject_name`.

pub(crate) mod directory;
pub(crate) mod dns;
pub(crate) mod email;
pub(crate) mod ip;
pub(crate) mod uri;
