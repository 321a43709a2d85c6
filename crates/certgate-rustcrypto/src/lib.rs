//! Pure-Rust signature arithmetic for certgate-core, from the RustCrypto project.
//!
//! Works on every target, including `wasm32-unknown-unknown`, where it is the fallback
//! when the host cannot verify. Verification covers the seven AWS IoT algorithms;
//! signing covers what certgate issues with (RSA PKCS#1 v1.5 SHA-256 and ECDSA on the
//! three NIST curves, each with its matching hash). Both are deterministic.
//!
//! Outside WebAssembly the curves are built with their precomputed base-point tables
//! (`precomputed-tables`, which needs `std`; see Cargo.toml): a fixed-base
//! multiplication, the bulk of an ECDSA signature and of a key generation, is about three
//! times faster with them (bench/README.md, fleet provisioning).
#![forbid(unsafe_code)]

use certgate_core::{
    Curve, Error, ErrorCode, KeyInfo, SignatureAlgorithm, SignatureVerifier, SignedData, Signer,
};
use pkcs8::DecodePrivateKey;
use pkcs8::EncodePrivateKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashVerifier;
use signature::{SignatureEncoding, Verifier};
use spki::{DecodePublicKey, EncodePublicKey};

/// Verifies with RustCrypto's `rsa`, `p256`/`p384`/`p521` and `dsa` crates.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCryptoVerifier;

impl SignatureVerifier for RustCryptoVerifier {
    fn verify(&self, data: &SignedData<'_>) -> bool {
        verify(data).is_ok()
    }
}

fn digest(algorithm: SignatureAlgorithm, message: &[u8]) -> Vec<u8> {
    match algorithm.hash() {
        certgate_core::HashAlgorithm::Sha256 => Sha256::digest(message).to_vec(),
        certgate_core::HashAlgorithm::Sha384 => Sha384::digest(message).to_vec(),
        certgate_core::HashAlgorithm::Sha512 => Sha512::digest(message).to_vec(),
    }
}

fn rsa_verify<D>(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), signature::Error>
where
    D: Digest + sha2::digest::const_oid::AssociatedOid + sha2::digest::FixedOutputReset,
{
    let key = rsa::PublicKey::from_pkcs1_der(public_key).map_err(|_| signature::Error::new())?;
    let sig = rsa::pkcs1v15::Signature::try_from(signature)?;
    rsa::pkcs1v15::VerifyingKey::<D>::new(key).verify(message, &sig)
}

fn verify(d: &SignedData<'_>) -> Result<(), signature::Error> {
    use SignatureAlgorithm as A;
    match (d.algorithm, d.key) {
        (A::RsaSha256, KeyInfo::Rsa { .. }) => {
            rsa_verify::<Sha256>(d.public_key, d.message, d.signature)
        }
        (A::RsaSha384, KeyInfo::Rsa { .. }) => {
            rsa_verify::<Sha384>(d.public_key, d.message, d.signature)
        }
        (A::RsaSha512, KeyInfo::Rsa { .. }) => {
            rsa_verify::<Sha512>(d.public_key, d.message, d.signature)
        }
        (A::DsaSha256, KeyInfo::Dsa { .. }) => {
            let key = dsa::VerifyingKey::from_public_key_der(d.spki)
                .map_err(|_| signature::Error::new())?;
            key.verify(d.message, &dsa::Signature::try_from(d.signature)?)
        }
        // ECDSA signs the hash named by the algorithm whatever the curve; prehash
        // verification truncates it to the field size as FIPS 186-4 6.4 requires.
        (
            A::EcdsaSha256 | A::EcdsaSha384 | A::EcdsaSha512,
            KeyInfo::Ec {
                curve: Some(curve), ..
            },
        ) => {
            let prehash = digest(d.algorithm, d.message);
            match curve {
                Curve::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(d.public_key)?
                    .verify_prehash(&prehash, &p256::ecdsa::Signature::from_der(d.signature)?),
                Curve::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(d.public_key)?
                    .verify_prehash(&prehash, &p384::ecdsa::Signature::from_der(d.signature)?),
                Curve::P521 => p521::ecdsa::VerifyingKey::from_sec1_bytes(d.public_key)?
                    .verify_prehash(&prehash, &p521::ecdsa::Signature::from_der(d.signature)?),
            }
        }
        _ => Err(signature::Error::new()),
    }
}

enum Key {
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// A signing key decoded from PKCS#8: RSA signs SHA256WITHRSA; EC keys sign
/// ECDSA with SHA-256 / SHA-384 / SHA-512 on P-256 / P-384 / P-521.
pub struct RustCryptoSigner {
    key: Key,
    spki: Vec<u8>,
}

fn bad_key(e: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::BadKey, format!("private key: {e}"))
}

impl RustCryptoSigner {
    /// Decode a PKCS#8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(bad_key)?;
        let oid = info.algorithm.oid.to_string();
        let key = match oid.as_str() {
            "1.2.840.113549.1.1.1" => {
                let key = rsa::PrivateKey::from_pkcs8_der(der).map_err(bad_key)?;
                let bits = rsa::traits::PublicKeyParts::n_bits_precision(&key);
                if bits < 2048 {
                    return Err(Error::new(
                        ErrorCode::RsaKeyTooSmall,
                        format!("RSA key is {bits} bits"),
                    ));
                }
                Key::Rsa(Box::new(rsa::pkcs1v15::SigningKey::<Sha256>::new(key)))
            }
            "1.2.840.10045.2.1" => {
                if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                    Key::P256(k)
                } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
                    Key::P384(k)
                } else {
                    Key::P521(p521::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad_key)?)
                }
            }
            other => {
                return Err(Error::new(
                    ErrorCode::BadKey,
                    format!("unsupported private key algorithm {other}"),
                ))
            }
        };
        let spki = match &key {
            Key::Rsa(k) => rsa::PublicKey::from(k.as_ref().as_ref()).to_public_key_der(),
            Key::P256(k) => k.verifying_key().to_public_key_der(),
            Key::P384(k) => k.verifying_key().to_public_key_der(),
            Key::P521(k) => p521::PublicKey::from(k.verifying_key()).to_public_key_der(),
        }
        .map_err(bad_key)?
        .into_vec();
        Ok(Self { key, spki })
    }
}

impl Signer for RustCryptoSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            Key::Rsa(_) => SignatureAlgorithm::RsaSha256,
            Key::P256(_) => SignatureAlgorithm::EcdsaSha256,
            Key::P384(_) => SignatureAlgorithm::EcdsaSha384,
            Key::P521(_) => SignatureAlgorithm::EcdsaSha512,
        }
    }

    fn spki(&self) -> &[u8] {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use signature::Signer as _;
        let failed =
            |e: signature::Error| Error::new(ErrorCode::BadKey, format!("signing failed: {e}"));
        Ok(match &self.key {
            Key::Rsa(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                s.to_der().to_vec()
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                s.to_der().to_vec()
            }
            Key::P521(k) => {
                let s: p521::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                s.to_der().to_vec()
            }
        })
    }
}

/// A key pair made by [`ec_key_from_secret`]: PKCS#8 `PrivateKeyInfo` and
/// `SubjectPublicKeyInfo`, both DER.
pub struct GeneratedKey {
    /// PKCS#8 DER of the private key (with its public key, RFC 5915 section 3).
    pub pkcs8: Vec<u8>,
    /// SubjectPublicKeyInfo DER of the public key (RFC 5480 section 2).
    pub spki: Vec<u8>,
}

/// The EC key pair on `curve` whose private scalar is `secret` (big-endian, exactly the
/// curve's field size: 32, 48 or 66 bytes). Pure: the caller draws `secret` from a
/// cryptographic random source. A `secret` of zero or not below the group order is
/// refused, and the caller draws again: the rejection sampling of FIPS 186-5 appendix
/// A.2.2 (https://doi.org/10.6028/NIST.FIPS.186-5), which keeps the scalar uniform.
pub fn ec_key_from_secret(curve: Curve, secret: &[u8]) -> Result<GeneratedKey, Error> {
    let out_of_range = |_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} secret must be {} bytes encoding a value in [1, n-1]; draw again",
                curve.name(),
                field_bytes(curve)
            ),
        )
    };
    if secret.len() != field_bytes(curve) {
        return Err(out_of_range(()));
    }
    // Each arm: the secret checked into a scalar, then its PKCS#8 and SPKI encodings.
    macro_rules! pair {
        ($curve:ident) => {{
            let key = $curve::SecretKey::from_slice(secret).map_err(|_| out_of_range(()))?;
            GeneratedKey {
                pkcs8: key.to_pkcs8_der().map_err(bad_key)?.as_bytes().to_vec(),
                spki: key
                    .public_key()
                    .to_public_key_der()
                    .map_err(bad_key)?
                    .into_vec(),
            }
        }};
    }
    Ok(match curve {
        Curve::P256 => pair!(p256),
        Curve::P384 => pair!(p384),
        Curve::P521 => pair!(p521),
    })
}

/// Bytes of a private scalar on `curve`.
pub fn field_bytes(curve: Curve) -> usize {
    match curve {
        Curve::P256 => 32,
        Curve::P384 => 48,
        Curve::P521 => 66,
    }
}
