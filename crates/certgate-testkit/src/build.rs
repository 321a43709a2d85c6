//! A certificate builder with every knob the rule tests need, on top of the core's
//! TBS encoder.

use certgate_core::{
    encode_certificate, encode_tbs, key_identifier, name_der, RawExtension, TbsParts,
};
use der::asn1::{Ia5String, ObjectIdentifier, OctetString};
use der::{AnyRef, Decode, Encode, Sequence};
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages};

use crate::keys::{SigAlg, TestKey};
use crate::{NOT_AFTER, NOT_BEFORE};

/// What to put in a certificate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// RFC 4514 subject.
    pub subject: String,
    /// Serial (small integers keep fixtures readable).
    pub serial: u64,
    /// Validity.
    pub not_before: i64,
    /// Validity.
    pub not_after: i64,
    /// basicConstraints: `None` absent, `Some((ca, pathLen))`.
    pub basic_constraints: Option<(bool, Option<u8>)>,
    /// keyUsage, when present.
    pub key_usage: Option<KeyUsages>,
    /// Several key usages.
    pub key_usages: Option<Vec<KeyUsages>>,
    /// extendedKeyUsage OIDs, when present.
    pub eku: Option<Vec<&'static str>>,
    /// subjectAltName dNSNames.
    pub dns_names: Vec<String>,
    /// nameConstraints permitted dNSName subtrees.
    pub permitted_dns: Vec<String>,
    /// nameConstraints excluded dNSName subtrees.
    pub excluded_dns: Vec<String>,
    /// Extensions added as given.
    pub extra: Vec<RawExtension>,
    /// Signature algorithm.
    pub alg: SigAlg,
}

/// EKU OIDs.
pub const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
/// serverAuth.
pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";

impl Spec {
    /// A CA certificate profile.
    pub fn ca(subject: &str, serial: u64, alg: SigAlg) -> Self {
        Self {
            basic_constraints: Some((true, None)),
            key_usages: Some(vec![KeyUsages::KeyCertSign, KeyUsages::CRLSign]),
            ..Self::leaf(subject, serial, alg)
        }
    }

    /// A device certificate profile (clientAuth EKU, digitalSignature).
    pub fn leaf(subject: &str, serial: u64, alg: SigAlg) -> Self {
        Self {
            subject: subject.to_owned(),
            serial,
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
            basic_constraints: Some((false, None)),
            key_usage: Some(KeyUsages::DigitalSignature),
            key_usages: None,
            eku: Some(vec![CLIENT_AUTH]),
            dns_names: Vec::new(),
            permitted_dns: Vec::new(),
            excluded_dns: Vec::new(),
            extra: Vec::new(),
            alg,
        }
    }
}

fn ext(oid: &str, critical: bool, value: Vec<u8>) -> RawExtension {
    RawExtension {
        oid: oid.to_owned(),
        critical,
        value,
    }
}

fn subtrees(names: &[String]) -> Option<Vec<GeneralSubtree>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|n| GeneralSubtree {
                base: GeneralName::DnsName(Ia5String::new(n).expect("IA5")),
                minimum: 0,
                maximum: None,
            })
            .collect()
    })
}

/// The issuer of a certificate being built: its subject and key.
pub struct IssuerRef<'a> {
    /// RFC 4514 subject of the issuer.
    pub subject: &'a str,
    /// The issuer's key.
    pub key: &'a TestKey,
}

/// Build and sign a certificate for `key` described by `spec`, issued by `issuer`
/// (self-signed when `None`).
pub fn certificate(spec: &Spec, key: &TestKey, issuer: Option<&IssuerRef<'_>>) -> Vec<u8> {
    let spki = key.spki();
    let self_ref = IssuerRef {
        subject: &spec.subject,
        key,
    };
    let issuer = issuer.unwrap_or(&self_ref);
    let mut extensions = Vec::new();
    if let Some((ca, path_len)) = spec.basic_constraints {
        let bc = BasicConstraints {
            ca,
            path_len_constraint: path_len,
        };
        extensions.push(ext("2.5.29.19", true, bc.to_der().expect("BC")));
    }
    let usages = spec
        .key_usages
        .clone()
        .or_else(|| spec.key_usage.map(|k| vec![k]));
    if let Some(usages) = usages {
        let mut set = flagset::FlagSet::<KeyUsages>::default();
        for u in usages {
            set |= u;
        }
        extensions.push(ext("2.5.29.15", true, KeyUsage(set).to_der().expect("KU")));
    }
    if let Some(eku) = &spec.eku {
        let oids: Vec<ObjectIdentifier> = eku
            .iter()
            .map(|o| ObjectIdentifier::new(o).expect("OID"))
            .collect();
        extensions.push(ext("2.5.29.37", false, oids.to_der().expect("EKU")));
    }
    if !spec.dns_names.is_empty() {
        let names: Vec<GeneralName> = spec
            .dns_names
            .iter()
            .map(|n| GeneralName::DnsName(Ia5String::new(n).expect("IA5")))
            .collect();
        extensions.push(ext("2.5.29.17", false, names.to_der().expect("SAN")));
    }
    if !spec.permitted_dns.is_empty() || !spec.excluded_dns.is_empty() {
        let nc = NameConstraints {
            permitted_subtrees: subtrees(&spec.permitted_dns),
            excluded_subtrees: subtrees(&spec.excluded_dns),
        };
        extensions.push(ext("2.5.29.30", true, nc.to_der().expect("NC")));
    }
    let ski = key_identifier(&spki).expect("SKI");
    extensions.push(ext(
        "2.5.29.14",
        false,
        OctetString::new(ski).expect("SKI").to_der().expect("SKI"),
    ));
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(key_identifier(&issuer.key.spki()).expect("AKI")).expect("AKI"),
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    extensions.push(ext("2.5.29.35", false, aki.to_der().expect("AKI")));
    extensions.extend(spec.extra.iter().cloned());
    let (oid, null) = spec.alg.oid();
    let subject = name_der(&spec.subject).expect("subject");
    let issuer_name = name_der(issuer.subject).expect("issuer");
    let serial = spec.serial.to_be_bytes();
    let tbs = encode_tbs(&TbsParts {
        serial: &serial,
        signature_oid: oid,
        signature_null_params: null,
        issuer: &issuer_name,
        not_before: spec.not_before,
        not_after: spec.not_after,
        subject: &subject,
        spki: &spki,
        extensions: &extensions,
        version: 3,
    })
    .expect("TBS");
    let signature = issuer.key.sign(spec.alg, &tbs);
    encode_certificate(&tbs, oid, null, &signature).expect("certificate")
}

#[derive(Sequence)]
struct CsrInfo<'a> {
    version: u8,
    subject: AnyRef<'a>,
    spki: AnyRef<'a>,
    attributes: AnyRef<'a>,
}

#[derive(Sequence)]
struct AlgId {
    oid: ObjectIdentifier,
    params: Option<der::asn1::Null>,
}

#[derive(Sequence)]
struct Csr<'a> {
    info: AnyRef<'a>,
    alg: AlgId,
    signature: der::asn1::BitStringRef<'a>,
}

/// A PKCS#10 CSR for `key` with `subject`, signed by `signer` (normally the same key).
pub fn csr(subject: &str, key: &TestKey, signer: &TestKey, alg: SigAlg) -> Vec<u8> {
    let subject = name_der(subject).expect("subject");
    let spki = key.spki();
    // attributes [0] IMPLICIT SET OF Attribute: empty.
    let empty_attributes = [0xa0, 0x00];
    let info = CsrInfo {
        version: 0,
        subject: AnyRef::from_der(&subject).expect("subject"),
        spki: AnyRef::from_der(&spki).expect("spki"),
        attributes: AnyRef::from_der(&empty_attributes).expect("attributes"),
    }
    .to_der()
    .expect("CSR info");
    let signature = signer.sign(alg, &info);
    let (oid, null) = alg.oid();
    Csr {
        info: AnyRef::from_der(&info).expect("info"),
        alg: AlgId {
            oid: ObjectIdentifier::new(oid).expect("OID"),
            params: null.then_some(der::asn1::Null),
        },
        signature: der::asn1::BitStringRef::from_bytes(&signature).expect("signature"),
    }
    .to_der()
    .expect("CSR")
}

/// PEM text for DER with `label`.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| core::str::from_utf8(c).expect("ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
