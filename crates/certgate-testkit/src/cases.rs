//! The rule catalogue: one case per behaviour, named as a sentence. The Rust tests
//! (`tests/rules.rs`) and the TS suite (`test/engine/fixtures.test.ts`, through
//! `test/fixtures/engine/cases.json`) run the same cases.

use certgate_core::SignatureAlgorithm as A;
use serde::Serialize;
use x509_cert::ext::pkix::KeyUsages;

use crate::build::{certificate, csr, pem, IssuerRef, Spec, SERVER_AUTH};
use crate::keys::{keys, SigAlg, TestKey};
use crate::{AT, NOT_AFTER, NOT_BEFORE};

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

struct Pki {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf_via_intermediate: Vec<u8>,
    leaf_via_root: Vec<u8>,
}

const ROOT: &str = "CN=certgate test root,O=certgate";
const INTERMEDIATE: &str = "CN=certgate test intermediate,O=certgate";
const RSA256: SigAlg = SigAlg::Aws(A::RsaSha256);

fn root_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: ROOT,
        key: &keys().root,
    }
}

fn int_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: INTERMEDIATE,
        key: &keys().intermediate,
    }
}

fn pki() -> Pki {
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

fn chain(
    name: &str,
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchors: &[&[u8]],
    code: Option<&'static str>,
) -> Case {
    chain_at(name, leaf, intermediates, anchors, AT, "client", code)
}

fn chain_at(
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
fn algorithm_case(
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

fn chain_cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let mut cases = vec![
        chain(
            "leaf_signed_by_registered_ca_is_accepted",
            &p.leaf_via_root,
            &[],
            &[&p.root],
            None,
        ),
        chain(
            "leaf_with_intermediate_up_to_registered_root_is_accepted",
            &p.leaf_via_intermediate,
            &[&p.intermediate],
            &[&p.root],
            None,
        ),
        chain(
            "registered_intermediate_as_anchor_is_accepted",
            &p.leaf_via_intermediate,
            &[],
            &[&p.intermediate],
            None,
        ),
        chain(
            "leaf_alone_without_its_intermediate_is_denied",
            &p.leaf_via_intermediate,
            &[],
            &[&p.root],
            Some("UNKNOWN_ISSUER"),
        ),
        chain(
            "leaf_with_no_anchors_is_denied",
            &p.leaf_via_root,
            &[],
            &[],
            Some("UNKNOWN_ISSUER"),
        ),
    ];
    let mut bundle = pem("CERTIFICATE", &p.leaf_via_intermediate);
    bundle.push_str(&pem("CERTIFICATE", &p.intermediate));
    cases.push(chain(
        "leaf_pem_bundle_with_its_intermediate_is_accepted",
        bundle.as_bytes(),
        &[],
        &[&p.root],
        None,
    ));
    let impostor = certificate(&Spec::ca(ROOT, 20, RSA256), &k.impostor, None);
    cases.push(chain(
        "leaf_under_ca_with_same_subject_but_other_key_is_denied",
        &p.leaf_via_root,
        &[],
        &[&impostor],
        Some("BAD_SIGNATURE"),
    ));
    cases.push(chain(
        "leaf_checked_against_impostor_and_real_ca_is_accepted",
        &p.leaf_via_root,
        &[],
        &[&impostor, &p.root],
        None,
    ));
    let other = certificate(
        &Spec::ca("CN=someone else's CA", 21, RSA256),
        &k.impostor,
        None,
    );
    cases.push(chain(
        "leaf_signed_by_unregistered_ca_is_denied",
        &p.leaf_via_root,
        &[],
        &[&other],
        Some("UNKNOWN_ISSUER"),
    ));
    // Validity.
    let mut expired = Spec::leaf("CN=expired device", 30, RSA256);
    expired.not_after = AT - 1;
    let expired = certificate(&expired, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "expired_leaf_is_denied",
        &expired,
        &[],
        &[&p.root],
        Some("EXPIRED"),
    ));
    let mut early = Spec::leaf("CN=early device", 31, RSA256);
    early.not_before = AT + 1;
    let early = certificate(&early, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "not_yet_valid_leaf_is_denied",
        &early,
        &[],
        &[&p.root],
        Some("NOT_YET_VALID"),
    ));
    cases.push(chain_at(
        "leaf_checked_at_its_last_valid_second_is_accepted",
        &p.leaf_via_root,
        &[],
        &[&p.root],
        NOT_AFTER,
        "client",
        None,
    ));
    cases.push(chain_at(
        "leaf_checked_one_second_after_expiry_is_denied",
        &p.leaf_via_root,
        &[],
        &[&p.root],
        NOT_AFTER + 1,
        "client",
        Some("EXPIRED"),
    ));
    let mut old_int = Spec::ca(INTERMEDIATE, 32, RSA256);
    old_int.not_after = AT - 1;
    let old_int = certificate(&old_int, &k.intermediate, Some(&root_ref()));
    cases.push(chain(
        "expired_intermediate_is_denied",
        &p.leaf_via_intermediate,
        &[&old_int],
        &[&p.root],
        Some("EXPIRED"),
    ));
    let mut old_root = Spec::ca(ROOT, 33, RSA256);
    old_root.not_after = AT - 1;
    let old_root = certificate(&old_root, &k.root, None);
    cases.push(chain(
        "expired_registered_ca_is_denied",
        &p.leaf_via_root,
        &[],
        &[&old_root],
        Some("EXPIRED"),
    ));
    // earliest notAfter on the path
    let mut short_int = Spec::ca(INTERMEDIATE, 34, RSA256);
    short_int.not_after = NOT_AFTER - 86_400;
    let short_int = certificate(&short_int, &k.intermediate, Some(&root_ref()));
    let mut case = chain(
        "path_reports_earliest_not_after_is_accepted",
        &p.leaf_via_intermediate,
        &[&short_int],
        &[&p.root],
        None,
    );
    case.fields = Some(serde_json::json!({ "notAfter": NOT_AFTER - 86_400 }));
    cases.push(case);
    // CA constraints.
    let mut not_ca = Spec::leaf(INTERMEDIATE, 40, RSA256);
    not_ca.eku = None;
    let not_ca = certificate(&not_ca, &k.intermediate, Some(&root_ref()));
    cases.push(chain(
        "leaf_issued_by_non_ca_certificate_is_denied",
        &p.leaf_via_intermediate,
        &[&not_ca],
        &[&p.root],
        Some("NOT_A_CA"),
    ));
    cases.push(chain(
        "non_ca_registered_as_anchor_is_denied",
        &p.leaf_via_intermediate,
        &[],
        &[&not_ca],
        Some("NOT_A_CA"),
    ));
    let sub_subject = "CN=certgate test sub-intermediate";
    let sub = certificate(
        &Spec::ca(sub_subject, 41, RSA256),
        &k.p256,
        Some(&int_ref()),
    );
    let sub_leaf = certificate(
        &Spec::leaf("CN=deep device", 42, SigAlg::Aws(A::EcdsaSha256)),
        &k.leaf,
        Some(&IssuerRef {
            subject: sub_subject,
            key: &k.p256,
        }),
    );
    cases.push(chain(
        "intermediate_below_path_length_zero_ca_is_denied",
        &sub_leaf,
        &[&sub, &p.intermediate],
        &[&p.root],
        Some("PATH_LENGTH_EXCEEDED"),
    ));
    cases.push(chain(
        "sub_ca_below_path_length_zero_anchor_is_denied",
        &sub_leaf,
        &[&sub],
        &[&p.intermediate],
        Some("PATH_LENGTH_EXCEEDED"),
    ));
    let mut no_sign = Spec::ca(INTERMEDIATE, 43, RSA256);
    no_sign.key_usages = Some(vec![KeyUsages::DigitalSignature]);
    let no_sign = certificate(&no_sign, &k.intermediate, Some(&root_ref()));
    cases.push(chain(
        "issuer_without_key_cert_sign_is_denied",
        &p.leaf_via_intermediate,
        &[&no_sign],
        &[&p.root],
        Some("MISSING_KEY_CERT_SIGN"),
    ));
    // Name constraints.
    let nc_subject = "CN=certgate constrained CA";
    let mut nc = Spec::ca(nc_subject, 50, RSA256);
    nc.permitted_dns = vec!["devices.example.com".to_owned()];
    nc.excluded_dns = vec!["blocked.devices.example.com".to_owned()];
    let nc = certificate(&nc, &k.intermediate, None);
    let nc_ref = IssuerRef {
        subject: nc_subject,
        key: &k.intermediate,
    };
    for (name, dns, code) in [
        (
            "leaf_inside_permitted_subtree_is_accepted",
            "a.devices.example.com",
            None,
        ),
        (
            "leaf_outside_permitted_subtree_is_denied",
            "a.other.example.com",
            Some("NAME_CONSTRAINT_VIOLATION"),
        ),
        (
            "leaf_inside_excluded_subtree_is_denied",
            "x.blocked.devices.example.com",
            Some("NAME_CONSTRAINT_VIOLATION"),
        ),
    ] {
        let mut spec = Spec::leaf("CN=constrained device", 51, RSA256);
        spec.dns_names = vec![dns.to_owned()];
        let leaf = certificate(&spec, &k.leaf, Some(&nc_ref));
        cases.push(chain(name, &leaf, &[], &[&nc], code));
    }
    // Critical extensions and EKU.
    let mut critical = Spec::leaf("CN=critical device", 60, RSA256);
    critical.extra = vec![certgate_core::RawExtension {
        oid: "1.3.6.1.4.1.55555.1".into(),
        critical: true,
        value: vec![0x05, 0x00],
    }];
    let critical = certificate(&critical, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "leaf_with_unknown_critical_extension_is_denied",
        &critical,
        &[],
        &[&p.root],
        Some("UNSUPPORTED_CRITICAL_EXTENSION"),
    ));
    let mut server = Spec::leaf("CN=server only", 61, RSA256);
    server.eku = Some(vec![SERVER_AUTH]);
    let server = certificate(&server, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "server_only_leaf_under_client_policy_is_denied",
        &server,
        &[],
        &[&p.root],
        Some("CLIENT_AUTH_NOT_PERMITTED"),
    ));
    cases.push(chain_at(
        "server_only_leaf_under_any_policy_is_accepted",
        &server,
        &[],
        &[&p.root],
        AT,
        "any",
        None,
    ));
    let mut no_eku = Spec::leaf("CN=no eku", 62, RSA256);
    no_eku.eku = None;
    let no_eku = certificate(&no_eku, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "leaf_without_eku_under_client_policy_is_accepted",
        &no_eku,
        &[],
        &[&p.root],
        None,
    ));
    cases.push(chain_at(
        "unknown_eku_policy_name_is_denied",
        &no_eku,
        &[],
        &[&p.root],
        AT,
        "server",
        Some("INVALID_ARGUMENT"),
    ));
    cases
}

fn algorithm_cases() -> Vec<Case> {
    let k = keys();
    vec![
        algorithm_case(
            "sha256_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            RSA256,
            None,
        ),
        algorithm_case(
            "sha384_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            SigAlg::Aws(A::RsaSha384),
            None,
        ),
        algorithm_case(
            "sha512_with_rsa_is_accepted",
            &k.root,
            &k.leaf,
            SigAlg::Aws(A::RsaSha512),
            None,
        ),
        algorithm_case(
            "dsa_with_sha256_is_accepted",
            &k.dsa,
            &k.p256,
            SigAlg::Aws(A::DsaSha256),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha256_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha256),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha384_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha384),
            None,
        ),
        algorithm_case(
            "ecdsa_p256_with_sha512_is_accepted",
            &k.p256,
            &k.p256,
            SigAlg::Aws(A::EcdsaSha512),
            None,
        ),
        algorithm_case(
            "ecdsa_p384_with_sha384_is_accepted",
            &k.p384,
            &k.p384,
            SigAlg::Aws(A::EcdsaSha384),
            None,
        ),
        algorithm_case(
            "ecdsa_p521_with_sha512_is_accepted",
            &k.p521,
            &k.p521,
            SigAlg::Aws(A::EcdsaSha512),
            None,
        ),
        algorithm_case(
            "sha1_with_rsa_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaSha1,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "md5_with_rsa_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaMd5OidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "rsa_pss_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::RsaPssOidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "ed25519_is_denied",
            &k.root,
            &k.leaf,
            SigAlg::Ed25519OidOnly,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        algorithm_case(
            "ca_with_rsa_1024_key_is_denied",
            &k.small,
            &k.leaf,
            RSA256,
            Some("RSA_KEY_TOO_SMALL"),
        ),
        algorithm_case(
            "leaf_with_rsa_1024_key_is_denied",
            &k.root,
            &k.small,
            RSA256,
            Some("RSA_KEY_TOO_SMALL"),
        ),
        mismatch_case(),
        tampered_case(),
    ]
}

/// An EC CA whose certificate claims an RSA signature on the leaf.
fn mismatch_case() -> Case {
    let k = keys();
    let subject = "CN=certgate mismatch CA";
    let ca = certificate(
        &Spec::ca(subject, 12, SigAlg::Aws(A::EcdsaSha256)),
        &k.p256,
        None,
    );
    // Sign with the RSA root key but name the EC CA as issuer.
    let leaf = certificate(
        &Spec::leaf("CN=mismatch device", 13, RSA256),
        &k.leaf,
        Some(&IssuerRef {
            subject,
            key: &k.root,
        }),
    );
    chain(
        "ec_ca_with_rsa_signature_is_denied",
        &leaf,
        &[],
        &[&ca],
        Some("KEY_ALGORITHM_MISMATCH"),
    )
}

fn tampered_case() -> Case {
    let p = pki();
    let mut leaf = p.leaf_via_root.clone();
    let last = leaf.len() - 1;
    leaf[last] ^= 0x01;
    chain(
        "leaf_with_tampered_signature_is_denied",
        &leaf,
        &[],
        &[&p.root],
        Some("BAD_SIGNATURE"),
    )
}

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

/// The registration code used by the proof cases (64 hex characters, spec section 2).
pub const REGISTRATION_CODE: &str =
    "15c51ae5e36ba59ba77042df1115862076bea4bd15841c838fcb68d5010a614c";

fn proof_cases(p: &Pki) -> Vec<Case> {
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

fn issue_cases(p: &Pki) -> Vec<Case> {
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

fn inspect_case(
    name: &str,
    input: Vec<u8>,
    code: Option<&'static str>,
    fields: Option<serde_json::Value>,
) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::Inspect { input: b64(&input) },
        code,
        fields,
    }
}

fn input_cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let mut san = Spec::leaf(
        "CN=device-3,O=Example\\, Inc.",
        80,
        SigAlg::Aws(A::EcdsaSha384),
    );
    san.dns_names = vec!["device-3.example.com".to_owned()];
    let san = certificate(
        &san,
        &k.p256,
        Some(&IssuerRef {
            subject: ROOT,
            key: &k.p384,
        }),
    );
    let crlf = pem("CERTIFICATE", &san).replace('\n', "\r\n");
    let mut truncated = p.root.clone();
    truncated.truncate(truncated.len() / 2);
    let mut non_utf8 = pem("CERTIFICATE", &p.root).into_bytes();
    non_utf8.insert(40, 0xff);
    // A SEQUENCE claiming a 2 GiB length, and 200 nested indefinite-length SEQUENCEs.
    let huge = vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00];
    let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
    // Past 65,536 characters: about 60 copies of a 1.1 KB PEM certificate.
    let oversized = pem("CERTIFICATE", &p.root).repeat(60);
    vec![
        inspect_case(
            "pem_with_crlf_and_surrounding_text_is_accepted",
            format!("Subject: device-3\r\n{crlf}trailing text\r\n").into_bytes(),
            None,
            Some(serde_json::json!({
                "subject": "CN=device-3,O=Example\\, Inc.",
                "signatureAlgorithm": "ECDSA-WITH-SHA384",
                "publicKey": { "type": "EC", "bits": 256, "curve": "P-256" },
                "subjectAltNames": [{ "type": "dns", "value": "device-3.example.com" }],
                "extendedKeyUsage": ["clientAuth"],
                "keyUsage": ["digitalSignature"],
                "basicConstraints": { "ca": false, "pathLen": null, "critical": true },
                "notBefore": NOT_BEFORE,
                "notAfter": NOT_AFTER,
                "serialNumber": "50",
            })),
        ),
        inspect_case(
            "der_certificate_is_accepted",
            p.root.clone(),
            None,
            Some(serde_json::json!({ "publicKey": { "type": "RSA", "bits": 2048 } })),
        ),
        inspect_case("truncated_der_is_denied", truncated, Some("BAD_DER"), None),
        inspect_case(
            "der_with_huge_length_is_denied",
            huge,
            Some("BAD_DER"),
            None,
        ),
        inspect_case("deeply_nested_der_is_denied", deep, Some("BAD_DER"), None),
        inspect_case("non_utf8_pem_is_denied", non_utf8, Some("BAD_PEM"), None),
        inspect_case(
            "pem_over_65536_characters_is_denied",
            oversized.into_bytes(),
            Some("PEM_TOO_LARGE"),
            None,
        ),
        inspect_case(
            "text_without_certificate_is_denied",
            b"hello".to_vec(),
            Some("NO_CERTIFICATE"),
            None,
        ),
        inspect_case(
            "dsa_certificate_reports_dsa_key_is_accepted",
            certificate(
                &Spec::ca("CN=dsa", 81, SigAlg::Aws(A::DsaSha256)),
                &k.dsa,
                None,
            ),
            None,
            Some(
                serde_json::json!({ "publicKey": { "type": "DSA", "bits": 2048 }, "signatureAlgorithm": "DSA_WITH_SHA256" }),
            ),
        ),
        inspect_case(
            "sha1_certificate_reports_unsupported_algorithm_is_accepted",
            certificate(
                &Spec::leaf("CN=sha1", 82, SigAlg::RsaSha1),
                &k.leaf,
                Some(&root_ref()),
            ),
            None,
            Some(
                serde_json::json!({ "signatureAlgorithm": "UNSUPPORTED", "signatureAlgorithmOid": "1.2.840.113549.1.1.5" }),
            ),
        ),
        Case {
            name: "pem_bundle_inspects_every_certificate_is_accepted".to_owned(),
            call: Call::InspectChain {
                input: b64(format!(
                    "{}{}",
                    pem("CERTIFICATE", &p.leaf_via_intermediate),
                    pem("CERTIFICATE", &p.intermediate)
                )
                .as_bytes()),
            },
            code: None,
            fields: None,
        },
        chain(
            "seventeen_intermediates_are_denied",
            &p.leaf_via_root,
            &[p.intermediate.as_slice(); 17],
            &[&p.root],
            Some("TOO_MANY_CERTIFICATES"),
        ),
    ]
}

/// Every case, in a stable order.
pub fn all() -> Vec<Case> {
    let p = pki();
    let mut cases = chain_cases(&p);
    cases.extend(algorithm_cases());
    cases.extend(proof_cases(&p));
    cases.extend(issue_cases(&p));
    cases.extend(input_cases(&p));
    cases
}
