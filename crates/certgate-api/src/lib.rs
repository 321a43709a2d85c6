//! The result shapes both bindings hand to JavaScript.
//!
//! `certgate-wasm` and `certgate-napi` must expose identical names and shapes, so the
//! shapes live here once. Each binding only converts its host's input into bytes, calls a
//! function of this crate, and serialises the returned value with its own serde bridge.
//! A refusal is data (`{ ok: false, code, message }`), never an exception: errors thrown
//! across a worker thread lose their fields, plain objects do not.
#![forbid(unsafe_code)]

use certgate_core::{CertificateInfo, Error};
use serde::Serialize;

/// `{ ok: true, ...value }` or `{ ok: false, code, message }`.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Outcome<T: Serialize> {
    /// The operation succeeded.
    Accepted {
        /// Always `true`.
        ok: bool,
        #[serde(flatten)]
        value: T,
    },
    /// The engine refused the input.
    Refused {
        /// Always `false`.
        ok: bool,
        /// Stable error code, see `docs/errors.md`.
        code: &'static str,
        /// Explanation for people.
        message: String,
    },
}

impl<T: Serialize> From<Result<T, Error>> for Outcome<T> {
    fn from(result: Result<T, Error>) -> Self {
        match result {
            Ok(value) => Outcome::Accepted { ok: true, value },
            Err(e) => Outcome::Refused { ok: false, code: e.code().as_str(), message: e.message().to_owned() },
        }
    }
}

/// A parsed certificate as JavaScript sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub certificate_id: String,
    pub subject: String,
    pub issuer: String,
    pub serial_number: String,
    pub not_before: i64,
    pub not_after: i64,
    pub signature_algorithm: String,
    pub public_key: PublicKey,
}

/// A subject public key as JavaScript sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub bits: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

impl From<CertificateInfo> for Certificate {
    fn from(c: CertificateInfo) -> Self {
        Self {
            certificate_id: c.certificate_id,
            subject: c.subject,
            issuer: c.issuer,
            serial_number: c.serial_number,
            not_before: c.not_before,
            not_after: c.not_after,
            signature_algorithm: c.signature_algorithm,
            public_key: PublicKey { kind: c.public_key.kind, bits: c.public_key.bits, curve: c.public_key.curve },
        }
    }
}

/// Parse the first certificate of a PEM or DER input.
pub fn inspect(input: &[u8]) -> Outcome<Certificate> {
    certgate_core::inspect(input).map(Certificate::from).into()
}

/// Every error code the engine can return, for the consistency test.
pub fn error_codes() -> Vec<&'static str> {
    certgate_core::ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}
