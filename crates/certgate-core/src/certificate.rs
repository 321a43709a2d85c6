//! A decoded certificate. Only [`Certificate::parse`] builds one, so holding one means
//! the DER was complete, within limits, and internally consistent.

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::error::{Error, ErrorCode};
use crate::input::check_der_size;
use crate::limits::Limits;

/// How many recurring certificates' ids each thread remembers ([`Certificate::recurring_id`]).
pub(crate) const RECURRING_IDS_KEPT: usize = 8;

thread_local! {
    /// (DER, certificateId) of recently verified issuers, most recent first.
    static RECURRING_IDS: std::cell::RefCell<Vec<(Box<[u8]>, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A certificate decoded from DER that borrows the DER.
pub struct Certificate<'a> {
    pub(crate) der: &'a [u8],
    pub(crate) x509: X509Certificate<'a>,
}

impl<'a> Certificate<'a> {
    /// Decode one certificate. Refuses trailing bytes, a TBS signature algorithm that
    /// differs from the outer one (<https://www.rfc-editor.org/rfc/rfc5280#section-4.1.1.2>), and malformed known extensions.
    pub fn parse(der: &'a [u8], limits: &Limits) -> Result<Self, Error> {
        check_der_size(der.len(), limits)?;
        let (rest, x509) = X509Certificate::from_der(der).map_err(|e| {
            Error::new(
                ErrorCode::BadDer,
                format!("certificate is not valid DER: {e}"),
            )
        })?;
        if !rest.is_empty() {
            return Err(Error::new(
                ErrorCode::BadDer,
                "trailing bytes after the certificate",
            ));
        }
        if x509.signature_algorithm != x509.tbs_certificate.signature || !strict_outer_der(der) {
            return Err(Error::new(ErrorCode::BadDer, "outer encoding is not DER, or signatureAlgorithm differs from the TBS signature field"));
        }
        check_unique_extensions(&x509)?;
        check_serial_length(x509.raw_serial())?;
        check_eku_not_empty(&x509)?;
        for ext in x509.iter_extensions() {
            if let ParsedExtension::ParseError { error } = ext.parsed_extension() {
                return Err(Error::new(
                    ErrorCode::BadDer,
                    format!("extension {} is malformed: {error}", ext.oid.to_id_string()),
                ));
            }
        }
        Ok(Self { der, x509 })
    }

    /// The DER this certificate was decoded from.
    pub fn der(&self) -> &'a [u8] {
        self.der
    }

    /// AWS IoT's certificateId: lowercase hex SHA-256 of the DER (<https://docs.aws.amazon.com/iot/latest/apireference/API_Certificate.html>).
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.der))
    }

    /// [`Certificate::id`], remembered by the exact DER for the few certificates that
    /// recur on every verified path of a fleet: its intermediates and registered CAs. A
    /// byte comparison replaces a SHA-256 of the whole certificate, which the wasm build
    /// computes without the CPU's SHA instructions (~2.4 µs for an RSA-2048 CA at the
    /// server, measured). Per thread, the [`RECURRING_IDS_KEPT`] most recently used, most recent
    /// first; an entry is found only by equal bytes, so it can never name another
    /// certificate.
    pub(crate) fn recurring_id(&self) -> String {
        RECURRING_IDS.with(|cell| {
            let mut memo = cell.borrow_mut();
            if let Some(at) = memo.iter().position(|(der, _)| der.as_ref() == self.der) {
                let entry = memo.remove(at);
                let id = entry.1.clone();
                memo.insert(0, entry);
                return id;
            }
            let id = self.id();
            memo.insert(0, (self.der.into(), id.clone()));
            memo.truncate(RECURRING_IDS_KEPT);
            id
        })
    }

    /// notAfter in epoch seconds.
    pub fn not_after(&self) -> i64 {
        self.x509.validity().not_after.timestamp()
    }

    /// notBefore in epoch seconds.
    pub fn not_before(&self) -> i64 {
        self.x509.validity().not_before.timestamp()
    }

    /// Refuse if `at` (epoch seconds) is outside the validity window (both ends inclusive,
    /// <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5>).
    pub(crate) fn check_validity(&self, at: i64) -> Result<(), Error> {
        if at < self.not_before() {
            return Err(Error::new(
                ErrorCode::NotYetValid,
                format!("certificate {} is not valid yet", self.id()),
            ));
        }
        if at > self.not_after() {
            return Err(Error::new(
                ErrorCode::Expired,
                format!("certificate {} has expired", self.id()),
            ));
        }
        Ok(())
    }
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2>: "Conforming CAs MUST NOT
/// use serialNumber values longer than 20 octets." A 20-byte value with its top bit set
/// needs a leading zero octet, which is allowed (that is what 20 random bytes become).
/// This bounds every certificate, anchors included; that the number is positive is a
/// rule for issued certificates only ([`crate::rules::check_serial_positive`]).
fn check_serial_length(raw: &[u8]) -> Result<(), Error> {
    let significant = raw.strip_prefix(&[0]).unwrap_or(raw);
    if significant.len() > 20 {
        return Err(Error::new(
            ErrorCode::BadDer,
            "serial number is longer than 20 octets",
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2>: "A certificate MUST NOT include
/// more than one instance of a particular extension"; x509-parser keeps duplicates. The
/// extension OIDs are sorted and neighbours compared (x509-parser's `extensions_map` would
/// build a hash map per certificate).
fn check_unique_extensions(x509: &X509Certificate<'_>) -> Result<(), Error> {
    let mut oids: Vec<&[u8]> = x509.extensions().iter().map(|e| e.oid.as_bytes()).collect();
    oids.sort_unstable();
    if oids.windows(2).any(|pair| matches!(pair, [a, b] if a == b)) {
        return Err(Error::new(
            ErrorCode::BadDer,
            format!("extensions: {}", X509Error::DuplicateExtensions),
        ));
    }
    Ok(())
}

/// <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12>:
/// `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId`. An empty
/// extendedKeyUsage is malformed; x509-parser reads it as "no purpose" without
/// complaint, and it would then be indistinguishable from a list of only unknown
/// purposes.
fn check_eku_not_empty(x509: &X509Certificate<'_>) -> Result<(), Error> {
    let empty = x509.iter_extensions().any(|e| {
        matches!(e.parsed_extension(), ParsedExtension::ExtendedKeyUsage(eku)
            if !(eku.any || eku.server_auth || eku.client_auth || eku.code_signing
                || eku.email_protection || eku.time_stamping || eku.ocsp_signing)
                && eku.other.is_empty())
    });
    if empty {
        return Err(Error::new(
            ErrorCode::BadDer,
            "extension 2.5.29.37 (extendedKeyUsage) is malformed: it lists no KeyPurposeId",
        ));
    }
    Ok(())
}

#[derive(der::Sequence)]
struct Outer<'a> {
    tbs: der::AnyRef<'a>,
    algorithm: der::AnyRef<'a>,
    signature: der::asn1::BitStringRef<'a>,
}

/// x509-parser is lenient outside the signed bytes (it accepts e.g. a non-SEQUENCE tag
/// on the outer AlgorithmIdentifier), which would let anyone mint differently-encoded
/// copies of a certificate, each with its own certificateId. The `der` crate decodes
/// strictly: the outer structure must be DER and the outer AlgorithmIdentifier must be
/// byte-identical to the TBS one (<https://www.rfc-editor.org/rfc/rfc5280#section-4.1.1.2>).
fn strict_outer_der(der: &[u8]) -> bool {
    use der::{Decode, Tag, Tagged};
    let Ok(outer) = Outer::from_der(der) else {
        return false;
    };
    // Both decoded strictly, so equal tags and contents mean byte-identical encodings.
    outer.tbs.tag() == Tag::Sequence
        && outer.algorithm.tag() == Tag::Sequence
        && tbs_signature(outer.tbs.value()).is_some_and(|t| t == outer.algorithm)
}

/// The TBSCertificate's `signature` field: the one after the optional `[0]` version and
/// the serial number (<https://www.rfc-editor.org/rfc/rfc5280#section-4.1>).
fn tbs_signature(tbs_value: &[u8]) -> Option<der::AnyRef<'_>> {
    use der::{Decode, Tag, Tagged};
    let mut reader = der::SliceReader::new(tbs_value).ok()?;
    let mut field = der::AnyRef::decode(&mut reader).ok()?;
    if field.tag() != Tag::Integer {
        field = der::AnyRef::decode(&mut reader).ok()?;
    }
    if field.tag() != Tag::Integer {
        return None;
    }
    der::AnyRef::decode(&mut reader).ok()
}

/// Lowercase hex without separators.
pub(crate) fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}
