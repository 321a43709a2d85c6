//! The seven signature algorithms AWS IoT accepts
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html>) and the public key
//! facts policy needs. Everything else is refused by name.

use der::asn1::UintRef;
use der::oid::ObjectIdentifier;
use der::Decode;
use x509_parser::oid_registry::Oid;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::error::{Error, ErrorCode};

/// A signature algorithm certgate verifies and signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// sha256WithRSAEncryption (PKCS#1 v1.5).
    RsaSha256,
    /// sha384WithRSAEncryption (PKCS#1 v1.5).
    RsaSha384,
    /// sha512WithRSAEncryption (PKCS#1 v1.5).
    RsaSha512,
    /// id-dsa-with-sha256.
    DsaSha256,
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA384.
    EcdsaSha384,
    /// ecdsa-with-SHA512.
    EcdsaSha512,
}

/// A hash function used by one of the signature algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// An OID as x509-parser decoded it is `known` when their content octets are equal: no
/// dotted string is formatted to compare (that formatting cost ~3 µs per cold chain
/// check in the wasm engine, bench/README.md).
pub(crate) fn is_oid(oid: &Oid<'_>, known: &ObjectIdentifier) -> bool {
    oid.as_bytes() == known.as_bytes()
}

/// One accepted algorithm: its dotted OID (parsed at compile time too) and AWS name.
type AlgorithmEntry = (
    SignatureAlgorithm,
    &'static str,
    &'static str,
    ObjectIdentifier,
);

const fn algorithm(
    a: SignatureAlgorithm,
    dotted: &'static str,
    aws: &'static str,
) -> AlgorithmEntry {
    (a, dotted, aws, ObjectIdentifier::new_unwrap(dotted))
}

const ALGORITHMS: &[AlgorithmEntry] = &[
    algorithm(
        SignatureAlgorithm::RsaSha256,
        "1.2.840.113549.1.1.11",
        "SHA256WITHRSA",
    ),
    algorithm(
        SignatureAlgorithm::RsaSha384,
        "1.2.840.113549.1.1.12",
        "SHA384WITHRSA",
    ),
    algorithm(
        SignatureAlgorithm::RsaSha512,
        "1.2.840.113549.1.1.13",
        "SHA512WITHRSA",
    ),
    algorithm(
        SignatureAlgorithm::DsaSha256,
        "2.16.840.1.101.3.4.3.2",
        "DSA_WITH_SHA256",
    ),
    algorithm(
        SignatureAlgorithm::EcdsaSha256,
        "1.2.840.10045.4.3.2",
        "ECDSA-WITH-SHA256",
    ),
    algorithm(
        SignatureAlgorithm::EcdsaSha384,
        "1.2.840.10045.4.3.3",
        "ECDSA-WITH-SHA384",
    ),
    algorithm(
        SignatureAlgorithm::EcdsaSha512,
        "1.2.840.10045.4.3.4",
        "ECDSA-WITH-SHA512",
    ),
];

impl SignatureAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [SignatureAlgorithm; 7] = [
        Self::RsaSha256,
        Self::RsaSha384,
        Self::RsaSha512,
        Self::DsaSha256,
        Self::EcdsaSha256,
        Self::EcdsaSha384,
        Self::EcdsaSha512,
    ];

    fn entry(self) -> (&'static str, &'static str) {
        ALGORITHMS
            .iter()
            .find(|(a, ..)| *a == self)
            .map_or(("", ""), |(_, dotted, aws, _)| (*dotted, *aws))
    }

    /// The name AWS IoT uses (`SHA256WITHRSA`, `ECDSA-WITH-SHA384`, …).
    pub fn aws_name(self) -> &'static str {
        self.entry().1
    }

    /// Dotted OID of the signature AlgorithmIdentifier.
    pub fn oid(self) -> &'static str {
        self.entry().0
    }

    /// Look an algorithm up by its dotted OID.
    pub fn from_oid(dotted: &str) -> Option<Self> {
        ALGORITHMS
            .iter()
            .find(|(_, oid, ..)| *oid == dotted)
            .map(|(a, ..)| *a)
    }

    /// Look an algorithm up by its AWS name.
    pub fn from_aws_name(name: &str) -> Option<Self> {
        ALGORITHMS
            .iter()
            .find(|(_, _, n, _)| *n == name)
            .map(|(a, ..)| *a)
    }

    /// The digest the signature is computed over.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaSha256 | Self::DsaSha256 | Self::EcdsaSha256 => HashAlgorithm::Sha256,
            Self::RsaSha384 | Self::EcdsaSha384 => HashAlgorithm::Sha384,
            Self::RsaSha512 | Self::EcdsaSha512 => HashAlgorithm::Sha512,
        }
    }

    /// The key family that can produce this signature.
    pub fn key_family(self) -> KeyFamily {
        match self {
            Self::RsaSha256 | Self::RsaSha384 | Self::RsaSha512 => KeyFamily::Rsa,
            Self::DsaSha256 => KeyFamily::Dsa,
            Self::EcdsaSha256 | Self::EcdsaSha384 | Self::EcdsaSha512 => KeyFamily::Ec,
        }
    }

    /// Resolve an AlgorithmIdentifier, refusing anything outside the seven.
    pub(crate) fn from_identifier(id: &AlgorithmIdentifier<'_>) -> Result<Self, Error> {
        if let Some((a, ..)) = ALGORITHMS
            .iter()
            .find(|(.., oid)| is_oid(&id.algorithm, oid))
        {
            return Ok(*a);
        }
        let dotted = id.algorithm.to_id_string();
        Err(Error::new(
            ErrorCode::UnsupportedSignatureAlgorithm,
            format!(
                "signature algorithm {} ({dotted}) is not accepted",
                describe_oid(&dotted)
            ),
        ))
    }
}

fn describe_oid(dotted: &str) -> &'static str {
    match dotted {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        _ => "UNSUPPORTED",
    }
}

/// Which family a public key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// rsaEncryption.
    Rsa,
    /// id-ecPublicKey.
    Ec,
    /// id-dsa.
    Dsa,
}

/// A NIST curve AWS IoT accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// secp256r1.
    P256,
    /// secp384r1.
    P384,
    /// secp521r1.
    P521,
}

impl Curve {
    /// `P-256`, `P-384`, `P-521`.
    pub fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }
}

/// What a SubjectPublicKeyInfo holds, as far as policy cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyInfo {
    /// RSA with the modulus length in bits.
    Rsa {
        /// Modulus length.
        bits: u32,
    },
    /// EC on a named curve (`None` for curves outside P-256/384/521), with the curve OID.
    Ec {
        /// The curve when supported.
        curve: Option<Curve>,
        /// Dotted OID of the named curve, empty if absent.
        curve_oid: String,
    },
    /// DSA with the length of p in bits.
    Dsa {
        /// Length of the prime p.
        bits: u32,
    },
    /// Anything else, with its algorithm OID.
    Other {
        /// Dotted OID of the key algorithm.
        oid: String,
    },
}

/// rsaEncryption (<https://www.rfc-editor.org/rfc/rfc3279#section-2.3.1>).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (<https://www.rfc-editor.org/rfc/rfc5480#section-2.1.1>).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// id-dsa (<https://www.rfc-editor.org/rfc/rfc3279#section-2.3.2>).
const DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
/// The named curves (<https://www.rfc-editor.org/rfc/rfc5480#section-2.1.1.1>), dotted
/// and parsed.
const CURVES: [(Curve, &str, ObjectIdentifier); 3] = [
    curve(Curve::P256, "1.2.840.10045.3.1.7"),
    curve(Curve::P384, "1.3.132.0.34"),
    curve(Curve::P521, "1.3.132.0.35"),
];

const fn curve(c: Curve, dotted: &'static str) -> (Curve, &'static str, ObjectIdentifier) {
    (c, dotted, ObjectIdentifier::new_unwrap(dotted))
}

fn bit_len(bytes: &[u8]) -> u32 {
    let trimmed = bytes
        .iter()
        .position(|b| *b != 0)
        .and_then(|i| bytes.get(i..))
        .unwrap_or_default();
    let Some(first) = trimmed.first() else {
        return 0;
    };
    let whole = u32::try_from(trimmed.len().saturating_sub(1))
        .unwrap_or(u32::MAX / 16)
        .saturating_mul(8);
    whole.saturating_add(8 - first.leading_zeros())
}

impl KeyInfo {
    /// Classify a parsed SubjectPublicKeyInfo.
    pub(crate) fn of(spki: &SubjectPublicKeyInfo<'_>) -> Result<Self, Error> {
        let alg = &spki.algorithm.algorithm;
        let bad =
            |what: &str| Error::new(ErrorCode::BadDer, format!("malformed {what} public key"));
        if is_oid(alg, &RSA_ENCRYPTION) {
            match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => Ok(Self::Rsa {
                    bits: bit_len(rsa.modulus),
                }),
                _ => Err(bad("RSA")),
            }
        } else if is_oid(alg, &EC_PUBLIC_KEY) {
            let named = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            let known = named
                .as_ref()
                .and_then(|o: &Oid<'_>| CURVES.iter().find(|(.., oid)| is_oid(o, oid)));
            Ok(match known {
                Some((curve, dotted, _)) => Self::Ec {
                    curve: Some(*curve),
                    curve_oid: (*dotted).to_owned(),
                },
                None => Self::Ec {
                    curve: None,
                    curve_oid: named.map(|o| o.to_id_string()).unwrap_or_default(),
                },
            })
        } else if is_oid(alg, &DSA) {
            let params = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or_else(|| bad("DSA"))?;
            // Dss-Parms ::= SEQUENCE { p, q, g } (<https://www.rfc-editor.org/rfc/rfc3279#section-2.3.2>); the size is p's.
            let mut reader = der::SliceReader::new(params.data).map_err(|_| bad("DSA"))?;
            let p = UintRef::decode(&mut reader).map_err(|_| bad("DSA"))?;
            Ok(Self::Dsa {
                bits: bit_len(p.as_bytes()),
            })
        } else {
            Ok(Self::Other {
                oid: alg.to_id_string(),
            })
        }
    }

    /// The key family, if certgate supports it.
    pub fn family(&self) -> Option<KeyFamily> {
        match self {
            Self::Rsa { .. } => Some(KeyFamily::Rsa),
            Self::Ec { .. } => Some(KeyFamily::Ec),
            Self::Dsa { .. } => Some(KeyFamily::Dsa),
            Self::Other { .. } => None,
        }
    }

    /// The smallest RSA modulus accepted (AWS: "The key in the certificate is not valid").
    pub const MIN_RSA_BITS: u32 = 2048;
    /// The largest RSA modulus accepted: bounds verification work; ring's limit too.
    pub const MAX_RSA_BITS: u32 = 8192;

    /// Apply AWS IoT's key policy: RSA 2048–8192, EC P-256/384/521, DSA 2048/3072.
    pub fn check_policy(&self) -> Result<(), Error> {
        match self {
            Self::Rsa { bits } if *bits < Self::MIN_RSA_BITS => Err(Error::new(
                ErrorCode::RsaKeyTooSmall,
                format!(
                    "RSA key is {bits} bits; at least {} are required",
                    Self::MIN_RSA_BITS
                ),
            )),
            Self::Rsa { bits } if *bits > Self::MAX_RSA_BITS => Err(Error::new(
                ErrorCode::UnsupportedPublicKey,
                format!(
                    "RSA key is {bits} bits; at most {} are supported",
                    Self::MAX_RSA_BITS
                ),
            )),
            Self::Ec {
                curve: None,
                curve_oid,
            } => Err(Error::new(
                ErrorCode::UnsupportedPublicKey,
                format!("EC curve {curve_oid} is not one of P-256, P-384, P-521"),
            )),
            // FIPS 186-4 pairs SHA-256 with 2048- and 3072-bit DSA primes.
            Self::Dsa { bits } if *bits != 2048 && *bits != 3072 => Err(Error::new(
                ErrorCode::UnsupportedPublicKey,
                format!("DSA key is {bits} bits; 2048 or 3072 are supported"),
            )),
            Self::Other { oid } => Err(Error::new(
                ErrorCode::UnsupportedPublicKey,
                format!(
                    "public key algorithm {} ({oid}) is not supported",
                    describe_oid(oid)
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_its_oid_and_name() {
        for alg in SignatureAlgorithm::ALL {
            assert_eq!(SignatureAlgorithm::from_oid(alg.oid()), Some(alg));
            assert_eq!(SignatureAlgorithm::from_aws_name(alg.aws_name()), Some(alg));
        }
    }

    #[test]
    fn bit_length_ignores_leading_zero_bytes() {
        assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_len(&[0x01]), 1);
        assert_eq!(bit_len(&[]), 0);
    }
}
