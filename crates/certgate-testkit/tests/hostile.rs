//! Hostile inputs give a specific refusal quickly, never a panic.

use certgate_core::{verify_chain, ChainInput, EkuPolicy, ErrorCode, Limits};
use certgate_ring::RingVerifier;
use certgate_testkit::build::{certificate, IssuerRef, Spec};
use certgate_testkit::keys::{keys, SigAlg};
use certgate_testkit::AT;

const RSA256: SigAlg = SigAlg::Aws(certgate_core::SignatureAlgorithm::RsaSha256);

#[test]
fn ten_thousand_certificate_chain_is_denied_before_decoding() {
    let k = keys();
    let root = certificate(&Spec::ca("CN=hostile root", 1, RSA256), &k.root, None);
    let leaf = certificate(
        &Spec::leaf("CN=hostile leaf", 2, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject: "CN=hostile root",
            key: &k.root,
        }),
    );
    // Garbage intermediates: refused by count, so none of them is ever parsed.
    let intermediates = vec![vec![0xff_u8; 8]; 10_000];
    let out = certgate_api::verify_chain(
        &RingVerifier,
        &leaf,
        &intermediates,
        &[root],
        1.75e9,
        "client",
    );
    let json = serde_json::to_value(&out).expect("serialises");
    assert_eq!(json["code"], "TOO_MANY_CERTIFICATES");
}

#[test]
fn many_same_named_impostor_anchors_exhaust_the_signature_budget() {
    let k = keys();
    let subject = "CN=crowded root";
    let leaf = certificate(
        &Spec::leaf("CN=crowded leaf", 3, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject,
            key: &k.root,
        }),
    );
    // Every anchor has the right name and the wrong key.
    let anchors: Vec<Vec<u8>> = (0..5)
        .map(|i| certificate(&Spec::ca(subject, 10 + i, RSA256), &k.impostor, None))
        .collect();
    let limits = Limits {
        max_signature_checks: 3,
        ..Limits::DEFAULT
    };
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &[],
        anchors: &anchors,
        at: AT,
        eku: EkuPolicy::ClientAuth,
    };
    let err = verify_chain(&RingVerifier, &input, &limits).expect_err("budget trips");
    assert_eq!(err.code(), ErrorCode::PathBudgetExceeded);
}

#[test]
fn every_prefix_of_a_certificate_is_refused_without_panicking() {
    let k = keys();
    let der = certificate(&Spec::ca("CN=prefix", 4, RSA256), &k.root, None);
    for len in 0..der.len() {
        let out = serde_json::to_value(certgate_api::inspect(&der[..len])).expect("serialises");
        assert_eq!(out["ok"], false, "prefix of {len} bytes");
    }
}

#[test]
fn every_single_byte_flip_is_handled_without_panicking() {
    let k = keys();
    let der = certificate(
        &Spec::leaf("CN=flip", 5, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject: "CN=flip root",
            key: &k.root,
        }),
    );
    let root = certificate(&Spec::ca("CN=flip root", 6, RSA256), &k.root, None);
    for i in 0..der.len() {
        let mut bad = der.clone();
        bad[i] ^= 0x80;
        let out = certgate_api::verify_chain(
            &RingVerifier,
            &bad,
            &[],
            std::slice::from_ref(&root),
            1.75e9,
            "client",
        );
        let json = serde_json::to_value(&out).expect("serialises");
        // Flipping a bit inside the signed bytes or the signature must never verify.
        assert!(json["ok"] == false || i < 4, "flip at {i} accepted: {json}");
    }
}
