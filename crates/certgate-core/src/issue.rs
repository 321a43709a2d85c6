//! Issuance with the profile AWS IoT uses for the certificates it generates (spec
//! section 5). Pure: the key to certify, the serial's random bytes, the time and the
//! issuing CA's signing key all come in as arguments.

use der::asn1::OctetString;
use der::Encode;
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::algorithm::{KeyInfo, SignatureAlgorithm};
use crate::certificate::Certificate;
use crate::encode::{
    certificate_pem, encode_certificate, encode_tbs, null_params, RawExtension, TbsParts,
};
use crate::error::{Error, ErrorCode};
use crate::limits::Limits;

/// notAfter of every AWS-generated certificate: 2049-12-31T23:59:59Z
/// (<https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html>).
pub const AWS_NOT_AFTER: i64 = 2_524_607_999;
/// Subject of CreateKeysAndCertificate certificates (AWS's "default subject name", as
/// observed in certificates AWS IoT generated).
pub const DEFAULT_SUBJECT: &str = "CN=AWS IoT Certificate";
/// Serial length of AWS-generated certificates (observed in certificates AWS IoT generated;
/// also the most <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2> allows).
pub const SERIAL_BYTES: usize = 20;

/// A private key that signs. Implementations are deterministic (PKCS#1 v1.5, RFC 6979).
pub trait Signer {
    /// The algorithm this key signs with.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// DER SubjectPublicKeyInfo of the matching public key.
    fn spki(&self) -> &[u8];
    /// Sign `message`; the output is what goes into the signature BIT STRING.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

/// A newly issued certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// AWS IoT certificateId of the new certificate.
    pub certificate_id: String,
    /// DER encoding.
    pub der: Vec<u8>,
    /// PEM encoding with a trailing newline.
    pub pem: String,
}

/// The serial from caller-supplied random bytes: exactly 20 bytes, top bit cleared so
/// the INTEGER is positive and fits RFC 5280's 20-octet limit.
fn serial(random: &[u8]) -> Result<Vec<u8>, Error> {
    if random.len() != SERIAL_BYTES {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("serial needs {SERIAL_BYTES} random bytes"),
        ));
    }
    let mut s = random.to_vec();
    if let Some(first) = s.first_mut() {
        *first &= 0x7f;
    }
    if s.iter().all(|b| *b == 0) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "serial must not be zero",
        ));
    }
    Ok(s)
}

/// <https://www.rfc-editor.org/rfc/rfc7093#section-2> method 1: the leftmost 160 bits of SHA-256 of subjectPublicKey.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| {
        Error::new(
            ErrorCode::BadKey,
            format!("public key is not a valid SubjectPublicKeyInfo: {e}"),
        )
    })?;
    let digest = Sha256::digest(spki.subject_public_key.data.as_ref());
    Ok(digest.get(..20).unwrap_or_default().to_vec())
}

fn ext(
    oid: &str,
    critical: bool,
    value: Result<Vec<u8>, der::Error>,
) -> Result<RawExtension, Error> {
    let value = value.map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("encoding extension {oid}: {e}"),
        )
    })?;
    Ok(RawExtension {
        oid: oid.to_owned(),
        critical,
        value,
    })
}

fn ski_ext(id: &[u8]) -> Result<RawExtension, Error> {
    ext(
        "2.5.29.14",
        false,
        OctetString::new(id.to_vec()).and_then(|o| o.to_der()),
    )
}

fn aki_ext(id: &[u8]) -> Result<RawExtension, Error> {
    let aki = OctetString::new(id.to_vec()).map(|key_identifier| AuthorityKeyIdentifier {
        key_identifier: Some(key_identifier),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    });
    ext("2.5.29.35", false, aki.and_then(|a| a.to_der()))
}

fn sign(signer: &dyn Signer, parts: TbsParts<'_>) -> Result<IssuedCertificate, Error> {
    let tbs = encode_tbs(&parts)?;
    let signature = signer.sign(&tbs)?;
    let der = encode_certificate(
        &tbs,
        parts.signature_oid,
        parts.signature_null_params,
        &signature,
    )?;
    let certificate_id = Certificate::parse(&der, &Limits::DEFAULT)?.id();
    let pem = certificate_pem(&der);
    Ok(IssuedCertificate {
        certificate_id,
        der,
        pem,
    })
}

/// Check a public key to be certified: RSA ≥ 2048 or EC P-256/384/521
/// (<https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html>).
pub(crate) fn check_subject_key(spki_der: &[u8]) -> Result<(), Error> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| {
        Error::new(
            ErrorCode::BadKey,
            format!("public key is not a valid SubjectPublicKeyInfo: {e}"),
        )
    })?;
    let key = KeyInfo::of(&spki)?;
    key.check_policy()?;
    if matches!(key, KeyInfo::Dsa { .. }) {
        return Err(Error::new(
            ErrorCode::UnsupportedPublicKey,
            "certificates are issued for RSA or EC keys only",
        ));
    }
    Ok(())
}

/// The issuing CA: its certificate and the signer for its key.
pub struct Issuer<'a> {
    /// The CA certificate, DER.
    pub certificate: &'a [u8],
    /// Its private key.
    pub signer: &'a dyn Signer,
}

/// An issuer checked once for many certificates: the CA certificate parsed, its key
/// matched against the signer, its key identifier taken. [`issue_certificate`] prepares
/// one per call; a batch (`certgate fleet create`) prepares one for all its certificates.
pub struct PreparedIssuer<'a> {
    signer: &'a dyn Signer,
    /// DER of the CA's subject: the issuer name of every certificate it signs.
    name: Vec<u8>,
    /// The CA's key identifier: its authorityKeyIdentifier in every certificate it signs.
    key_id: Vec<u8>,
}

impl<'a> PreparedIssuer<'a> {
    /// Check that `issuer.signer` holds the key of `issuer.certificate`.
    pub fn new(issuer: &Issuer<'a>) -> Result<Self, Error> {
        let ca = Certificate::parse(issuer.certificate, &Limits::DEFAULT)?;
        if ca.x509.public_key().raw != issuer.signer.spki() {
            return Err(Error::new(
                ErrorCode::BadKey,
                "the private key does not belong to the issuing CA certificate",
            ));
        }
        let key_id = ca
            .x509
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(ski) => Some(ski.0.to_vec()),
                _ => None,
            })
            .map_or_else(|| key_identifier(ca.x509.public_key().raw), Ok)?;
        Ok(Self {
            signer: issuer.signer,
            name: ca.x509.subject().as_raw().to_vec(),
            key_id,
        })
    }

    /// A device certificate with the AWS profile for `spki_der`, with `subject_der` as
    /// subject, valid from `not_before` to 2049-12-31T23:59:59Z.
    pub fn issue(
        &self,
        spki_der: &[u8],
        subject_der: &[u8],
        serial_random: &[u8],
        not_before: i64,
    ) -> Result<IssuedCertificate, Error> {
        check_subject_key(spki_der)?;
        if not_before > AWS_NOT_AFTER {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "notBefore is after 2049-12-31T23:59:59Z",
            ));
        }
        let serial = serial(serial_random)?;
        let extensions = [
            ext(
                "2.5.29.19",
                true,
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                }
                .to_der(),
            )?,
            ext(
                "2.5.29.15",
                true,
                KeyUsage(KeyUsages::DigitalSignature.into()).to_der(),
            )?,
            ski_ext(&key_identifier(spki_der)?)?,
            aki_ext(&self.key_id)?,
        ];
        let algorithm = self.signer.algorithm();
        sign(
            self.signer,
            TbsParts {
                serial: &serial,
                signature_oid: algorithm.oid(),
                signature_null_params: null_params(algorithm),
                issuer: &self.name,
                not_before,
                not_after: AWS_NOT_AFTER,
                subject: subject_der,
                spki: spki_der,
                extensions: &extensions,
                version: 3,
            },
        )
    }
}

/// Issue a device certificate with the AWS profile for `spki_der`, with `subject_der` as
/// subject, valid from `not_before` to 2049-12-31T23:59:59Z.
pub fn issue_certificate(
    issuer: &Issuer<'_>,
    spki_der: &[u8],
    subject_der: &[u8],
    serial_random: &[u8],
    not_before: i64,
) -> Result<IssuedCertificate, Error> {
    // Checked before the issuer too (PreparedIssuer::issue checks it again): a bad key
    // and a bad issuer together report the key, as this call always has.
    check_subject_key(spki_der)?;
    PreparedIssuer::new(issuer)?.issue(spki_der, subject_der, serial_random, not_before)
}

/// DER of a Name given as an RFC 4514 string (`CN=certgate issuing CA,O=Example`).
pub fn name_der(rfc4514: &str) -> Result<Vec<u8>, Error> {
    let name: x509_cert::name::Name = rfc4514.parse().map_err(|e| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("subject {rfc4514:?} is not an RFC 4514 name: {e}"),
        )
    })?;
    name.to_der()
        .map_err(|e| Error::new(ErrorCode::InvalidArgument, format!("encoding subject: {e}")))
}

/// A self-signed issuing CA certificate for `signer`'s key: basicConstraints CA:TRUE
/// pathLen 0 (it signs device certificates only), keyUsage keyCertSign + cRLSign.
pub fn create_issuing_ca(
    signer: &dyn Signer,
    subject: &str,
    serial_random: &[u8],
    not_before: i64,
    not_after: i64,
) -> Result<IssuedCertificate, Error> {
    if not_after <= not_before {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "notAfter must be after notBefore",
        ));
    }
    let subject = name_der(subject)?;
    let serial = serial(serial_random)?;
    let key_id = key_identifier(signer.spki())?;
    let usages = KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature;
    let extensions = [
        ext(
            "2.5.29.19",
            true,
            BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            }
            .to_der(),
        )?,
        ext("2.5.29.15", true, KeyUsage(usages).to_der())?,
        ski_ext(&key_id)?,
    ];
    let algorithm = signer.algorithm();
    sign(
        signer,
        TbsParts {
            serial: &serial,
            signature_oid: algorithm.oid(),
            signature_null_params: null_params(algorithm),
            issuer: &subject,
            not_before,
            not_after,
            subject: &subject,
            spki: signer.spki(),
            extensions: &extensions,
            version: 3,
        },
    )
}
