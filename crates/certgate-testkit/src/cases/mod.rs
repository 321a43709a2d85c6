//! The rule catalogue: one case per behaviour, named as a sentence. The Rust tests
//! (`tests/rules.rs`) and the TS suite (`test/engine/fixtures.test.ts`, through
//! `test/fixtures/engine/cases.json`) run the same cases.

mod algorithms;
mod chains;
mod crls;
mod inputs;
mod names;
mod positions;
mod proofs;

use certgate_core::{RawExtension, SignatureAlgorithm as A};
use serde::Serialize;

use crate::build::{certificate, IssuerRef, Spec};
use crate::keys::{keys, SigAlg, TestKey};
use crate::AT;

pub use proofs::REGISTRATION_CODE;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One engine call with its arguments (bytes as base64).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "method", rename_all = "camelCase")]
pub enum Call {
    /// `inspect(input)`.
    Inspect {
        /// Input bytes.
        input: String,
    },
    /// `inspectChain(input)`.
    InspectChain {
        /// Input bytes.
        input: String,
    },
    /// `verifyChain(leaf, intermediates, anchors, at, eku)`.
    #[serde(rename_all = "camelCase")]
    VerifyChain {
        /// Leaf bytes.
        leaf: String,
        /// Intermediates.
        intermediates: Vec<String>,
        /// Anchors.
        anchors: Vec<String>,
        /// Epoch seconds.
        at: i64,
        /// `client` | `any`.
        eku: String,
    },
    /// `verifyRegistrationProof(ca, verification, registrationCode, at)`.
    #[serde(rename_all = "camelCase")]
    VerifyRegistrationProof {
        /// CA bytes.
        ca: String,
        /// Verification certificate bytes.
        verification: String,
        /// The account's code.
        registration_code: String,
        /// Epoch seconds.
        at: i64,
    },
    /// `issueFromCsr(csr, issuerCertificate, issuerKey, serial, notBefore)`.
    #[serde(rename_all = "camelCase")]
    IssueFromCsr {
        /// CSR bytes.
        csr: String,
        /// Issuer certificate.
        issuer_certificate: String,
        /// Issuer PKCS#8 key.
        issuer_key: String,
        /// 20 bytes.
        serial: String,
        /// Epoch seconds.
        not_before: i64,
    },
    /// `issueCertificate(publicKey, issuerCertificate, issuerKey, serial, notBefore)`.
    #[serde(rename_all = "camelCase")]
    IssueCertificate {
        /// SPKI bytes.
        public_key: String,
        /// Issuer certificate.
        issuer_certificate: String,
        /// Issuer PKCS#8 key.
        issuer_key: String,
        /// 20 bytes.
        serial: String,
        /// Epoch seconds.
        not_before: i64,
    },
    /// `createIssuingCa(key, subject, serial, notBefore, notAfter)`.
    #[serde(rename_all = "camelCase")]
    CreateIssuingCa {
        /// PKCS#8 key.
        key: String,
        /// RFC 4514 subject.
        subject: String,
        /// 20 bytes.
        serial: String,
        /// Epoch seconds.
        not_before: i64,
        /// Epoch seconds.
        not_after: i64,
    },
    /// `verifyCrl(crl, ca, at, previousNumber)`.
    #[serde(rename_all = "camelCase")]
    VerifyCrl {
        /// CRL bytes (DER, or PEM with the delegated signer's certificate).
        crl: String,
        /// CA certificate bytes.
        ca: String,
        /// Epoch seconds.
        at: i64,
        /// The current CRL's number (decimal), or null.
        previous_number: Option<String>,
    },
}

/// A named case and its expected outcome: `None` accepted, `Some(code)` refused.
#[derive(Clone, Debug, Serialize)]
pub struct Case {
    /// Behaviour sentence (`..._is_accepted` / `..._is_denied`).
    pub name: String,
    /// The call.
    pub call: Call,
    /// Expected refusal code; absent when the call must succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// Fields the successful result must contain, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<serde_json::Value>,
}

pub(crate) struct Pki {
    pub(crate) root: Vec<u8>,
    pub(crate) intermediate: Vec<u8>,
    pub(crate) leaf_via_intermediate: Vec<u8>,
    pub(crate) leaf_via_root: Vec<u8>,
}

pub(crate) const ROOT: &str = "CN=certgate test root,O=certgate";
pub(crate) const INTERMEDIATE: &str = "CN=certgate test intermediate,O=certgate";
pub(crate) const RSA256: SigAlg = SigAlg::Aws(A::RsaSha256);

pub(crate) fn root_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: ROOT,
        key: &keys().root,
    }
}

pub(crate) fn int_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: INTERMEDIATE,
        key: &keys().intermediate,
    }
}

pub(crate) fn pki() -> Pki {
    let k = keys();
    let root = certificate(&Spec::ca(ROOT, 1, RSA256), &k.root, None);
    let mut int_spec = Spec::ca(INTERMEDIATE, 2, RSA256);
    int_spec.basic_constraints = Some((true, Some(0)));
    let intermediate = certificate(&int_spec, &k.intermediate, Some(&root_ref()));
    let leaf_via_intermediate = certificate(
        &Spec::leaf("CN=device-1", 3, RSA256),
        &k.leaf,
        Some(&int_ref()),
    );
    let leaf_via_root = certificate(
        &Spec::leaf("CN=device-2", 4, RSA256),
        &k.leaf,
        Some(&root_ref()),
    );
    Pki {
        root,
        intermediate,
        leaf_via_intermediate,
        leaf_via_root,
    }
}

pub(crate) fn chain(
    name: &str,
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchors: &[&[u8]],
    code: Option<&'static str>,
) -> Case {
    chain_at(name, leaf, intermediates, anchors, AT, "client", code)
}

pub(crate) fn chain_at(
    name: &str,
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchors: &[&[u8]],
    at: i64,
    eku: &str,
    code: Option<&'static str>,
) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::VerifyChain {
            leaf: b64(leaf),
            intermediates: intermediates.iter().map(|d| b64(d)).collect(),
            anchors: anchors.iter().map(|d| b64(d)).collect(),
            at,
            eku: eku.to_owned(),
        },
        code,
        fields: None,
    }
}

/// A CA of `key` signing a leaf of `leaf_key` with `alg`; the case expects `code`.
pub(crate) fn algorithm_case(
    name: &str,
    ca_key: &'static TestKey,
    leaf_key: &TestKey,
    alg: SigAlg,
    code: Option<&'static str>,
) -> Case {
    let subject = "CN=certgate algorithm CA";
    let ca_alg = match ca_key {
        TestKey::Rsa(_) => RSA256,
        TestKey::P256(_) => SigAlg::Aws(A::EcdsaSha256),
        TestKey::P384(_) => SigAlg::Aws(A::EcdsaSha384),
        TestKey::P521(_) => SigAlg::Aws(A::EcdsaSha512),
        TestKey::Dsa(_) => SigAlg::Aws(A::DsaSha256),
    };
    let ca = certificate(&Spec::ca(subject, 10, ca_alg), ca_key, None);
    let leaf = certificate(
        &Spec::leaf("CN=algorithm device", 11, alg),
        leaf_key,
        Some(&IssuerRef {
            subject,
            key: ca_key,
        }),
    );
    chain(name, &leaf, &[], &[&ca], code)
}

pub fn all() -> Vec<Case> {
    let p = pki();
    let mut cases = chains::cases(&p);
    cases.extend(algorithms::cases());
    cases.extend(proofs::proof_cases(&p));
    cases.extend(proofs::issue_cases(&p));
    cases.extend(inputs::cases(&p));
    cases.extend(names::cases());
    cases.extend(positions::cases(&p));
    cases.extend(crls::cases(&p));
    cases
}
