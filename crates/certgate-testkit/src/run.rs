//! Runs a [`Call`] through `certgate-api` with a given signature backend, returning the
//! JSON the bindings would hand to JavaScript.

use base64::Engine as _;
use certgate_core::SignatureVerifier;

use crate::cases::Call;

fn bytes(b64: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("fixture base64")
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serialisable")
}

#[expect(
    clippy::as_conversions,
    reason = "fixture times are small integers, exact in f64"
)]
fn seconds(t: i64) -> f64 {
    t as f64
}

/// Execute `call` with `verifier`.
pub fn run(call: &Call, verifier: &dyn SignatureVerifier) -> serde_json::Value {
    match call {
        Call::Inspect { input } => json(&certgate_api::inspect(&bytes(input))),
        Call::InspectChain { input } => json(&certgate_api::inspect_chain(&bytes(input))),
        Call::VerifyChain {
            leaf,
            intermediates,
            anchors,
            at,
            eku,
        } => {
            let intermediates: Vec<Vec<u8>> = intermediates.iter().map(|i| bytes(i)).collect();
            let anchors: Vec<Vec<u8>> = anchors.iter().map(|a| bytes(a)).collect();
            json(&certgate_api::verify_chain(
                verifier,
                &bytes(leaf),
                &intermediates,
                &anchors,
                seconds(*at),
                eku,
            ))
        }
        Call::VerifyRegistrationProof {
            ca,
            verification,
            registration_code,
            at,
        } => json(&certgate_api::verify_registration_proof(
            verifier,
            &bytes(ca),
            &bytes(verification),
            registration_code,
            seconds(*at),
        )),
        Call::IssueFromCsr {
            csr,
            issuer_certificate,
            issuer_key,
            serial,
            not_before,
        } => json(&certgate_api::issue_from_csr(
            verifier,
            &bytes(csr),
            &bytes(issuer_certificate),
            &bytes(issuer_key),
            &bytes(serial),
            seconds(*not_before),
        )),
        Call::IssueCertificate {
            public_key,
            issuer_certificate,
            issuer_key,
            serial,
            not_before,
        } => json(&certgate_api::issue_certificate(
            &bytes(public_key),
            &bytes(issuer_certificate),
            &bytes(issuer_key),
            &bytes(serial),
            seconds(*not_before),
        )),
        Call::VerifyCrl {
            crl,
            ca,
            at,
            previous_number,
        } => json(&certgate_api::verify_crl(
            verifier,
            &bytes(crl),
            &bytes(ca),
            seconds(*at),
            previous_number.as_deref(),
        )),
        Call::CreateIssuingCa {
            key,
            subject,
            serial,
            not_before,
            not_after,
        } => json(&certgate_api::create_issuing_ca(
            &bytes(key),
            subject,
            &bytes(serial),
            seconds(*not_before),
            seconds(*not_after),
        )),
    }
}
