//! WebAssembly engine: converts JS values to bytes, calls `certgate-api` with the host
//! signature backend (see `host.rs`), converts back. No logic lives here;
//! `certgate-napi` exposes the same names and shapes, except for `verifyChain`, the
//! call of every cold decision: it answers one packed string ([`pack_verified`]) that
//! `ts/engine/load.ts` unpacks into the same object, because building the object
//! property by property across the boundary cost more than the rest of the answer
//! (bench/README.md, "The wasm engine's cold path").

mod host;

use certgate_api::{Outcome, Verified};
use wasm_bindgen::prelude::*;

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    // json_compatible: maps become plain objects and None becomes null, like the native
    // engine's serde_json output.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

fn bytes(list: &[JsValue]) -> Result<Vec<Vec<u8>>, JsError> {
    list.iter()
        .map(|v| {
            v.dyn_ref::<js_sys::Uint8Array>()
                .map(js_sys::Uint8Array::to_vec)
                .ok_or_else(|| JsError::new("expected an array of Uint8Array"))
        })
        .collect()
}

/// Install the host signature verifier (`node:crypto`); `undefined` removes it.
#[wasm_bindgen(js_name = setHostVerifier)]
pub fn set_host_verifier(host: Option<host::Host>) {
    host::set(host);
}

/// The AWS names of the signature algorithms, indexed as the host verifier receives them.
#[wasm_bindgen(js_name = hostAlgorithms)]
pub fn host_algorithms() -> Vec<String> {
    host::algorithms()
}

/// Parse the first certificate of a PEM or DER input.
#[wasm_bindgen]
pub fn inspect(input: &[u8]) -> Result<JsValue, JsError> {
    to_js(&certgate_api::inspect(input))
}

/// Parse every certificate of a PEM bundle.
#[wasm_bindgen(js_name = inspectChain)]
pub fn inspect_chain(input: &[u8]) -> Result<JsValue, JsError> {
    to_js(&certgate_api::inspect_chain(input))
}

/// Validate a leaf against registered CAs at a time (epoch seconds); the outcome packed
/// by [`pack_verified`].
#[wasm_bindgen(js_name = verifyChainPacked)]
pub fn verify_chain_packed(
    leaf: &[u8],
    intermediates: Box<[JsValue]>,
    anchors: Box<[JsValue]>,
    at: f64,
    eku: &str,
) -> Result<String, JsError> {
    let (intermediates, anchors) = (bytes(&intermediates)?, bytes(&anchors)?);
    Ok(pack_verified(certgate_api::verify_chain(
        &host::HostVerifier,
        leaf,
        &intermediates,
        &anchors,
        at,
        eku,
    )))
}

/// `verifyChain`'s outcome as one string, unpacked by `unpackVerified` in
/// `ts/engine/load.ts`: accepted, `notAfter TAB path TAB serials` (path and serials
/// joined by spaces, both hex); refused, `! code TAB message` (no space after `!`).
/// `leafCertificateId` and `anchorCertificateId` are the first and last of `path`.
pub fn pack_verified(outcome: Outcome<Verified>) -> String {
    match outcome {
        Outcome::Accepted { value, .. } => format!(
            "{}\t{}\t{}",
            value.not_after,
            value.path.join(" "),
            value.serials.join(" ")
        ),
        Outcome::Refused { code, message, .. } => format!("!{code}\t{message}"),
    }
}

/// Check a CA's proof of possession.
#[wasm_bindgen(js_name = verifyRegistrationProof)]
pub fn verify_registration_proof(
    ca: &[u8],
    verification: &[u8],
    registration_code: &str,
    at: f64,
) -> Result<JsValue, JsError> {
    to_js(&certgate_api::verify_registration_proof(
        &host::HostVerifier,
        ca,
        verification,
        registration_code,
        at,
    ))
}

/// Issue a certificate with the AWS profile for a public key.
#[wasm_bindgen(js_name = issueCertificate)]
pub fn issue_certificate(
    public_key: &[u8],
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serial: &[u8],
    not_before: f64,
) -> Result<JsValue, JsError> {
    to_js(&certgate_api::issue_certificate(
        public_key,
        issuer_certificate,
        issuer_key,
        serial,
        not_before,
    ))
}

/// Issue certificates for many public keys under one CA (its key parsed once).
#[wasm_bindgen(js_name = issueCertificates)]
pub fn issue_certificates(
    public_keys: Box<[JsValue]>,
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serials: Box<[JsValue]>,
    not_before: f64,
) -> Result<JsValue, JsError> {
    let (public_keys, serials) = (bytes(&public_keys)?, bytes(&serials)?);
    to_js(&certgate_api::issue_certificates(
        &public_keys,
        issuer_certificate,
        issuer_key,
        &serials,
        not_before,
    ))
}

/// EC key pairs from caller-drawn secrets.
#[wasm_bindgen(js_name = generateKeys)]
pub fn generate_keys(key_type: &str, secrets: Box<[JsValue]>) -> Result<JsValue, JsError> {
    to_js(&certgate_api::generate_keys(key_type, &bytes(&secrets)?))
}

/// Issue a certificate for a CSR.
#[wasm_bindgen(js_name = issueFromCsr)]
pub fn issue_from_csr(
    csr: &[u8],
    issuer_certificate: &[u8],
    issuer_key: &[u8],
    serial: &[u8],
    not_before: f64,
) -> Result<JsValue, JsError> {
    to_js(&certgate_api::issue_from_csr(
        &host::HostVerifier,
        csr,
        issuer_certificate,
        issuer_key,
        serial,
        not_before,
    ))
}

/// Create a self-signed issuing CA certificate.
#[wasm_bindgen(js_name = createIssuingCa)]
pub fn create_issuing_ca(
    key: &[u8],
    subject: &str,
    serial: &[u8],
    not_before: f64,
    not_after: f64,
) -> Result<JsValue, JsError> {
    to_js(&certgate_api::create_issuing_ca(
        key, subject, serial, not_before, not_after,
    ))
}

/// Parse and verify a CA's certificate revocation list.
#[wasm_bindgen(js_name = verifyCrl)]
pub fn verify_crl(
    crl: &[u8],
    ca: &[u8],
    at: f64,
    previous_number: Option<String>,
) -> Result<JsValue, JsError> {
    to_js(&certgate_api::verify_crl(
        &host::HostVerifier,
        crl,
        ca,
        at,
        previous_number.as_deref(),
    ))
}

/// Every error code the engine can return.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    certgate_api::error_codes()
        .into_iter()
        .map(String::from)
        .collect()
}
