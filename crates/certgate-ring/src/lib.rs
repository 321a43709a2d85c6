//! The native engine's signature backend. ring (BoringSSL-derived assembly) is several
//! times faster than portable big-number code for RSA and P-256/P-384. It has no P-521,
//! no DSA, and of the ECDSA curve/hash pairings only P-256 and P-384 with SHA-256 or
//! SHA-384; everything else goes to RustCrypto.
#![forbid(unsafe_code)]

use certgate_core::{Curve, KeyInfo, SignatureAlgorithm, SignatureVerifier, SignedData};
use certgate_rustcrypto::RustCryptoVerifier;
use ring::signature::{self as rs, VerificationAlgorithm};

/// ring first, RustCrypto for what ring lacks.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingVerifier;

fn ring_algorithm(data: &SignedData<'_>) -> Option<&'static dyn VerificationAlgorithm> {
    use SignatureAlgorithm as A;
    Some(match (data.algorithm, data.key) {
        // ring's RSA algorithms accept 2048..=8192-bit moduli, the same range the core's
        // key policy allows.
        (A::RsaSha256, KeyInfo::Rsa { .. }) => &rs::RSA_PKCS1_2048_8192_SHA256,
        (A::RsaSha384, KeyInfo::Rsa { .. }) => &rs::RSA_PKCS1_2048_8192_SHA384,
        (A::RsaSha512, KeyInfo::Rsa { .. }) => &rs::RSA_PKCS1_2048_8192_SHA512,
        (
            A::EcdsaSha256,
            KeyInfo::Ec {
                curve: Some(Curve::P256),
                ..
            },
        ) => &rs::ECDSA_P256_SHA256_ASN1,
        (
            A::EcdsaSha384,
            KeyInfo::Ec {
                curve: Some(Curve::P256),
                ..
            },
        ) => &rs::ECDSA_P256_SHA384_ASN1,
        (
            A::EcdsaSha256,
            KeyInfo::Ec {
                curve: Some(Curve::P384),
                ..
            },
        ) => &rs::ECDSA_P384_SHA256_ASN1,
        (
            A::EcdsaSha384,
            KeyInfo::Ec {
                curve: Some(Curve::P384),
                ..
            },
        ) => &rs::ECDSA_P384_SHA384_ASN1,
        _ => return None,
    })
}

impl SignatureVerifier for RingVerifier {
    fn verify(&self, data: &SignedData<'_>) -> bool {
        match ring_algorithm(data) {
            Some(alg) => rs::UnparsedPublicKey::new(alg, data.public_key)
                .verify(data.message, data.signature)
                .is_ok(),
            None => RustCryptoVerifier.verify(data),
        }
    }
}
