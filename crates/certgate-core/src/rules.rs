//! Rules each certificate on a path must satisfy on its own (<https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3>–6.1.4),
//! independent of how the path was found. Which rule applies to the anchor (the
//! registered CA), to intermediates and to the leaf is tabled in
//! `docs/path-validation.md`.

use der::oid::ObjectIdentifier;
use x509_parser::extensions::ParsedExtension;

use crate::algorithm::is_oid;

use crate::certificate::Certificate;
use crate::chain::EkuPolicy;
use crate::error::{Error, ErrorCode};

/// Extensions certgate processes (or that never restrict use); any other extension
/// marked critical makes the certificate unusable (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2>).
const UNDERSTOOD_EXTENSIONS: &[ObjectIdentifier] = &[
    ObjectIdentifier::new_unwrap("2.5.29.19"), // basicConstraints
    ObjectIdentifier::new_unwrap("2.5.29.15"), // keyUsage
    ObjectIdentifier::new_unwrap("2.5.29.37"), // extKeyUsage
    ObjectIdentifier::new_unwrap("2.5.29.17"), // subjectAltName
    ObjectIdentifier::new_unwrap("2.5.29.18"), // issuerAltName
    ObjectIdentifier::new_unwrap("2.5.29.30"), // nameConstraints
    ObjectIdentifier::new_unwrap("2.5.29.14"), // subjectKeyIdentifier
    ObjectIdentifier::new_unwrap("2.5.29.35"), // authorityKeyIdentifier
    ObjectIdentifier::new_unwrap("2.5.29.32"), // certificatePolicies: no policy is required, so any policy set is acceptable
];

pub(crate) fn check_critical_extensions(cert: &Certificate<'_>) -> Result<(), Error> {
    for ext in cert.x509.iter_extensions().filter(|e| e.critical) {
        if !UNDERSTOOD_EXTENSIONS
            .iter()
            .any(|known| is_oid(&ext.oid, known))
        {
            let oid = ext.oid.to_id_string();
            return Err(Error::new(
                ErrorCode::UnsupportedCriticalExtension,
                format!(
                    "certificate {} has unsupported critical extension {oid}",
                    cert.id()
                ),
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_eku(cert: &Certificate<'_>, policy: EkuPolicy) -> Result<(), Error> {
    let Some(eku) = cert
        .x509
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::ExtendedKeyUsage(eku) => Some(eku),
            _ => None,
        })
    else {
        return Ok(());
    };
    let allowed = match policy {
        EkuPolicy::Any => true,
        EkuPolicy::ClientAuth => eku.client_auth || eku.any,
        EkuPolicy::ServerAuth => eku.server_auth || eku.any,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::ClientAuthNotPermitted,
            format!("extendedKeyUsage of {} excludes {policy:?}", cert.id()),
        ))
    }
}

/// Checks a certificate must pass to act as an issuer.
pub(crate) fn check_issuer(
    ca: &Certificate<'_>,
    at: i64,
    sub_cas_below: usize,
) -> Result<(), Error> {
    ca.check_validity(at)?;
    check_critical_extensions(ca)?;
    let bc = ca
        .x509
        .basic_constraints()
        .map_err(|e| Error::new(ErrorCode::BadDer, e.to_string()))?;
    let Some(bc) = bc.filter(|bc| bc.value.ca) else {
        return Err(Error::new(
            ErrorCode::NotACa,
            format!("issuer {} is not a CA (basicConstraints cA)", ca.id()),
        ));
    };
    if let Some(max) = bc.value.path_len_constraint {
        if u32::try_from(sub_cas_below).map_or(true, |n| n > max) {
            return Err(Error::new(
                ErrorCode::PathLengthExceeded,
                format!(
                    "issuer {} allows {max} intermediates below it; the path has {sub_cas_below}",
                    ca.id()
                ),
            ));
        }
    }
    let ku = ca
        .x509
        .key_usage()
        .map_err(|e| Error::new(ErrorCode::BadDer, e.to_string()))?;
    if ku.is_some_and(|ku| !ku.value.key_cert_sign()) {
        return Err(Error::new(
            ErrorCode::MissingKeyCertSign,
            format!("issuer {} lacks keyCertSign", ca.id()),
        ));
    }
    Ok(())
}

/// Whether `cert` asserts cA=TRUE in basicConstraints (a malformed extension was
/// already refused by [`Certificate::parse`]).
pub(crate) fn asserts_ca(cert: &Certificate<'_>) -> bool {
    cert.x509
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca)
}

pub(crate) fn is_self_issued(cert: &Certificate<'_>) -> bool {
    cert.x509.subject().as_raw() == cert.x509.issuer().as_raw()
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2>: "The serial number MUST be
/// a positive integer assigned by the CA to each certificate." A rule for issued
/// certificates (leaf, intermediates): the anchor is the operator's own choice of
/// trusted key and name, and widely trusted roots carry serial 0.
pub(crate) fn check_serial_positive(cert: &Certificate<'_>) -> Result<(), Error> {
    if cert.x509.raw_serial().iter().all(|b| *b == 0) {
        return Err(Error::new(
            ErrorCode::BadDer,
            format!("certificate {} has serial number zero", cert.id()),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.11>: "Conforming CAs MUST mark
/// this extension as critical." certgate does not process certificate policies, so a
/// critical policyConstraints is refused as unsupported (fail closed); a non-critical
/// one is a malformed certificate that an RFC 5280 validator would process and certgate
/// would silently ignore, so it is refused too. Applies to issued certificates.
pub(crate) fn check_policy_constraints_critical(cert: &Certificate<'_>) -> Result<(), Error> {
    let non_critical = cert.x509.iter_extensions().any(|e| {
        e.oid == x509_parser::oid_registry::OID_X509_EXT_POLICY_CONSTRAINTS && !e.critical
    });
    if non_critical {
        return Err(Error::new(
            ErrorCode::InvalidExtension,
            format!(
                "certificate {} has a policyConstraints extension not marked critical",
                cert.id()
            ),
        ));
    }
    Ok(())
}

/// Rules for a certificate some CA issued (the leaf and every intermediate), on top of
/// the ones every certificate meets.
pub(crate) fn check_issued(cert: &Certificate<'_>) -> Result<(), Error> {
    check_serial_positive(cert)?;
    check_policy_constraints_critical(cert)
}
