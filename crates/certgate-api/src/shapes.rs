//! Result shapes as JavaScript sees them (camelCase; absent options are `null`).

use certgate_core::{
    CertificateInfo, DistinguishedName, Error, IssuedCertificate, RegistrationProof, VerifiedChain,
    VerifiedCrl,
};
use serde::Serialize;

/// `{ ok: true, ...value }` or `{ ok: false, code, message }`.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Outcome<T: Serialize> {
    /// The operation succeeded.
    Accepted {
        /// Always `true`.
        ok: bool,
        /// The result's fields, flattened next to `ok`.
        #[serde(flatten)]
        value: T,
    },
    /// The engine refused the input.
    Refused {
        /// Always `false`.
        ok: bool,
        /// Stable error code, see `docs/errors.md`.
        code: &'static str,
        /// Explanation for people.
        message: String,
    },
}

impl<T: Serialize> From<Result<T, Error>> for Outcome<T> {
    fn from(result: Result<T, Error>) -> Self {
        match result {
            Ok(value) => Outcome::Accepted { ok: true, value },
            Err(e) => Outcome::Refused {
                ok: false,
                code: e.code().as_str(),
                message: e.message().to_owned(),
            },
        }
    }
}

/// One attribute of a distinguished name.
#[derive(Serialize)]
pub struct Attribute {
    /// Short name (`CN`) or dotted OID.
    pub name: String,
    /// Dotted OID.
    pub oid: String,
    /// Value text.
    pub value: String,
}

fn attributes(dn: &DistinguishedName) -> Vec<Attribute> {
    dn.attributes
        .iter()
        .map(|a| Attribute {
            name: a.name.clone(),
            oid: a.oid.clone(),
            value: a.value.clone(),
        })
        .collect()
}

/// A parsed certificate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub certificate_id: String,
    pub version: u32,
    pub subject: String,
    pub subject_attributes: Vec<Attribute>,
    pub issuer: String,
    pub issuer_attributes: Vec<Attribute>,
    pub serial_number: String,
    pub not_before: i64,
    pub not_after: i64,
    pub signature_algorithm: String,
    pub signature_algorithm_oid: String,
    pub public_key: PublicKey,
    pub basic_constraints: Option<BasicConstraints>,
    pub key_usage: Option<Vec<String>>,
    pub extended_key_usage: Option<Vec<String>>,
    pub subject_alt_names: Vec<AltName>,
    pub subject_key_identifier: Option<String>,
    pub authority_key_identifier: Option<String>,
    /// http(s) URIs from cRLDistributionPoints (fullName), empty when absent.
    pub crl_distribution_points: Vec<String>,
}

/// A subject public key.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// `RSA`, `EC`, `DSA` or `UNKNOWN`.
    #[serde(rename = "type")]
    pub kind: String,
    pub bits: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
}

/// basicConstraints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u32>,
    pub critical: bool,
}

/// A subjectAltName entry.
#[derive(Serialize)]
pub struct AltName {
    /// `dns`, `email`, `uri`, `ip`, `directoryName`, `other`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
}

impl From<CertificateInfo> for Certificate {
    fn from(c: CertificateInfo) -> Self {
        Self {
            certificate_id: c.certificate_id,
            version: c.version,
            subject_attributes: attributes(&c.subject),
            subject: c.subject.rfc4514,
            issuer_attributes: attributes(&c.issuer),
            issuer: c.issuer.rfc4514,
            serial_number: c.serial_number,
            not_before: c.not_before,
            not_after: c.not_after,
            signature_algorithm: c.signature_algorithm,
            signature_algorithm_oid: c.signature_algorithm_oid,
            public_key: PublicKey {
                kind: c.public_key.kind,
                bits: c.public_key.bits,
                curve: c.public_key.curve,
                oid: c.public_key.oid,
            },
            basic_constraints: c.basic_constraints.map(|b| BasicConstraints {
                ca: b.ca,
                path_len: b.path_len,
                critical: b.critical,
            }),
            key_usage: c.key_usage,
            extended_key_usage: c.extended_key_usage,
            subject_alt_names: c
                .subject_alt_names
                .into_iter()
                .map(|a| AltName {
                    kind: a.kind,
                    value: a.value,
                })
                .collect(),
            subject_key_identifier: c.subject_key_identifier,
            authority_key_identifier: c.authority_key_identifier,
            crl_distribution_points: c.crl_distribution_points,
        }
    }
}

/// Every certificate of a PEM bundle, in order.
#[derive(Serialize)]
pub struct Chain {
    pub certificates: Vec<Certificate>,
}

/// A validated path.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub leaf_certificate_id: String,
    pub anchor_certificate_id: String,
    /// certificateIds from leaf to anchor.
    pub path: Vec<String>,
    /// Serial numbers along `path` (lowercase hex, as `inspect` spells them).
    pub serials: Vec<String>,
    /// Earliest notAfter on the path (epoch seconds): cache the verdict until then.
    pub not_after: i64,
}

impl From<VerifiedChain> for Verified {
    fn from(v: VerifiedChain) -> Self {
        Self {
            leaf_certificate_id: v.leaf_certificate_id().to_owned(),
            anchor_certificate_id: v.anchor_certificate_id().to_owned(),
            path: v.path().to_vec(),
            serials: v.serials().to_vec(),
            not_after: v.not_after(),
        }
    }
}

/// A successful CA proof of possession.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    pub ca_certificate_id: String,
    pub verification_certificate_id: String,
}

impl From<RegistrationProof> for Proof {
    fn from(p: RegistrationProof) -> Self {
        Self {
            ca_certificate_id: p.ca_certificate_id().to_owned(),
            verification_certificate_id: p.verification_certificate_id().to_owned(),
        }
    }
}

/// A newly issued certificate.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issued {
    pub certificate_id: String,
    pub certificate_pem: String,
}

impl From<IssuedCertificate> for Issued {
    fn from(i: IssuedCertificate) -> Self {
        Self {
            certificate_id: i.certificate_id,
            certificate_pem: i.pem,
        }
    }
}

/// The certificates of one `issueCertificates` batch, in input order.
#[derive(Serialize)]
pub struct IssuedBatch {
    pub certificates: Vec<Issued>,
}

/// A key pair made by `generateKeys`: PKCS#8 and SPKI, both PEM.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedKey {
    pub private_key_pem: String,
    pub public_key_pem: String,
}

/// The key pairs of one `generateKeys` batch, in input order.
#[derive(Serialize)]
pub struct KeyBatch {
    pub keys: Vec<GeneratedKey>,
}

/// A verified certificate revocation list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Crl {
    /// Lowercase hex SHA-256 of the CRL's DER.
    pub crl_id: String,
    pub ca_certificate_id: String,
    /// The CA's own id, or the delegated CRL signer's certificateId.
    pub signer_certificate_id: String,
    /// cRLNumber in decimal (a string: it may have 20 octets), or null.
    pub crl_number: Option<String>,
    /// Epoch seconds.
    pub this_update: i64,
    /// Epoch seconds, or null when the CRL has no nextUpdate.
    pub next_update: Option<i64>,
    pub signature_algorithm: String,
    /// Lowercase hex of each revoked serial's INTEGER content octets.
    pub revoked_serials: Vec<String>,
}

impl From<VerifiedCrl> for Crl {
    fn from(c: VerifiedCrl) -> Self {
        Self {
            crl_id: c.crl_id,
            ca_certificate_id: c.ca_certificate_id,
            signer_certificate_id: c.signer_certificate_id,
            crl_number: c.crl_number,
            this_update: c.this_update,
            next_update: c.next_update,
            signature_algorithm: c.signature_algorithm,
            revoked_serials: c.revoked_serials,
        }
    }
}
