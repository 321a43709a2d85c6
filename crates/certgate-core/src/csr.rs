//! Certificate signing requests for CreateCertificateFromCsr
//! (<https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html>): the CSR must be
//! signed by its own key, which must be RSA ≥ 2048 or EC P-256/384/521. The new
//! certificate keeps the CSR's key and subject.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::algorithm::SignatureAlgorithm;
use crate::error::{Error, ErrorCode};
use crate::input::{single_der, CSR_LABELS};
use crate::issue::{check_subject_key, issue_certificate, IssuedCertificate, Issuer};
use crate::limits::Limits;
use crate::signature::{self, SignatureVerifier};

/// AWS's input limit for `certificateSigningRequest`: 4096 characters
/// (<https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html>).
pub const MAX_CSR_PEM_CHARS: usize = 4096;

/// Issue a certificate for the key and subject of the CSR in `csr_input` (PEM or DER).
pub fn issue_from_csr(
    verifier: &dyn SignatureVerifier,
    issuer: &Issuer<'_>,
    csr_input: &[u8],
    serial_random: &[u8],
    not_before: i64,
) -> Result<IssuedCertificate, Error> {
    let limits = Limits {
        max_pem_chars: MAX_CSR_PEM_CHARS,
        ..Limits::DEFAULT
    };
    let der = single_der(csr_input, CSR_LABELS, "CERTIFICATE REQUEST", &limits).map_err(|e| {
        if e.code() == ErrorCode::NoCertificate {
            Error::new(ErrorCode::BadCsr, e.message())
        } else {
            e
        }
    })?;
    let (rest, csr) = X509CertificationRequest::from_der(&der)
        .map_err(|e| Error::new(ErrorCode::BadCsr, format!("CSR is not valid DER: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::new(
            ErrorCode::BadCsr,
            "trailing bytes after the CSR",
        ));
    }
    let info = &csr.certification_request_info;
    check_subject_key(info.subject_pki.raw)?;
    let algorithm = SignatureAlgorithm::from_identifier(&csr.signature_algorithm)?;
    signature::check(
        verifier,
        algorithm,
        &info.subject_pki,
        info.raw,
        csr.signature_value.data.as_ref(),
    )
    .map_err(|e| match e.code() {
        ErrorCode::BadSignature | ErrorCode::KeyAlgorithmMismatch => Error::new(
            ErrorCode::BadCsr,
            format!("the CSR is not signed by its own key: {}", e.message()),
        ),
        _ => e,
    })?;
    issue_certificate(
        issuer,
        info.subject_pki.raw,
        info.subject.as_raw(),
        serial_random,
        not_before,
    )
}
