//! The seven accepted signature algorithms, the refused ones, and key policy.

use super::*;
use certgate_core::SignatureAlgorithm as A;

use crate::build::{certificate, IssuerRef, Spec};
use crate::keys::{keys, SigAlg};

pub(super) fn cases() -> Vec<Case> {
    let k = keys();
    vec![
        algorithm_case(
            "sha256_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            RSA256,
            None,
        ),
        algorithm_case(
            "sha384_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            SigAlg::Aws(A::RsaSha384),
            None,
        ),
        algorithm_case(
            "sha512_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            SigAlg::Aws(A::RsaSha512),
            None,
        ),
        algorithm_case(
            "dsa_with_sha256_is_accepted",
            &k.dsa,
            &k.p256,
            SigAlg::Aws(A::DsaSha256),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha256_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha256),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha384_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha384),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha512_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha512),
            None,
        ),
        algorithm_case(
            "ecdsa_p384_with_sha384_is_accepted",
            &k.p384,
            &k.p384,
            SigAlg::Aws(A::EcdsaSha384),
            None,
        ),
        algorithm_case(
            "ecdsa_p521_with_sha512_is_accepted",
            &k.p521,
            &k.p521,
            SigAlg::Aws(A::EcdsaSha512),
            None,
        ),
        algorithm_case(
            "sha1_with_rsa_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaSha1,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "md5_with_rsa_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaMd5OidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "rsa_pss_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaPssOidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "ed25519_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::Ed25519OidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "ca_with_rsa_1024_key_is_denied",
            &k.small,
            &k.leaf,
            RSA256,
            Some("RSA_KEY_TOO_SMALL"),
        ),
        algorithm_case(
            "leaf_with_rsa_1024_key_is_denied",
            &k.root,
            &k.small,
            RSA256,
            Some("RSA_KEY_TOO_SMALL"),
        ),
        mismatch_case(),
        tampered_case(),
    ]
}

/// An EC CA whose certificate claims an RSA signature on the leaf.
fn mismatch_case() -> Case {
    let k = keys();
    let subject = "CN=certgate mismatch CA";
    let ca = certificate(
        &Spec::ca(subject, 12, SigAlg::Aws(A::EcdsaSha256)),
        &k.p256,
        None,
    );
    // Sign with the RSA root key but name the EC CA as issuer.
    let leaf = certificate(
        &Spec::leaf("CN=mismatch device", 13, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject,
            key: &k.root,
        }),
    );
    chain(
        "ec_ca_with_rsa_signature_is_denied",
        &leaf,
        &[],
        &[&ca],
        Some("KEY_ALGORITHM_MISMATCH"),
    )
}

fn tampered_case() -> Case {
    let p = pki();
    let mut leaf = p.leaf_via_root.clone();
    let last = leaf.len() - 1;
    leaf[last] ^= 0x01;
    chain(
        "leaf_with_tampered_signature_is_denied",
        &leaf,
        &[],
        &[&p.root],
        Some("BAD_SIGNATURE"),
    )
}
