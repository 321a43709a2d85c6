//! The seam between policy and arithmetic. The core decides *whether* a signature may be
//! checked (algorithm in the accepted set, key type and size allowed); a
//! [`SignatureVerifier`] only does the arithmetic. The RustCrypto backend works
//! everywhere; the native engine plugs in ring, the wasm engine hands the work to the
//! host's `node:crypto`.

use x509_parser::x509::SubjectPublicKeyInfo;

use crate::algorithm::{KeyInfo, SignatureAlgorithm};
use crate::error::{Error, ErrorCode};

/// Everything a backend needs to check one signature.
#[derive(Clone, Copy, Debug)]
pub struct SignedData<'a> {
    /// One of the seven accepted algorithms.
    pub algorithm: SignatureAlgorithm,
    /// The signer's key facts; already checked against the key policy.
    pub key: &'a KeyInfo,
    /// The signer's whole SubjectPublicKeyInfo DER (what `node:crypto` and DSA need).
    pub spki: &'a [u8],
    /// The subjectPublicKey BIT STRING contents (PKCS#1 RSAPublicKey or the EC point).
    pub public_key: &'a [u8],
    /// The signed bytes (a TBSCertificate or CertificationRequestInfo).
    pub message: &'a [u8],
    /// The signature (PKCS#1 v1.5 block, or DER `Ecdsa-Sig-Value` / `Dss-Sig-Value`).
    pub signature: &'a [u8],
}

/// Signature arithmetic. Implementations must be deterministic and return `false` for
/// any failure, including malformed keys or signatures.
pub trait SignatureVerifier {
    /// Whether `data.signature` is a valid signature of `data.message` under the key.
    fn verify(&self, data: &SignedData<'_>) -> bool;
}

/// Check that `signer` signed `message` with `signature` under the algorithm named by
/// `algorithm_id`, applying the algorithm and key policy first.
pub(crate) fn check(
    verifier: &dyn SignatureVerifier,
    algorithm: SignatureAlgorithm,
    signer: &SubjectPublicKeyInfo<'_>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let key = KeyInfo::of(signer)?;
    key.check_policy()?;
    if key.family() != Some(algorithm.key_family()) {
        return Err(Error::new(
            ErrorCode::KeyAlgorithmMismatch,
            format!(
                "a {:?} key cannot produce a {} signature",
                key.family(),
                algorithm.aws_name()
            ),
        ));
    }
    let data = SignedData {
        algorithm,
        key: &key,
        spki: signer.raw,
        public_key: signer.subject_public_key.data.as_ref(),
        message,
        signature,
    };
    if verifier.verify(&data) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::BadSignature,
            format!("{} signature does not verify", algorithm.aws_name()),
        ))
    }
}
