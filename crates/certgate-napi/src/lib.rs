//! Native engine: converts Node values to bytes, calls `certgate-api` with the ring
//! signature backend, converts back. No logic lives here; `certgate-wasm` exposes the
//! same names and shapes. The addon also carries one registry helper that needs native
//! code, [`wal_index::map_wal_index_header`] (not part of the engine).

pub mod wal_index;

use certgate_ring::RingVerifier;
use napi::bindgen_prelude::{Env, Uint8Array, Unknown};
use napi_derive::napi;

type Json<'env> = napi::Result<Unknown<'env>>;

/// Serialise straight into JavaScript values (no intermediate `serde_json::Value`).
fn to_js<'env, T: serde::Serialize>(env: &Env, value: &T) -> Json<'env> {
    env.to_js_value(value)
}

fn bytes(list: Vec<Uint8Array>) -> Vec<Vec<u8>> {
    list.iter().map(|a| a.to_vec()).collect()
}

/// Parse the first certificate of a PEM or DER input.
#[napi]
pub fn inspect<'env>(env: &Env, input: Uint8Array) -> Json<'env> {
    to_js(env, &certgate_api::inspect(&input))
}

/// Parse every certificate of a PEM bundle.
#[napi]
pub fn inspect_chain<'env>(env: &Env, input: Uint8Array) -> Json<'env> {
    to_js(env, &certgate_api::inspect_chain(&input))
}

/// Validate a leaf against registered CAs at a time (epoch seconds).
#[napi]
pub fn verify_chain<'env>(
    env: &Env,
    leaf: Uint8Array,
    intermediates: Vec<Uint8Array>,
    anchors: Vec<Uint8Array>,
    at: f64,
    eku: String,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::verify_chain(
            &RingVerifier,
            &leaf,
            &bytes(intermediates),
            &bytes(anchors),
            at,
            &eku,
        ),
    )
}

/// Check a CA's proof of possession.
#[napi]
pub fn verify_registration_proof<'env>(
    env: &Env,
    ca: Uint8Array,
    verification: Uint8Array,
    registration_code: String,
    at: f64,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::verify_registration_proof(
            &RingVerifier,
            &ca,
            &verification,
            &registration_code,
            at,
        ),
    )
}

/// Issue a certificate with the AWS profile for a public key.
#[napi]
pub fn issue_certificate<'env>(
    env: &Env,
    public_key: Uint8Array,
    issuer_certificate: Uint8Array,
    issuer_key: Uint8Array,
    serial: Uint8Array,
    not_before: f64,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::issue_certificate(
            &public_key,
            &issuer_certificate,
            &issuer_key,
            &serial,
            not_before,
        ),
    )
}

/// Issue certificates for many public keys under one CA (its key parsed once).
#[napi]
pub fn issue_certificates<'env>(
    env: &Env,
    public_keys: Vec<Uint8Array>,
    issuer_certificate: Uint8Array,
    issuer_key: Uint8Array,
    serials: Vec<Uint8Array>,
    not_before: f64,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::issue_certificates(
            &bytes(public_keys),
            &issuer_certificate,
            &issuer_key,
            &bytes(serials),
            not_before,
        ),
    )
}

/// EC key pairs from caller-drawn secrets.
#[napi]
pub fn generate_keys<'env>(env: &Env, key_type: String, secrets: Vec<Uint8Array>) -> Json<'env> {
    to_js(
        env,
        &certgate_api::generate_keys(&key_type, &bytes(secrets)),
    )
}

/// Issue a certificate for a CSR.
#[napi]
pub fn issue_from_csr<'env>(
    env: &Env,
    csr: Uint8Array,
    issuer_certificate: Uint8Array,
    issuer_key: Uint8Array,
    serial: Uint8Array,
    not_before: f64,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::issue_from_csr(
            &RingVerifier,
            &csr,
            &issuer_certificate,
            &issuer_key,
            &serial,
            not_before,
        ),
    )
}

/// Create a self-signed issuing CA certificate.
#[napi]
pub fn create_issuing_ca<'env>(
    env: &Env,
    key: Uint8Array,
    subject: String,
    serial: Uint8Array,
    not_before: f64,
    not_after: f64,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::create_issuing_ca(&key, &subject, &serial, not_before, not_after),
    )
}

/// Parse and verify a CA's certificate revocation list.
#[napi]
pub fn verify_crl<'env>(
    env: &Env,
    crl: Uint8Array,
    ca: Uint8Array,
    at: f64,
    previous_number: Option<String>,
) -> Json<'env> {
    to_js(
        env,
        &certgate_api::verify_crl(&RingVerifier, &crl, &ca, at, previous_number.as_deref()),
    )
}

/// Every error code the engine can return.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    certgate_api::error_codes()
}
