//! A CRL builder (RFC 5280 5.1 CertificateList) with the knobs the CRL rule tests need.
//! DER is written out by hand, TLV by TLV, so that a million-entry CRL for the benchmark
//! is built without a million intermediate objects.

use certgate_core::{encode_certificate, name_der, RawExtension};
use der::asn1::{GeneralizedTime, ObjectIdentifier, UtcTime};
use der::Encode;

use crate::keys::{SigAlg, TestKey};

/// What to put in a CRL.
#[derive(Clone, Debug)]
pub struct CrlSpec {
    /// RFC 4514 issuer name.
    pub issuer: String,
    /// thisUpdate, epoch seconds.
    pub this_update: i64,
    /// nextUpdate, epoch seconds.
    pub next_update: Option<i64>,
    /// cRLNumber.
    pub number: Option<u64>,
    /// Revoked serials (positive integers, big-endian magnitude bytes).
    pub revoked: Vec<Vec<u8>>,
    /// Extensions on the first entry.
    pub first_entry_extensions: Vec<RawExtension>,
    /// Extra CRL extensions.
    pub extensions: Vec<RawExtension>,
    /// Signature algorithm.
    pub alg: SigAlg,
}

impl CrlSpec {
    /// A v2 CRL of `issuer` with number `number`, listing `serials`, issued at
    /// one day before [`crate::AT`], next update a week after that.
    pub fn new(issuer: &str, number: u64, serials: &[u64], alg: SigAlg) -> Self {
        let this_update = crate::AT - 86_400;
        Self {
            issuer: issuer.to_owned(),
            this_update,
            next_update: Some(this_update + 7 * 86_400),
            number: Some(number),
            revoked: serials.iter().map(|s| magnitude(*s)).collect(),
            first_entry_extensions: Vec::new(),
            extensions: Vec::new(),
            alg,
        }
    }
}

/// The big-endian bytes of `n` without leading zeros (at least one byte).
pub fn magnitude(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    bytes[first..].to_vec()
}

/// DER tag-length-value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short length"));
    } else {
        let be = len.to_be_bytes();
        let first = be.iter().position(|b| *b != 0).unwrap_or(be.len() - 1);
        out.push(0x80 | u8::try_from(be.len() - first).expect("length of length"));
        out.extend_from_slice(&be[first..]);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER of a positive magnitude.
pub fn integer(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| *b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    tlv(0x02, &content)
}

fn time(epoch: i64) -> Vec<u8> {
    let d = core::time::Duration::from_secs(u64::try_from(epoch).expect("after 1970"));
    if epoch < 2_524_608_000 {
        UtcTime::from_unix_duration(d)
            .expect("UTCTime")
            .to_der()
            .expect("UTCTime DER")
    } else {
        GeneralizedTime::from_unix_duration(d)
            .expect("GeneralizedTime")
            .to_der()
            .expect("GeneralizedTime DER")
    }
}

fn alg_id(alg: SigAlg) -> Vec<u8> {
    let (oid, null) = alg.oid();
    let mut content = ObjectIdentifier::new(oid)
        .expect("OID")
        .to_der()
        .expect("OID DER");
    if null {
        content.extend_from_slice(&[0x05, 0x00]);
    }
    tlv(0x30, &content)
}

/// One Extension.
pub fn extension(ext: &RawExtension) -> Vec<u8> {
    let mut content = ObjectIdentifier::new(&ext.oid)
        .expect("OID")
        .to_der()
        .expect("OID DER");
    if ext.critical {
        content.extend_from_slice(&[0x01, 0x01, 0xff]);
    }
    content.extend(tlv(0x04, &ext.value));
    tlv(0x30, &content)
}

fn extensions(list: &[RawExtension]) -> Vec<u8> {
    tlv(0x30, &list.iter().flat_map(extension).collect::<Vec<u8>>())
}

/// The tbsCertList of `spec`.
pub fn tbs(spec: &CrlSpec) -> Vec<u8> {
    let mut content = integer(&[1]); // v2
    content.extend(alg_id(spec.alg));
    content.extend(name_der(&spec.issuer).expect("issuer"));
    content.extend(time(spec.this_update));
    if let Some(next) = spec.next_update {
        content.extend(time(next));
    }
    if !spec.revoked.is_empty() {
        let date = time(spec.this_update);
        let mut entries = Vec::with_capacity(spec.revoked.len() * (date.len() + 26));
        for (i, serial) in spec.revoked.iter().enumerate() {
            let mut entry = integer(serial);
            entry.extend_from_slice(&date);
            if i == 0 && !spec.first_entry_extensions.is_empty() {
                entry.extend(extensions(&spec.first_entry_extensions));
            }
            entries.extend(tlv(0x30, &entry));
        }
        content.extend(tlv(0x30, &entries));
    }
    let mut exts = Vec::new();
    if let Some(n) = spec.number {
        exts.push(RawExtension {
            oid: "2.5.29.20".to_owned(),
            critical: false,
            value: integer(&magnitude(n)),
        });
    }
    exts.extend(spec.extensions.iter().cloned());
    if !exts.is_empty() {
        content.extend(tlv(0xa0, &extensions(&exts)));
    }
    tlv(0x30, &content)
}

/// Build and sign the CRL of `spec` with `key`.
pub fn crl(spec: &CrlSpec, key: &TestKey) -> Vec<u8> {
    let tbs = tbs(spec);
    let signature = key.sign(spec.alg, &tbs);
    let (oid, null) = spec.alg.oid();
    encode_certificate(&tbs, oid, null, &signature).expect("CRL")
}
