//! DER encoding of certificates with the `der` crate: a TBSCertificate from parts, and the
//! signed Certificate around it. Used by issuance and by the test fixture generator.

use core::time::Duration;

use der::asn1::{
    AnyRef, BitStringRef, GeneralizedTime, Null, ObjectIdentifier, OctetStringRef, UintRef, UtcTime,
};
use der::{Decode, Encode, Sequence};
use x509_cert::time::Time;

use crate::algorithm::SignatureAlgorithm;
use crate::error::{Error, ErrorCode};

/// One extension, with its value already DER-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawExtension {
    /// Dotted OID.
    pub oid: String,
    /// The critical flag.
    pub critical: bool,
    /// DER of the extension value (the contents of extnValue).
    pub value: Vec<u8>,
}

/// The parts of a TBSCertificate. Names and the key are given as DER so they can be
/// copied byte for byte from an issuer certificate or a CSR.
#[derive(Clone, Debug)]
pub struct TbsParts<'a> {
    /// Serial number as a big-endian unsigned integer (no sign byte).
    pub serial: &'a [u8],
    /// The signature algorithm OID to place in the TBS (and outside it).
    pub signature_oid: &'a str,
    /// Whether that AlgorithmIdentifier carries NULL parameters (RSA, <https://www.rfc-editor.org/rfc/rfc4055#section-5>).
    pub signature_null_params: bool,
    /// DER of the issuer Name.
    pub issuer: &'a [u8],
    /// notBefore, epoch seconds.
    pub not_before: i64,
    /// notAfter, epoch seconds.
    pub not_after: i64,
    /// DER of the subject Name.
    pub subject: &'a [u8],
    /// DER of the SubjectPublicKeyInfo.
    pub spki: &'a [u8],
    /// Extensions; when empty and `version` is 3 the field is omitted.
    pub extensions: &'a [RawExtension],
    /// 1 or 3.
    pub version: u8,
}

#[derive(Sequence)]
struct AlgId {
    oid: ObjectIdentifier,
    params: Option<Null>,
}

#[derive(Sequence)]
struct Validity {
    not_before: Time,
    not_after: Time,
}

#[derive(Sequence)]
struct Ext<'a> {
    oid: ObjectIdentifier,
    #[asn1(default = "Default::default")]
    critical: bool,
    value: &'a OctetStringRef,
}

#[derive(Sequence)]
struct Tbs<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<u8>,
    serial: UintRef<'a>,
    signature: AlgId,
    issuer: AnyRef<'a>,
    validity: Validity,
    subject: AnyRef<'a>,
    spki: AnyRef<'a>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Ext<'a>>>,
}

#[derive(Sequence)]
struct Cert<'a> {
    tbs: AnyRef<'a>,
    algorithm: AlgId,
    signature: BitStringRef<'a>,
}

fn invalid(what: &str, e: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidArgument, format!("{what}: {e}"))
}

/// 2050-01-01T00:00:00Z: <https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5> requires UTCTime before it, GeneralizedTime from it.
const GENERALIZED_TIME_FROM: i64 = 2_524_608_000;

fn time(epoch: i64) -> Result<Time, Error> {
    let secs =
        u64::try_from(epoch).map_err(|e| invalid("times before 1970 are not supported", e))?;
    let d = Duration::from_secs(secs);
    if epoch < GENERALIZED_TIME_FROM {
        UtcTime::from_unix_duration(d)
            .map(Time::UtcTime)
            .map_err(|e| invalid("time", e))
    } else {
        GeneralizedTime::from_unix_duration(d)
            .map(Time::GeneralTime)
            .map_err(|e| invalid("time", e))
    }
}

fn any<'d>(what: &str, der: &'d [u8]) -> Result<AnyRef<'d>, Error> {
    AnyRef::from_der(der).map_err(|e| invalid(what, e))
}

fn alg_id(oid: &str, null_params: bool) -> Result<AlgId, Error> {
    let oid = ObjectIdentifier::new(oid).map_err(|e| invalid("OID", e))?;
    Ok(AlgId {
        oid,
        params: null_params.then_some(Null),
    })
}

/// The AlgorithmIdentifier parameters convention for each algorithm.
pub fn null_params(algorithm: SignatureAlgorithm) -> bool {
    matches!(
        algorithm,
        SignatureAlgorithm::RsaSha256
            | SignatureAlgorithm::RsaSha384
            | SignatureAlgorithm::RsaSha512
    )
}

/// Encode a TBSCertificate.
pub fn encode_tbs(parts: &TbsParts<'_>) -> Result<Vec<u8>, Error> {
    let ext_values: Vec<(ObjectIdentifier, bool, &OctetStringRef)> = parts
        .extensions
        .iter()
        .map(|e| {
            let oid = ObjectIdentifier::new(&e.oid).map_err(|err| invalid("extension OID", err))?;
            let value =
                OctetStringRef::new(&e.value).map_err(|err| invalid("extension value", err))?;
            Ok((oid, e.critical, value))
        })
        .collect::<Result<_, Error>>()?;
    let tbs = Tbs {
        version: (parts.version == 3).then_some(2),
        serial: UintRef::new(parts.serial).map_err(|e| invalid("serial", e))?,
        signature: alg_id(parts.signature_oid, parts.signature_null_params)?,
        issuer: any("issuer", parts.issuer)?,
        validity: Validity {
            not_before: time(parts.not_before)?,
            not_after: time(parts.not_after)?,
        },
        subject: any("subject", parts.subject)?,
        spki: any("spki", parts.spki)?,
        extensions: (!ext_values.is_empty()).then(|| {
            ext_values
                .into_iter()
                .map(|(oid, critical, value)| Ext {
                    oid,
                    critical,
                    value,
                })
                .collect()
        }),
    };
    tbs.to_der()
        .map_err(|e| invalid("encoding TBSCertificate", e))
}

/// Wrap a TBSCertificate and its signature into a Certificate.
pub fn encode_certificate(
    tbs: &[u8],
    signature_oid: &str,
    null_params: bool,
    signature: &[u8],
) -> Result<Vec<u8>, Error> {
    let cert = Cert {
        tbs: AnyRef::from_der(tbs).map_err(|e| invalid("TBSCertificate", e))?,
        algorithm: alg_id(signature_oid, null_params)?,
        signature: BitStringRef::from_bytes(signature).map_err(|e| invalid("signature", e))?,
    };
    cert.to_der()
        .map_err(|e| invalid("encoding Certificate", e))
}

/// PEM text of a DER certificate, 64-column lines, trailing newline (as AWS returns it).
pub fn certificate_pem(der: &[u8]) -> String {
    pem("CERTIFICATE", der)
}

/// RFC 7468 text encoding of `der` under `label` (`CERTIFICATE`, `PRIVATE KEY`, ...):
/// base64 in lines of 64 characters, with a trailing newline.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
