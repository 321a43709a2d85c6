//! Proof of possession and issuance.

use super::*;
use certgate_core::SignatureAlgorithm as A;

use crate::build::{certificate, csr, pem, IssuerRef, Spec};
use crate::keys::{keys, SigAlg, TestKey};
use crate::{AT, NOT_AFTER, NOT_BEFORE};

fn proof_case(
    name: &str,
    ca: &[u8],
    verification: &[u8],
    code_given: &str,
    code: Option<&'static str>,
) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::VerifyRegistrationProof {
            ca: b64(pem("CERTIFICATE", ca).as_bytes()),
            verification: b64(pem("CERTIFICATE", verification).as_bytes()),
            registration_code: code_given.to_owned(),
            at: AT,
        },
        code,
        fields: None,
    }
}

/// The registration code used by the proof cases (64 hex characters,
/// <https://docs.aws.amazon.com/iot/latest/apireference/API_GetRegistrationCode.html>).
pub const REGISTRATION_CODE: &str =
    "15c51ae5e36ba59ba77042df1115862076bea4bd15841c838fcb68d5010a614c";

pub(super) fn proof_cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let cn = format!("CN={REGISTRATION_CODE}");
    let good = certificate(&Spec::leaf(&cn, 70, RSA256), &k.p256, Some(&root_ref()));
    let wrong = certificate(
        &Spec::leaf("CN=0000", 71, RSA256),
        &k.p256,
        Some(&root_ref()),
    );
    let forged = certificate(
        &Spec::leaf(&cn, 72, RSA256),
        &k.p256,
        Some(&IssuerRef {
            subject: ROOT,
            key: &k.impostor,
        }),
    );
    vec![
        proof_case(
            "verification_certificate_with_registration_code_is_accepted",
            &p.root,
            &good,
            REGISTRATION_CODE,
            None,
        ),
        proof_case(
            "verification_certificate_with_other_code_is_denied",
            &p.root,
            &wrong,
            REGISTRATION_CODE,
            Some("REGISTRATION_CODE_MISMATCH"),
        ),
        proof_case(
            "verification_certificate_not_signed_by_ca_key_is_denied",
            &p.root,
            &forged,
            REGISTRATION_CODE,
            Some("BAD_SIGNATURE"),
        ),
        proof_case(
            "proof_for_non_ca_certificate_is_denied",
            &p.leaf_via_root,
            &good,
            REGISTRATION_CODE,
            Some("NOT_A_CA"),
        ),
    ]
}

pub(super) fn issue_cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let serial = b64(&[0x42; 20]);
    let root_pem = b64(pem("CERTIFICATE", &p.root).as_bytes());
    let root_key = b64(pem("PRIVATE KEY", &k.root.pkcs8()).as_bytes());
    let from_csr = |name: &str, csr: Vec<u8>, code: Option<&'static str>| Case {
        name: name.to_owned(),
        call: Call::IssueFromCsr {
            csr: b64(pem("CERTIFICATE REQUEST", &csr).as_bytes()),
            issuer_certificate: root_pem.clone(),
            issuer_key: root_key.clone(),
            serial: serial.clone(),
            not_before: AT,
        },
        code,
        fields: None,
    };
    let issue = |name: &str,
                 spki: Vec<u8>,
                 issuer_key: String,
                 serial: String,
                 code: Option<&'static str>| Case {
        name: name.to_owned(),
        call: Call::IssueCertificate {
            public_key: b64(pem("PUBLIC KEY", &spki).as_bytes()),
            issuer_certificate: root_pem.clone(),
            issuer_key,
            serial,
            not_before: AT,
        },
        code,
        fields: None,
    };
    let ca = |name: &str, key: &TestKey, code: Option<&'static str>| Case {
        name: name.to_owned(),
        call: Call::CreateIssuingCa {
            key: b64(pem("PRIVATE KEY", &key.pkcs8()).as_bytes()),
            subject: "CN=certgate issuing CA,O=certgate".to_owned(),
            serial: serial.clone(),
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
        },
        code,
        fields: None,
    };
    let other_key = b64(pem("PRIVATE KEY", &k.impostor.pkcs8()).as_bytes());
    vec![
        issue(
            "certificate_for_rsa_2048_key_is_accepted",
            k.leaf.spki(),
            root_key.clone(),
            serial.clone(),
            None,
        ),
        issue(
            "certificate_for_rsa_1024_key_is_denied",
            k.small.spki(),
            root_key.clone(),
            serial.clone(),
            Some("RSA_KEY_TOO_SMALL"),
        ),
        issue(
            "issuer_key_not_matching_issuer_certificate_is_denied",
            k.leaf.spki(),
            other_key,
            serial.clone(),
            Some("BAD_KEY"),
        ),
        issue(
            "serial_shorter_than_20_bytes_is_denied",
            k.leaf.spki(),
            root_key.clone(),
            b64(&[1; 8]),
            Some("INVALID_ARGUMENT"),
        ),
        from_csr(
            "csr_with_p256_key_is_accepted",
            csr(
                "CN=csr device,O=Example",
                &k.p256,
                &k.p256,
                SigAlg::Aws(A::EcdsaSha256),
            ),
            None,
        ),
        from_csr(
            "csr_with_p521_key_is_accepted",
            csr(
                "CN=csr device",
                &k.p521,
                &k.p521,
                SigAlg::Aws(A::EcdsaSha512),
            ),
            None,
        ),
        from_csr(
            "csr_with_rsa_2048_key_is_accepted",
            csr("CN=csr device", &k.leaf, &k.leaf, RSA256),
            None,
        ),
        from_csr(
            "csr_signed_by_another_key_is_denied",
            csr("CN=csr device", &k.leaf, &k.impostor, RSA256),
            Some("BAD_CSR"),
        ),
        from_csr(
            "csr_with_rsa_1024_key_is_denied",
            csr("CN=csr device", &k.small, &k.small, RSA256),
            Some("RSA_KEY_TOO_SMALL"),
        ),
        from_csr(
            "csr_with_dsa_key_is_denied",
            csr("CN=csr device", &k.dsa, &k.dsa, SigAlg::Aws(A::DsaSha256)),
            Some("UNSUPPORTED_PUBLIC_KEY"),
        ),
        ca("issuing_ca_for_rsa_key_is_accepted", &k.intermediate, None),
        ca("issuing_ca_for_p384_key_is_accepted", &k.p384, None),
        ca(
            "issuing_ca_for_rsa_1024_key_is_denied",
            &k.small,
            Some("RSA_KEY_TOO_SMALL"),
        ),
    ]
}
