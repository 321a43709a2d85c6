//! Parsing one certificate into the facts the registry and the authorizer need.

use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

use crate::error::{Error, ErrorCode};

/// The facts certgate records about a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Lowercase hex SHA-256 of the DER encoding (AWS IoT's certificateId).
    pub certificate_id: String,
    /// RFC 4514 string form of the subject.
    pub subject: String,
    /// RFC 4514 string form of the issuer.
    pub issuer: String,
    /// Serial number, lowercase hex without leading zeros stripped.
    pub serial_number: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// The signature algorithm in AWS IoT's naming, or `UNSUPPORTED`.
    pub signature_algorithm: String,
    /// The subject public key.
    pub public_key: PublicKeyInfo,
}

/// The kind and size of a subject public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// `RSA`, `EC`, `DSA` or `UNKNOWN`.
    pub kind: String,
    /// Key size in bits (modulus for RSA/DSA, field size for EC); 0 when unknown.
    pub bits: u32,
    /// Named curve for EC keys (`P-256`, `P-384`, `P-521`).
    pub curve: Option<String>,
}

/// Parse the first certificate in `input` (PEM text or DER bytes).
pub fn inspect(input: &[u8]) -> Result<CertificateInfo, Error> {
    let der = first_der(input)?;
    let (_, cert) = X509Certificate::from_der(&der)
        .map_err(|e| Error::new(ErrorCode::BadDer, format!("certificate is not valid DER: {e}")))?;
    let certificate_id = hex(&Sha256::digest(&der));
    Ok(CertificateInfo {
        certificate_id,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial_number: hex(cert.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        signature_algorithm: String::from("UNSUPPORTED"),
        public_key: PublicKeyInfo { kind: String::from("UNKNOWN"), bits: 0, curve: None },
    })
}

fn first_der(input: &[u8]) -> Result<Vec<u8>, Error> {
    if input.first() == Some(&0x30) {
        return Ok(input.to_vec());
    }
    for pem in Pem::iter_from_buffer(input) {
        let pem = pem.map_err(|e| Error::new(ErrorCode::BadPem, format!("malformed PEM: {e}")))?;
        if pem.label == "CERTIFICATE" {
            return Ok(pem.contents);
        }
    }
    Err(Error::new(ErrorCode::NoCertificate, "input contains no certificate"))
}

fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
