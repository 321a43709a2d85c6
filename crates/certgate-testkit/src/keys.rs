//! The fixture keys, generated once per process from fixed seeds.

use std::sync::OnceLock;

use certgate_core::SignatureAlgorithm;
use pkcs8::EncodePrivateKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use signature::hazmat::PrehashSigner;
use signature::{SignatureEncoding, Signer};
use spki::EncodePublicKey;

use crate::rng::SeededRng;

/// A private key of any kind the fixtures need.
pub enum TestKey {
    /// RSA (2048 or 1024 bits).
    Rsa(Box<rsa::PrivateKey>),
    /// EC P-256.
    P256(p256::ecdsa::SigningKey),
    /// EC P-384.
    P384(p384::ecdsa::SigningKey),
    /// EC P-521.
    P521(p521::ecdsa::SigningKey),
    /// DSA 2048/256.
    Dsa(Box<dsa::SigningKey>),
}

/// How a fixture is signed: one of the seven, or a refused algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigAlg {
    /// One of the accepted algorithms.
    Aws(SignatureAlgorithm),
    /// sha1WithRSAEncryption (really SHA-1 signed).
    RsaSha1,
    /// md5WithRSAEncryption: only the OID (the bytes are a SHA-256 PKCS#1 signature);
    /// the algorithm must be refused before any arithmetic.
    RsaMd5OidOnly,
    /// RSASSA-PSS: only the OID, as above.
    RsaPssOidOnly,
    /// Ed25519: only the OID, as above.
    Ed25519OidOnly,
}

impl SigAlg {
    /// OID and whether the AlgorithmIdentifier carries NULL parameters.
    pub fn oid(self) -> (&'static str, bool) {
        match self {
            Self::Aws(a) => (a.oid(), certgate_core::null_params(a)),
            Self::RsaSha1 => ("1.2.840.113549.1.1.5", true),
            Self::RsaMd5OidOnly => ("1.2.840.113549.1.1.4", true),
            Self::RsaPssOidOnly => ("1.2.840.113549.1.1.10", false),
            Self::Ed25519OidOnly => ("1.3.101.112", false),
        }
    }
}

fn rsa_sign<D>(key: &rsa::PrivateKey, msg: &[u8]) -> Vec<u8>
where
    D: Digest + sha2::digest::const_oid::AssociatedOid + sha2::digest::FixedOutputReset,
{
    rsa::pkcs1v15::SigningKey::<D>::new(key.clone())
        .sign(msg)
        .to_vec()
}

fn prehash(alg: SignatureAlgorithm, msg: &[u8]) -> Vec<u8> {
    match alg.hash() {
        certgate_core::HashAlgorithm::Sha256 => Sha256::digest(msg).to_vec(),
        certgate_core::HashAlgorithm::Sha384 => Sha384::digest(msg).to_vec(),
        certgate_core::HashAlgorithm::Sha512 => Sha512::digest(msg).to_vec(),
    }
}

impl TestKey {
    /// DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> Vec<u8> {
        match self {
            Self::Rsa(k) => rsa::PublicKey::from(k.as_ref()).to_public_key_der(),
            Self::P256(k) => k.verifying_key().to_public_key_der(),
            Self::P384(k) => k.verifying_key().to_public_key_der(),
            Self::P521(k) => p521::PublicKey::from(k.verifying_key()).to_public_key_der(),
            Self::Dsa(k) => k.verifying_key().to_public_key_der(),
        }
        .expect("SPKI encodes")
        .into_vec()
    }

    /// PKCS#8 DER of the private key (RSA and EC only).
    pub fn pkcs8(&self) -> Vec<u8> {
        match self {
            Self::Rsa(k) => k.to_pkcs8_der(),
            Self::P256(k) => k.to_pkcs8_der(),
            Self::P384(k) => k.to_pkcs8_der(),
            Self::P521(k) => p521::SecretKey::from(*k.as_nonzero_scalar()).to_pkcs8_der(),
            Self::Dsa(k) => k.to_pkcs8_der(),
        }
        .expect("PKCS#8 encodes")
        .as_bytes()
        .to_vec()
    }

    /// Sign `msg` with `alg`. Panics if the key cannot produce it (a fixture bug).
    pub fn sign(&self, alg: SigAlg, msg: &[u8]) -> Vec<u8> {
        use SignatureAlgorithm as A;
        match (self, alg) {
            (Self::Rsa(k), SigAlg::Aws(A::RsaSha256)) => rsa_sign::<Sha256>(k, msg),
            (Self::Rsa(k), SigAlg::Aws(A::RsaSha384)) => rsa_sign::<Sha384>(k, msg),
            (Self::Rsa(k), SigAlg::Aws(A::RsaSha512)) => rsa_sign::<Sha512>(k, msg),
            (Self::Rsa(k), SigAlg::RsaSha1) => rsa_sign::<sha1::Sha1>(k, msg),
            (
                Self::Rsa(k),
                SigAlg::RsaMd5OidOnly | SigAlg::RsaPssOidOnly | SigAlg::Ed25519OidOnly,
            ) => rsa_sign::<Sha256>(k, msg),
            (Self::P256(k), SigAlg::Aws(a)) => {
                let s: p256::ecdsa::Signature =
                    k.sign_prehash(&prehash(a, msg)).expect("P-256 signs");
                s.to_der().to_vec()
            }
            (Self::P384(k), SigAlg::Aws(a)) => {
                let s: p384::ecdsa::Signature =
                    k.sign_prehash(&prehash(a, msg)).expect("P-384 signs");
                s.to_der().to_vec()
            }
            (Self::P521(k), SigAlg::Aws(a)) => {
                let s: p521::ecdsa::Signature =
                    k.sign_prehash(&prehash(a, msg)).expect("P-521 signs");
                s.to_der().to_vec()
            }
            (Self::Dsa(k), SigAlg::Aws(A::DsaSha256)) => {
                let s: dsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            _ => panic!("fixture key cannot sign {alg:?}"),
        }
    }
}

fn rsa_key(seed: &str, bits: usize) -> TestKey {
    TestKey::Rsa(Box::new(
        rsa::PrivateKey::new(&mut SeededRng::new(seed), bits).expect("RSA keygen"),
    ))
}

fn ec_bytes(seed: &str, n: usize) -> Vec<u8> {
    let mut b = SeededRng::new(seed).bytes(n);
    // Keep the scalar below every curve order.
    b[0] &= 0x7f;
    if n == 66 {
        b[0] = 0;
        b[1] &= 0x7f;
    }
    b
}

/// All fixture keys.
pub struct Keys {
    /// Root CA, RSA-2048.
    pub root: TestKey,
    /// Intermediate CAs and others, RSA-2048.
    pub intermediate: TestKey,
    /// Device keys, RSA-2048.
    pub leaf: TestKey,
    /// A second CA key with the same subject as the root.
    pub impostor: TestKey,
    /// RSA-1024 (too small).
    pub small: TestKey,
    /// EC keys.
    pub p256: TestKey,
    /// EC P-384.
    pub p384: TestKey,
    /// EC P-521.
    pub p521: TestKey,
    /// DSA 2048/256.
    pub dsa: TestKey,
}

/// The fixture keys, generated on first use (RSA and DSA generation take seconds).
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dsa = {
            let mut rng = SeededRng::new("certgate dsa");
            let components = dsa::Components::try_generate_from_rng_with_key_size(
                &mut rng,
                dsa::KeySize::DSA_2048_256,
            )
            .expect("DSA params");
            dsa::SigningKey::try_generate_from_rng_with_components(&mut rng, components)
                .expect("DSA key")
        };
        Keys {
            root: rsa_key("certgate root", 2048),
            intermediate: rsa_key("certgate intermediate", 2048),
            leaf: rsa_key("certgate leaf", 2048),
            impostor: rsa_key("certgate impostor", 2048),
            small: rsa_key("certgate small", 1024),
            p256: TestKey::P256(
                p256::ecdsa::SigningKey::from_slice(&ec_bytes("certgate p256", 32)).expect("P-256"),
            ),
            p384: TestKey::P384(
                p384::ecdsa::SigningKey::from_slice(&ec_bytes("certgate p384", 48)).expect("P-384"),
            ),
            p521: TestKey::P521(
                p521::ecdsa::SigningKey::from_slice(&ec_bytes("certgate p521", 66)).expect("P-521"),
            ),
            dsa: TestKey::Dsa(Box::new(dsa)),
        }
    })
}
