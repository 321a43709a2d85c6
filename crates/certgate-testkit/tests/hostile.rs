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

#[test]
fn more_anchors_than_the_limit_are_denied() {
    let k = keys();
    let root = certificate(&Spec::ca("CN=anchor limit root", 20, RSA256), &k.root, None);
    let leaf = certificate(
        &Spec::leaf("CN=anchor limit leaf", 21, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject: "CN=anchor limit root",
            key: &k.root,
        }),
    );
    let anchors = vec![root; Limits::DEFAULT.max_anchors + 1];
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &[],
        anchors: &anchors,
        at: AT,
        eku: EkuPolicy::ClientAuth,
    };
    let err =
        verify_chain(&RingVerifier, &input, &Limits::DEFAULT).expect_err("anchor limit trips");
    assert_eq!(err.code(), ErrorCode::TooManyCertificates);
}

#[test]
fn path_deeper_than_the_depth_limit_is_denied() {
    let k = keys();
    // root -> ca-0 -> ca-1 -> ... -> ca-8 -> leaf: nine CAs between leaf and anchor.
    let root = certificate(&Spec::ca("CN=depth 0", 30, RSA256), &k.root, None);
    let mut intermediates = Vec::new();
    for level in 1..=9_u64 {
        let parent = format!("CN=depth {}", level - 1);
        let spec = Spec::ca(&format!("CN=depth {level}"), 30 + level, RSA256);
        intermediates.push(certificate(
            &spec,
            &k.root,
            Some(&IssuerRef {
                subject: &parent,
                key: &k.root,
            }),
        ));
    }
    let leaf = certificate(
        &Spec::leaf("CN=deep leaf", 50, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject: "CN=depth 9",
            key: &k.root,
        }),
    );
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &intermediates,
        anchors: &[root],
        at: AT,
        eku: EkuPolicy::ClientAuth,
    };
    let err = verify_chain(&RingVerifier, &input, &Limits::DEFAULT).expect_err("depth limit trips");
    assert_eq!(err.code(), ErrorCode::PathLengthExceeded);
    // One level less is within the limit.
    let shallow = ChainInput {
        intermediates: &intermediates[..8],
        ..input
    };
    let leaf8 = certificate(
        &Spec::leaf("CN=deep leaf", 51, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject: "CN=depth 8",
            key: &k.root,
        }),
    );
    let shallow = ChainInput {
        leaf: &leaf8,
        ..shallow
    };
    assert!(verify_chain(&RingVerifier, &shallow, &Limits::DEFAULT).is_ok());
}

#[test]
fn quadratic_name_constraint_work_exhausts_the_comparison_budget() {
    let k = keys();
    let subject = "CN=many subtrees";
    let mut ca = Spec::ca(subject, 60, RSA256);
    ca.permitted_dns = (0..600).map(|i| format!("p{i}.example")).collect();
    let ca = certificate(&ca, &k.root, None);
    let mut leaf = Spec::leaf("CN=many names", 61, RSA256);
    leaf.dns_names = (0..500).map(|i| format!("n{i}.p0.example")).collect();
    let leaf = certificate(
        &leaf,
        &k.leaf,
        Some(&IssuerRef {
            subject,
            key: &k.root,
        }),
    );
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &[],
        anchors: &[ca],
        at: AT,
        eku: EkuPolicy::ClientAuth,
    };
    let err = verify_chain(&RingVerifier, &input, &Limits::DEFAULT).expect_err("budget trips");
    assert_eq!(err.code(), ErrorCode::PathBudgetExceeded);
    // With a budget large enough the same chain is judged on its merits (all names are
    // under p0.example, which is permitted).
    let generous = Limits {
        max_name_constraint_comparisons: 1_000_000,
        ..Limits::DEFAULT
    };
    assert!(verify_chain(&RingVerifier, &input, &generous).is_ok());
}

/// Counts the signature checks that reach the arithmetic, per algorithm.
struct Counting(std::cell::RefCell<Vec<certgate_core::SignatureAlgorithm>>);

impl certgate_core::SignatureVerifier for Counting {
    fn verify(&self, data: &certgate_core::SignedData<'_>) -> bool {
        self.0.borrow_mut().push(data.algorithm);
        certgate_core::SignatureVerifier::verify(&RingVerifier, data)
    }
}

#[test]
fn forged_intermediates_fail_at_the_registered_ca_key_before_their_own_keys_are_used() {
    let k = keys();
    let root_subject = "CN=forgery root";
    let root = certificate(&Spec::ca(root_subject, 70, RSA256), &k.root, None);
    // Intermediates naming the registered root as issuer but signed by another key,
    // each holding a DSA key (the slowest to verify natively).
    let evil = "CN=forged intermediate";
    let intermediates: Vec<Vec<u8>> = (0..10)
        .map(|i| {
            certificate(
                &Spec::ca(evil, 71 + i, RSA256),
                &k.dsa,
                Some(&IssuerRef {
                    subject: root_subject,
                    key: &k.impostor,
                }),
            )
        })
        .collect();
    let dsa = SigAlg::Aws(certgate_core::SignatureAlgorithm::DsaSha256);
    let leaf = certificate(
        &Spec::leaf("CN=forged leaf", 90, dsa),
        &k.leaf,
        Some(&IssuerRef {
            subject: evil,
            key: &k.dsa,
        }),
    );
    let counting = Counting(std::cell::RefCell::new(Vec::new()));
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &intermediates,
        anchors: &[root],
        at: AT,
        eku: EkuPolicy::ClientAuth,
    };
    let err = verify_chain(&counting, &input, &Limits::DEFAULT).expect_err("forgery is refused");
    assert_eq!(err.code(), ErrorCode::BadSignature);
    let checks = counting.0.borrow();
    assert_eq!(
        checks.len(),
        10,
        "one check per forged intermediate, by the root's key"
    );
    assert!(checks
        .iter()
        .all(|a| *a == certgate_core::SignatureAlgorithm::RsaSha256));
}
