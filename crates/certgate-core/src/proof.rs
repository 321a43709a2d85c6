//! Proof of possession for RegisterCACertificate
//! (<https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterCACertificate.html>): the verification certificate
//! is signed by the CA's key and its subject CN equals the registration code.

use crate::algorithm::SignatureAlgorithm;
use crate::certificate::Certificate;
use crate::error::{Error, ErrorCode};
use crate::input::certificates_der;
use crate::limits::Limits;
use crate::name::DistinguishedName;
use crate::signature::{self, SignatureVerifier};

/// What a successful proof establishes. Only [`verify_registration_proof`] builds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationProof {
    ca_certificate_id: String,
    verification_certificate_id: String,
}

impl RegistrationProof {
    /// certificateId of the CA certificate.
    pub fn ca_certificate_id(&self) -> &str {
        &self.ca_certificate_id
    }

    /// certificateId of the verification certificate.
    pub fn verification_certificate_id(&self) -> &str {
        &self.verification_certificate_id
    }
}

fn single(input: &[u8], what: &str, limits: &Limits) -> Result<Vec<u8>, Error> {
    certificates_der(input, limits)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::new(ErrorCode::NoCertificate, format!("no {what} certificate")))
}

/// Check the proof. Order matters for the registry's error mapping: anything wrong with
/// the certificates (format, CA flag, validity, signature) is reported before a wrong
/// code, so `REGISTRATION_CODE_MISMATCH` means "valid proof, wrong code".
pub fn verify_registration_proof(
    verifier: &dyn SignatureVerifier,
    ca_input: &[u8],
    verification_input: &[u8],
    registration_code: &str,
    at: i64,
    limits: &Limits,
) -> Result<RegistrationProof, Error> {
    let ca_der = single(ca_input, "CA", limits)?;
    let ver_der = single(verification_input, "verification", limits)?;
    let ca = Certificate::parse(&ca_der, limits)?;
    let ver = Certificate::parse(&ver_der, limits)?;
    crate::rules::check_serial_positive(&ver)?;
    let is_ca = ca
        .x509
        .basic_constraints()
        .map_err(|e| Error::new(ErrorCode::BadDer, e.to_string()))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(Error::new(
            ErrorCode::NotACa,
            "the CA certificate does not have the basicConstraints extension as true",
        ));
    }
    ca.check_validity(at)?;
    ver.check_validity(at)?;
    let algorithm = SignatureAlgorithm::from_identifier(&ver.x509.signature_algorithm)?;
    signature::check(
        verifier,
        algorithm,
        ca.x509.public_key(),
        ver.x509.tbs_certificate.as_ref(),
        ver.x509.signature_value.data.as_ref(),
    )?;
    let subject = DistinguishedName::of(ver.x509.subject());
    if subject.common_name() != Some(registration_code) {
        return Err(Error::new(
            ErrorCode::RegistrationCodeMismatch,
            "the verification certificate's subject CN is not the registration code",
        ));
    }
    Ok(RegistrationProof {
        ca_certificate_id: ca.id(),
        verification_certificate_id: ver.id(),
    })
}
