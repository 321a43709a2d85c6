//! The facts the registry and the operator see about a certificate.

use x509_parser::extensions::{GeneralName, ParsedExtension};

use crate::algorithm::{KeyInfo, SignatureAlgorithm};
use crate::certificate::{hex, Certificate};
use crate::error::Error;
use crate::input::certificates_der;
use crate::limits::Limits;
use crate::name::DistinguishedName;

/// The facts certgate records about a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Lowercase hex SHA-256 of the DER encoding (AWS IoT's certificateId).
    pub certificate_id: String,
    /// X.509 version number (1, 2 or 3).
    pub version: u32,
    /// The subject.
    pub subject: DistinguishedName,
    /// The issuer.
    pub issuer: DistinguishedName,
    /// Serial number as encoded (lowercase hex of the INTEGER's content octets).
    pub serial_number: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// The signature algorithm in AWS IoT's naming, or `UNSUPPORTED`.
    pub signature_algorithm: String,
    /// Dotted OID of the signature algorithm.
    pub signature_algorithm_oid: String,
    /// The subject public key.
    pub public_key: PublicKeyInfo,
    /// basicConstraints, when present.
    pub basic_constraints: Option<BasicConstraintsInfo>,
    /// keyUsage bit names (RFC 5280 spelling), when present.
    pub key_usage: Option<Vec<String>>,
    /// extendedKeyUsage purposes (`clientAuth`, … or dotted OIDs), when present.
    pub extended_key_usage: Option<Vec<String>>,
    /// subjectAltName entries, empty when absent.
    pub subject_alt_names: Vec<AltName>,
    /// subjectKeyIdentifier as hex, when present.
    pub subject_key_identifier: Option<String>,
    /// authorityKeyIdentifier keyIdentifier as hex, when present.
    pub authority_key_identifier: Option<String>,
    /// The http and https URIs named by cRLDistributionPoints (the fullName form of each
    /// distributionPoint), in order; empty when absent. Other name forms and schemes are
    /// left out: certgate's refresher fetches over HTTP only, as <https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13>
    /// describes for "http" URIs (https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13).
    pub crl_distribution_points: Vec<String>,
}

/// The kind and size of a subject public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// `RSA`, `EC`, `DSA` or `UNKNOWN`.
    pub kind: String,
    /// Key size in bits (modulus for RSA, p for DSA, field size for EC); 0 when unknown.
    pub bits: u32,
    /// Named curve for EC keys (`P-256`, `P-384`, `P-521`, or the dotted OID).
    pub curve: Option<String>,
    /// Dotted OID of the key algorithm when `kind` is `UNKNOWN`.
    pub oid: Option<String>,
}

/// basicConstraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicConstraintsInfo {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u32>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

/// One subjectAltName entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AltName {
    /// `dns`, `email`, `uri`, `ip`, `directoryName` or `other`.
    pub kind: &'static str,
    /// The name as text (IP addresses in their usual notation).
    pub value: String,
}

fn public_key(key: &KeyInfo) -> PublicKeyInfo {
    match key {
        KeyInfo::Rsa { bits } => PublicKeyInfo {
            kind: "RSA".into(),
            bits: *bits,
            curve: None,
            oid: None,
        },
        KeyInfo::Dsa { bits } => PublicKeyInfo {
            kind: "DSA".into(),
            bits: *bits,
            curve: None,
            oid: None,
        },
        KeyInfo::Ec { curve, curve_oid } => PublicKeyInfo {
            kind: "EC".into(),
            bits: match curve.map(|c| c.name()) {
                Some("P-256") => 256,
                Some("P-384") => 384,
                Some("P-521") => 521,
                _ => 0,
            },
            curve: Some(curve.map_or_else(|| curve_oid.clone(), |c| c.name().to_owned())),
            oid: None,
        },
        KeyInfo::Other { oid } => PublicKeyInfo {
            kind: "UNKNOWN".into(),
            bits: 0,
            curve: None,
            oid: Some(oid.clone()),
        },
    }
}

/// Text form of one GeneralName.
pub(crate) fn alt_name(name: &GeneralName<'_>) -> AltName {
    let (kind, value) = match name {
        GeneralName::DNSName(s) => ("dns", (*s).to_owned()),
        GeneralName::RFC822Name(s) => ("email", (*s).to_owned()),
        GeneralName::URI(s) => ("uri", (*s).to_owned()),
        GeneralName::IPAddress(bytes) => ("ip", ip_text(bytes)),
        GeneralName::DirectoryName(n) => ("directoryName", DistinguishedName::of(n).rfc4514),
        other => ("other", format!("{other:?}")),
    };
    AltName { kind, value }
}

fn ip_text(bytes: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return core::net::Ipv4Addr::from(v4).to_string();
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return core::net::Ipv6Addr::from(v6).to_string();
    }
    hex(bytes)
}

/// The http(s) URIs of the fullName of each distribution point (RFC 5280 section
/// 4.2.1.13, https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.13). A point given as
/// nameRelativeToCRLIssuer, or with a cRLIssuer (an indirect CRL), names no URL certgate
/// can fetch and verify against this CA, so it is left out.
fn http_distribution_points(
    cdp: &x509_parser::extensions::CRLDistributionPoints<'_>,
) -> Vec<String> {
    use x509_parser::extensions::DistributionPointName;
    let mut out = Vec::new();
    for point in cdp.iter() {
        if point.crl_issuer.is_some() {
            continue;
        }
        let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
            continue;
        };
        for name in names {
            if let GeneralName::URI(uri) = name {
                let lower = uri.to_ascii_lowercase();
                if lower.starts_with("http://") || lower.starts_with("https://") {
                    out.push((*uri).to_owned());
                }
            }
        }
    }
    out
}

fn key_usage_names(ku: &x509_parser::extensions::KeyUsage) -> Vec<String> {
    let bits = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    bits.iter()
        .filter(|(set, _)| *set)
        .map(|(_, n)| (*n).to_owned())
        .collect()
}

fn eku_names(eku: &x509_parser::extensions::ExtendedKeyUsage<'_>) -> Vec<String> {
    let known = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    let mut out: Vec<String> = known
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, n)| (*n).to_owned())
        .collect();
    out.extend(eku.other.iter().map(|o| o.to_id_string()));
    out
}

impl CertificateInfo {
    /// Describe an already decoded certificate.
    pub fn of(cert: &Certificate<'_>) -> Result<Self, Error> {
        let x = &cert.x509;
        let sig_oid = x.signature_algorithm.algorithm.to_id_string();
        let signature_algorithm = SignatureAlgorithm::from_oid(&sig_oid)
            .map_or_else(|| String::from("UNSUPPORTED"), |a| a.aws_name().to_owned());
        let mut info = CertificateInfo {
            certificate_id: cert.id(),
            version: x.version().0.saturating_add(1),
            subject: DistinguishedName::of(x.subject()),
            issuer: DistinguishedName::of(x.issuer()),
            serial_number: hex(x.raw_serial()),
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            signature_algorithm,
            signature_algorithm_oid: sig_oid,
            public_key: public_key(&KeyInfo::of(x.public_key())?),
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
            subject_alt_names: Vec::new(),
            subject_key_identifier: None,
            authority_key_identifier: None,
            crl_distribution_points: Vec::new(),
        };
        for ext in x.iter_extensions() {
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    info.basic_constraints = Some(BasicConstraintsInfo {
                        ca: bc.ca,
                        path_len: bc.path_len_constraint,
                        critical: ext.critical,
                    });
                }
                ParsedExtension::KeyUsage(ku) => info.key_usage = Some(key_usage_names(ku)),
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    info.extended_key_usage = Some(eku_names(eku))
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    info.subject_alt_names = san.general_names.iter().map(alt_name).collect();
                }
                ParsedExtension::SubjectKeyIdentifier(ski) => {
                    info.subject_key_identifier = Some(hex(ski.0))
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    info.authority_key_identifier = aki.key_identifier.as_ref().map(|k| hex(k.0));
                }
                ParsedExtension::CRLDistributionPoints(cdp) => {
                    info.crl_distribution_points = http_distribution_points(cdp);
                }
                _ => {}
            }
        }
        Ok(info)
    }
}

/// Parse the first certificate in `input` (PEM text or DER bytes).
pub fn inspect(input: &[u8], limits: &Limits) -> Result<CertificateInfo, Error> {
    let ders = certificates_der(input, limits)?;
    let der = ders
        .first()
        .ok_or_else(|| Error::new(crate::ErrorCode::NoCertificate, "no certificate"))?;
    parse_registrable(der, limits).and_then(|c| CertificateInfo::of(&c))
}

/// Parse a certificate an operator may register. A CA (cA=TRUE) may become an anchor,
/// which is exempt from the rules for issued certificates (serial 0 is accepted); any
/// other certificate can only be a leaf, so those rules apply now rather than at every
/// later decision.
fn parse_registrable<'a>(der: &'a [u8], limits: &Limits) -> Result<Certificate<'a>, Error> {
    let cert = Certificate::parse(der, limits)?;
    if !crate::rules::asserts_ca(&cert) {
        crate::rules::check_serial_positive(&cert)?;
    }
    Ok(cert)
}

/// Parse every certificate in `input` (a PEM bundle, or one DER certificate), in order.
pub fn inspect_chain(input: &[u8], limits: &Limits) -> Result<Vec<CertificateInfo>, Error> {
    certificates_der(input, limits)?
        .iter()
        .map(|der| parse_registrable(der, limits).and_then(|c| CertificateInfo::of(&c)))
        .collect()
}
