//! certgate-core: parse, verify and decide on X.509 client certificates.
//!
//! This crate is a pure function of its inputs: it performs no I/O, reads no clock,
//! draws no randomness and reads no environment. The validation time, trust anchors
//! and resource limits are arguments. It compiles unchanged for
//! `wasm32-unknown-unknown` and for the host.
#![forbid(unsafe_code)]

mod error;
mod inspect;

pub use error::{Error, ErrorCode};
pub use inspect::{inspect, CertificateInfo, PublicKeyInfo};
