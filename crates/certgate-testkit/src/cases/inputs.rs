//! Input handling: PEM and DER forms, limits, hostile bytes, inspect fields.

use super::*;
use certgate_core::SignatureAlgorithm as A;

use crate::build::{certificate, pem, IssuerRef, Spec};
use crate::keys::{keys, SigAlg};
use crate::{NOT_AFTER, NOT_BEFORE};

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

pub(super) fn cases(p: &Pki) -> Vec<Case> {
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
    // A DER certificate whose private extension holds another certificate's PEM text:
    // the input must be read as the outer certificate, never the embedded one.
    let mut carrier = Spec::leaf("CN=pem carrier", 83, SigAlg::Aws(A::RsaSha256));
    let embedded =
        der::asn1::OctetString::new(pem("CERTIFICATE", &p.root).into_bytes()).expect("octets");
    carrier.extra = vec![certgate_core::RawExtension {
        oid: "1.3.6.1.4.1.55555.2".into(),
        critical: false,
        value: der::Encode::to_der(&embedded).expect("encodes"),
    }];
    let carrier = certificate(
        &carrier,
        &k.leaf,
        Some(&IssuerRef {
            subject: ROOT,
            key: &k.root,
        }),
    );
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
        inspect_case(
            "der_certificate_carrying_pem_text_is_read_as_itself_is_accepted",
            carrier,
            None,
            Some(serde_json::json!({ "subject": "CN=pem carrier" })),
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
