//! Certificate revocation lists of a registered CA (<https://www.rfc-editor.org/rfc/rfc5280#section-5>,
//! https://www.rfc-editor.org/rfc/rfc5280#section-5, validated as section 6.3,
//! https://www.rfc-editor.org/rfc/rfc5280#section-6.3). Only *complete* CRLs that the CA
//! issues itself are accepted: signed by the CA's own key, or by a delegated CRL signer
//! certificate carrying the CA's name that the CA issued (a separate CRL-signing key,
//! section 5 "the CRL issuer is the CA" with a different key). Indirect, partitioned and
//! delta CRLs are refused with `CRL_SCOPE_UNSUPPORTED` rather than half-applied.
//!
//! The core reads no clock: `at` only judges the delegated signer's certificate;
//! thisUpdate/nextUpdate are returned so that the caller applies its own time.

use sha2::{Digest, Sha256};
use x509_parser::extensions::{ParsedExtension, X509Extension};
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::X509Version;

use crate::algorithm::SignatureAlgorithm;
use crate::certificate::{hex, Certificate};
use crate::chain::{verify_chain, ChainInput, EkuPolicy};
use crate::error::{Error, ErrorCode};
use crate::input::{certificates_der, crl_and_certificates};
use crate::limits::Limits;
use crate::signature::{self, SignatureVerifier};

/// What one CRL check is given.
#[derive(Clone, Copy, Debug)]
pub struct CrlInput<'a> {
    /// The CRL: DER, or PEM with one `X509 CRL` block and optionally the delegated
    /// signer's `CERTIFICATE` block(s).
    pub crl: &'a [u8],
    /// The registered CA certificate (PEM or DER) the CRL must belong to.
    pub ca: &'a [u8],
    /// Epoch seconds at which a delegated signer's certificate must be valid.
    pub at: i64,
    /// The cRLNumber of the CA's current CRL (decimal), when it has one: the new CRL's
    /// number must not be lower (<https://www.rfc-editor.org/rfc/rfc5280#section-5.2.3>).
    pub previous_number: Option<&'a str>,
}

/// A verified CRL. Only [`verify_crl`] builds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCrl {
    /// Lowercase hex SHA-256 of the CRL's DER.
    pub crl_id: String,
    /// certificateId of the CA the CRL belongs to.
    pub ca_certificate_id: String,
    /// certificateId of the certificate whose key signed the CRL (the CA's own id when
    /// the CA signed it).
    pub signer_certificate_id: String,
    /// cRLNumber in decimal, when present.
    pub crl_number: Option<String>,
    /// thisUpdate, epoch seconds.
    pub this_update: i64,
    /// nextUpdate, epoch seconds, when present.
    pub next_update: Option<i64>,
    /// AWS IoT name of the CRL's signature algorithm.
    pub signature_algorithm: String,
    /// Serial numbers of the revoked certificates, lowercase hex of the INTEGER content
    /// octets (the same spelling as `CertificateInfo::serial_number`), in CRL order.
    pub revoked_serials: Vec<String>,
}

const CRL_NUMBER: &str = "2.5.29.20";
const DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
const CERTIFICATE_ISSUER: &str = "2.5.29.29";
const REASON_CODE: &str = "2.5.29.21";

/// CRL extensions certgate processes or that never restrict use (<https://www.rfc-editor.org/rfc/rfc5280#section-5.2>): any
/// other critical one makes the CRL unusable (5.2: "if a CRL contains a critical
/// extension that the application cannot process, then the application MUST NOT use
/// that CRL to determine the status of certificates").
const UNDERSTOOD_CRL_EXTENSIONS: &[&str] = &[
    "2.5.29.35", // authorityKeyIdentifier (5.2.1)
    "2.5.29.18", // issuerAltName (5.2.2)
    CRL_NUMBER,  // cRLNumber (5.2.3)
];

/// CRL entry extensions certgate processes (<https://www.rfc-editor.org/rfc/rfc5280#section-5.3>).
const UNDERSTOOD_ENTRY_EXTENSIONS: &[&str] = &[
    REASON_CODE, // reasonCode (5.3.1): every listed reason counts as revoked
    "2.5.29.24", // invalidityDate (5.3.2): informational
    "2.5.29.23", // holdInstructionCode (deprecated): a held certificate is revoked while listed
];

/// Parse and verify a CA's CRL. See the module documentation for what is accepted.
pub fn verify_crl(
    verifier: &dyn SignatureVerifier,
    input: &CrlInput<'_>,
    limits: &Limits,
) -> Result<VerifiedCrl, Error> {
    check_crl_size(input.crl.len(), limits)?;
    let (crl_der, signers) = crl_and_certificates(input.crl, limits)?;
    let ca_der = certificates_der(input.ca, limits)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::new(ErrorCode::NoCertificate, "no CA certificate"))?;
    let ca = Certificate::parse(&ca_der, limits)?;
    let crl = parse_crl(&crl_der)?;
    check_entry_count(&crl, limits)?;
    check_version(&crl)?;
    check_crl_extensions(&crl)?;
    check_entries(&crl)?;
    check_issuer_name(&crl, &ca)?;
    let algorithm = SignatureAlgorithm::from_identifier(&crl.signature_algorithm)?;
    let signer_certificate_id = check_signer(verifier, &crl, algorithm, &ca, &signers, input)?;
    let crl_number = crl.crl_number().cloned();
    check_crl_number(crl_number.as_ref(), input.previous_number)?;
    Ok(VerifiedCrl {
        crl_id: hex(&Sha256::digest(&crl_der)),
        ca_certificate_id: ca.id(),
        signer_certificate_id,
        crl_number: crl_number.map(|n| n.to_string()),
        this_update: crl.last_update().timestamp(),
        next_update: crl.next_update().map(|t| t.timestamp()),
        signature_algorithm: algorithm.aws_name().to_owned(),
        revoked_serials: crl
            .iter_revoked_certificates()
            .map(|r| hex(r.raw_serial()))
            .collect(),
    })
}

/// Limit: `Limits::max_crl_bytes`, before any decoding.
fn check_crl_size(len: usize, limits: &Limits) -> Result<(), Error> {
    if len > limits.max_crl_bytes {
        return Err(Error::new(
            ErrorCode::CrlTooLarge,
            format!(
                "CRL input is {len} bytes; the limit is {}",
                limits.max_crl_bytes
            ),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-5.1>: CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm,
/// signatureValue }; nothing may follow it, and 5.1.1.2: signatureAlgorithm MUST equal
/// the tbsCertList signature field.
fn parse_crl(der: &[u8]) -> Result<CertificateRevocationList<'_>, Error> {
    let (rest, crl) = CertificateRevocationList::from_der(der)
        .map_err(|e| Error::new(ErrorCode::BadCrl, format!("CRL is not valid DER: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::new(
            ErrorCode::BadCrl,
            "trailing bytes after the CRL",
        ));
    }
    if crl.signature_algorithm != crl.tbs_cert_list.signature {
        return Err(Error::new(
            ErrorCode::BadCrl,
            "signatureAlgorithm differs from the tbsCertList signature field (RFC 5280 5.1.1.2)",
        ));
    }
    Ok(crl)
}

/// Limit: `Limits::max_crl_entries` (memory of the per-process serial set).
fn check_entry_count(crl: &CertificateRevocationList<'_>, limits: &Limits) -> Result<(), Error> {
    let n = crl.tbs_cert_list.revoked_certificates.len();
    if n > limits.max_crl_entries {
        return Err(Error::new(
            ErrorCode::TooManyCrlEntries,
            format!(
                "CRL lists {n} certificates; the limit is {}",
                limits.max_crl_entries
            ),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-5.1.2.1>: a CRL with extensions (CRL or entry) MUST be version 2.
fn check_version(crl: &CertificateRevocationList<'_>) -> Result<(), Error> {
    let has_extensions = !crl.extensions().is_empty()
        || crl
            .iter_revoked_certificates()
            .any(|r| !r.extensions().is_empty());
    if has_extensions && crl.version() != Some(X509Version::V2) {
        return Err(Error::new(
            ErrorCode::BadCrl,
            "a CRL with extensions must be version 2 (RFC 5280 5.1.2.1)",
        ));
    }
    Ok(())
}

fn malformed(ext: &X509Extension<'_>) -> Option<Error> {
    match ext.parsed_extension() {
        ParsedExtension::ParseError { error } => Some(Error::new(
            ErrorCode::BadCrl,
            format!("extension {} is malformed: {error}", ext.oid.to_id_string()),
        )),
        _ => None,
    }
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-5.2>: CRL extensions. Scope-changing extensions (5.2.4 deltaCRLIndicator,
/// 5.2.5 issuingDistributionPoint) are refused whatever their criticality: a delta or a
/// partition is not the CA's complete list, and using it as one would drop revocations.
/// Other critical extensions certgate does not process are refused (5.2).
fn check_crl_extensions(crl: &CertificateRevocationList<'_>) -> Result<(), Error> {
    crl.tbs_cert_list
        .extensions_map()
        .map_err(|e| Error::new(ErrorCode::BadCrl, format!("CRL extensions: {e}")))?;
    for ext in crl.extensions() {
        if let Some(e) = malformed(ext) {
            return Err(e);
        }
        let oid = ext.oid.to_id_string();
        if oid == DELTA_CRL_INDICATOR || oid == ISSUING_DISTRIBUTION_POINT {
            return Err(Error::new(
                ErrorCode::CrlScopeUnsupported,
                format!("CRL extension {oid} makes it a delta, partitioned or indirect CRL; only complete CRLs are accepted"),
            ));
        }
        if ext.critical && !UNDERSTOOD_CRL_EXTENSIONS.contains(&oid.as_str()) {
            return Err(Error::new(
                ErrorCode::UnsupportedCriticalExtension,
                format!("CRL has unsupported critical extension {oid}"),
            ));
        }
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-5.3>: entry extensions. certificateIssuer (5.3.3) only occurs in indirect
/// CRLs, and reasonCode removeFromCRL (8) only in delta CRLs (5.3.1): both are refused.
fn check_entries(crl: &CertificateRevocationList<'_>) -> Result<(), Error> {
    for entry in crl.iter_revoked_certificates() {
        if entry.extensions().len() > 1 {
            entry
                .extensions_map()
                .map_err(|e| Error::new(ErrorCode::BadCrl, format!("CRL entry extensions: {e}")))?;
        }
        for ext in entry.extensions() {
            if let Some(e) = malformed(ext) {
                return Err(e);
            }
            let oid = ext.oid.to_id_string();
            if oid == CERTIFICATE_ISSUER {
                return Err(Error::new(
                    ErrorCode::CrlScopeUnsupported,
                    "CRL entry has certificateIssuer: indirect CRLs are not accepted",
                ));
            }
            if let ParsedExtension::ReasonCode(code) = ext.parsed_extension() {
                if code.0 == 8 {
                    return Err(Error::new(
                        ErrorCode::CrlScopeUnsupported,
                        "reasonCode removeFromCRL belongs in delta CRLs (RFC 5280 5.3.1)",
                    ));
                }
            }
            if ext.critical && !UNDERSTOOD_ENTRY_EXTENSIONS.contains(&oid.as_str()) {
                return Err(Error::new(
                    ErrorCode::UnsupportedCriticalExtension,
                    format!("CRL entry has unsupported critical extension {oid}"),
                ));
            }
        }
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3> (b)/(f): the CRL issuer must be the CA that issued the certificates
/// (an indirect CRL, issued under another name, is not accepted).
fn check_issuer_name(
    crl: &CertificateRevocationList<'_>,
    ca: &Certificate<'_>,
) -> Result<(), Error> {
    if crl.issuer().as_raw() != ca.x509.subject().as_raw() {
        return Err(Error::new(
            ErrorCode::CrlIssuerMismatch,
            format!(
                "CRL issuer {} is not the CA's subject {}",
                crl.issuer(),
                ca.x509.subject()
            ),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3> (f): "If a key usage extension is present in the CRL issuer's
/// certificate, verify that the cRLSign bit is set." For a delegated signer the
/// extension must be present (a certificate the CA issued without keyUsage was not
/// issued for CRL signing).
fn check_crl_sign(cert: &Certificate<'_>, required: bool) -> Result<(), Error> {
    let ku = cert
        .x509
        .key_usage()
        .map_err(|e| Error::new(ErrorCode::BadDer, e.to_string()))?;
    let allowed = match ku {
        Some(ku) => ku.value.crl_sign(),
        None => !required,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::CrlSignerNotAuthorized,
            format!(
                "certificate {} may not sign CRLs (keyUsage cRLSign)",
                cert.id()
            ),
        ))
    }
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3> (f)–(g): find the key that signed the CRL. The CA's own key first;
/// then each delegated signer certificate with the CA's name, whose path to the CA is
/// validated at `at` (the same trust anchor as the certificates the CRL covers) and which
/// carries cRLSign. Returns the signer's certificateId.
fn check_signer(
    verifier: &dyn SignatureVerifier,
    crl: &CertificateRevocationList<'_>,
    algorithm: SignatureAlgorithm,
    ca: &Certificate<'_>,
    signers: &[Vec<u8>],
    input: &CrlInput<'_>,
) -> Result<String, Error> {
    let message = crl.tbs_cert_list.as_ref();
    let signature = crl.signature_value.data.as_ref();
    let by_ca = signature::check(
        verifier,
        algorithm,
        ca.x509.public_key(),
        message,
        signature,
    );
    if by_ca.is_ok() {
        check_crl_sign(ca, false)?;
        return Ok(ca.id());
    }
    let mut best = by_ca.err();
    let limits = Limits::DEFAULT;
    let anchors = [ca.der.to_vec()];
    for der in signers.iter().filter(|d| d.as_slice() != ca.der) {
        let attempt = || -> Result<String, Error> {
            let signer = Certificate::parse(der, &limits)?;
            if signer.x509.subject().as_raw() != crl.issuer().as_raw() {
                return Err(Error::new(
                    ErrorCode::CrlSignerNotAuthorized,
                    format!(
                        "signer certificate {} is not named as the CRL issuer",
                        signer.id()
                    ),
                ));
            }
            signature::check(
                verifier,
                algorithm,
                signer.x509.public_key(),
                message,
                signature,
            )?;
            let chain = ChainInput {
                leaf: der,
                intermediates: &[],
                anchors: &anchors,
                at: input.at,
                eku: EkuPolicy::Any,
            };
            verify_chain(verifier, &chain, &limits).map_err(|e| {
                Error::new(
                    ErrorCode::CrlSignerNotAuthorized,
                    format!(
                        "signer certificate {} does not validate up to the CA: {e}",
                        signer.id()
                    ),
                )
            })?;
            check_crl_sign(&signer, true)?;
            Ok(signer.id())
        };
        match attempt() {
            Ok(id) => return Ok(id),
            // A signer whose key did not sign this CRL says less than one that did but
            // is not authorised.
            Err(e) if e.code() == ErrorCode::BadSignature => {}
            Err(e) => best = Some(e),
        }
    }
    Err(best
        .unwrap_or_else(|| Error::new(ErrorCode::BadSignature, "CRL signature does not verify")))
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-5.2.3>: cRLNumber is "monotonically increasing"; a CRL may be fetched again
/// unchanged, so an equal number is accepted and a lower one refused. When the previous
/// CRL had a number, the new one must have one too (order cannot be shown otherwise).
fn check_crl_number(number: Option<&BigUint>, previous: Option<&str>) -> Result<(), Error> {
    let Some(previous) = previous else {
        return Ok(());
    };
    let previous = BigUint::parse_bytes(previous.as_bytes(), 10).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("previous CRL number {previous:?} is not a decimal integer"),
        )
    })?;
    match number {
        None => Err(Error::new(
            ErrorCode::CrlNumberRegressed,
            format!("CRL has no cRLNumber; the current CRL is number {previous}"),
        )),
        Some(n) if *n < previous => Err(Error::new(
            ErrorCode::CrlNumberRegressed,
            format!("CRL number {n} is lower than the current CRL's {previous}"),
        )),
        Some(_) => Ok(()),
    }
}
