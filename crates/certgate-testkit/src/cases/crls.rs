//! Certificate revocation lists of a registered CA (RFC 5280 section 5 and 6.3).

use super::*;
use certgate_core::RawExtension;
use x509_cert::ext::pkix::KeyUsages;

use crate::build::{certificate, pem, IssuerRef, Spec};
use crate::crl::{crl, CrlSpec};
use crate::keys::{keys, SigAlg, TestKey};
use crate::{AT, NOT_AFTER, NOT_BEFORE};

fn crl_case(
    name: &str,
    crl: &[u8],
    ca: &[u8],
    previous: Option<&str>,
    code: Option<&'static str>,
) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::VerifyCrl {
            crl: b64(crl),
            ca: b64(ca),
            at: AT,
            previous_number: previous.map(str::to_owned),
        },
        code,
        fields: None,
    }
}

fn ext(oid: &str, critical: bool, value: &[u8]) -> RawExtension {
    RawExtension {
        oid: oid.to_owned(),
        critical,
        value: value.to_vec(),
    }
}

fn signed(spec: &CrlSpec, key: &TestKey) -> Vec<u8> {
    crl(spec, key)
}

/// A delegated signer certificate with the root's name, issued by `issuer_key`.
fn signer(
    serial: u64,
    usages: Vec<KeyUsages>,
    not_after: i64,
    issuer_key: &'static TestKey,
) -> Vec<u8> {
    let mut spec = Spec::leaf(ROOT, serial, RSA256);
    spec.basic_constraints = None;
    spec.eku = None;
    spec.key_usage = None;
    spec.key_usages = Some(usages);
    spec.not_after = not_after;
    certificate(
        &spec,
        &keys().intermediate,
        Some(&IssuerRef {
            subject: ROOT,
            key: issuer_key,
        }),
    )
}

fn with_signer(crl_der: &[u8], signer: &[u8]) -> Vec<u8> {
    format!("{}{}", pem("X509 CRL", crl_der), pem("CERTIFICATE", signer)).into_bytes()
}

pub(super) fn cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let base = CrlSpec::new(ROOT, 5, &[3, 4, 0x80, 0x0102_0304_0506], RSA256);
    let good = signed(&base, &k.root);
    let mut accepted = crl_case(
        "crl_signed_by_its_ca_is_accepted",
        &good,
        &p.root,
        Some("4"),
        None,
    );
    accepted.fields = Some(serde_json::json!({
        "crlNumber": "5",
        "thisUpdate": base.this_update,
        "nextUpdate": base.next_update,
        "signatureAlgorithm": "SHA256WITHRSA",
        "revokedSerials": ["03", "04", "0080", "010203040506"],
    }));
    let mut empty = base.clone();
    empty.revoked.clear();
    empty.number = None;
    empty.next_update = None;
    let mut empty_case = crl_case(
        "crl_without_entries_number_or_next_update_is_accepted",
        &signed(&empty, &k.root),
        &p.root,
        None,
        None,
    );
    empty_case.fields =
        Some(serde_json::json!({ "crlNumber": null, "nextUpdate": null, "revokedSerials": [] }));

    let mut stale = base.clone();
    stale.this_update = NOT_BEFORE;
    stale.next_update = Some(NOT_BEFORE + 86_400);
    let mut stale_case = crl_case(
        "crl_past_its_next_update_is_accepted",
        &signed(&stale, &k.root),
        &p.root,
        None,
        None,
    );
    stale_case.fields = Some(serde_json::json!({ "nextUpdate": NOT_BEFORE + 86_400 }));

    let delegate = signer(90, vec![KeyUsages::CRLSign], NOT_AFTER, &k.root);
    let no_crl_sign = signer(91, vec![KeyUsages::DigitalSignature], NOT_AFTER, &k.root);
    let expired_delegate = signer(92, vec![KeyUsages::CRLSign], AT - 1, &k.root);
    let foreign_delegate = signer(93, vec![KeyUsages::CRLSign], NOT_AFTER, &k.impostor);
    let by_delegate = signed(&base, &k.intermediate);
    let mut delegated = crl_case(
        "crl_signed_by_a_delegated_signer_the_ca_issued_is_accepted",
        &with_signer(&by_delegate, &delegate),
        &p.root,
        None,
        None,
    );
    delegated.fields = Some(serde_json::json!({ "crlNumber": "5" }));

    let mut ca_no_crl_sign_spec = Spec::ca(
        "CN=certgate no-crl-sign CA",
        94,
        SigAlg::Aws(certgate_core::SignatureAlgorithm::EcdsaSha256),
    );
    ca_no_crl_sign_spec.key_usages = Some(vec![KeyUsages::KeyCertSign]);
    let ca_no_crl_sign = certificate(&ca_no_crl_sign_spec, &k.p256, None);

    let mut tampered = good.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[0, 0]);

    let variant = |f: &dyn Fn(&mut CrlSpec)| {
        let mut spec = base.clone();
        f(&mut spec);
        signed(&spec, &k.root)
    };
    let idp = variant(&|s| {
        s.extensions
            .push(ext("2.5.29.28", true, &[0x30, 0x03, 0x81, 0x01, 0xff]))
    });
    let delta = variant(&|s| {
        s.extensions
            .push(ext("2.5.29.27", true, &[0x02, 0x01, 0x04]))
    });
    let unknown_critical = variant(&|s| {
        s.extensions
            .push(ext("1.3.6.1.4.1.99999.1", true, &[0x05, 0x00]))
    });
    let unknown_plain = variant(&|s| {
        s.extensions
            .push(ext("1.3.6.1.4.1.99999.1", false, &[0x05, 0x00]))
    });
    let entry_critical = variant(&|s| {
        s.first_entry_extensions
            .push(ext("1.3.6.1.4.1.99999.2", true, &[0x05, 0x00]))
    });
    // certificateIssuer: GeneralNames with one dNSName.
    let entry_issuer = variant(&|s| {
        s.first_entry_extensions
            .push(ext("2.5.29.29", true, &[0x30, 0x03, 0x82, 0x01, 0x61]))
    });
    let remove_from_crl = variant(&|s| {
        s.first_entry_extensions
            .push(ext("2.5.29.21", false, &[0x0a, 0x01, 0x08]))
    });
    let key_compromise = variant(&|s| {
        s.first_entry_extensions
            .push(ext("2.5.29.21", false, &[0x0a, 0x01, 0x01]))
    });
    let sha1 = variant(&|s| s.alg = SigAlg::RsaSha1);
    let mut ec_spec = CrlSpec::new(
        "CN=certgate algorithm CA",
        1,
        &[11],
        SigAlg::Aws(certgate_core::SignatureAlgorithm::EcdsaSha384),
    );
    ec_spec.number = Some(1);
    let ec_ca = certificate(
        &Spec::ca(
            "CN=certgate algorithm CA",
            10,
            SigAlg::Aws(certgate_core::SignatureAlgorithm::EcdsaSha256),
        ),
        &k.p256,
        None,
    );

    vec![
        accepted,
        crl_case(
            "crl_in_pem_is_accepted",
            pem("X509 CRL", &good).as_bytes(),
            pem("CERTIFICATE", &p.root).as_bytes(),
            None,
            None,
        ),
        empty_case,
        stale_case,
        crl_case(
            "crl_number_equal_to_the_previous_is_accepted",
            &good,
            &p.root,
            Some("5"),
            None,
        ),
        crl_case(
            "crl_number_lower_than_the_previous_is_denied",
            &good,
            &p.root,
            Some("6"),
            Some("CRL_NUMBER_REGRESSED"),
        ),
        crl_case(
            "crl_without_number_after_a_numbered_crl_is_denied",
            &signed(&empty, &k.root),
            &p.root,
            Some("1"),
            Some("CRL_NUMBER_REGRESSED"),
        ),
        crl_case(
            "non_decimal_previous_crl_number_is_denied",
            &good,
            &p.root,
            Some("0x05"),
            Some("INVALID_ARGUMENT"),
        ),
        delegated,
        crl_case(
            "crl_signed_by_a_delegated_signer_without_crl_sign_is_denied",
            &with_signer(&by_delegate, &no_crl_sign),
            &p.root,
            None,
            Some("CRL_SIGNER_NOT_AUTHORIZED"),
        ),
        crl_case(
            "crl_signed_by_an_expired_delegated_signer_is_denied",
            &with_signer(&by_delegate, &expired_delegate),
            &p.root,
            None,
            Some("CRL_SIGNER_NOT_AUTHORIZED"),
        ),
        crl_case(
            "crl_signed_by_a_signer_the_ca_did_not_issue_is_denied",
            &with_signer(&by_delegate, &foreign_delegate),
            &p.root,
            None,
            Some("CRL_SIGNER_NOT_AUTHORIZED"),
        ),
        crl_case(
            "crl_signed_by_another_key_without_its_certificate_is_denied",
            &by_delegate,
            &p.root,
            None,
            Some("BAD_SIGNATURE"),
        ),
        crl_case(
            "crl_of_another_ca_is_denied",
            &good,
            &p.intermediate,
            None,
            Some("CRL_ISSUER_MISMATCH"),
        ),
        crl_case(
            "crl_from_a_ca_without_crl_sign_is_denied",
            &signed(
                &CrlSpec::new(
                    "CN=certgate no-crl-sign CA",
                    1,
                    &[1],
                    SigAlg::Aws(certgate_core::SignatureAlgorithm::EcdsaSha256),
                ),
                &k.p256,
            ),
            &ca_no_crl_sign,
            None,
            Some("CRL_SIGNER_NOT_AUTHORIZED"),
        ),
        crl_case(
            "crl_signed_with_ecdsa_p256_sha384_is_accepted",
            &signed(&ec_spec, &k.p256),
            &ec_ca,
            None,
            None,
        ),
        crl_case(
            "crl_with_tampered_signature_is_denied",
            &tampered,
            &p.root,
            None,
            Some("BAD_SIGNATURE"),
        ),
        crl_case(
            "crl_signed_with_sha1_is_denied",
            &sha1,
            &p.root,
            None,
            Some("UNSUPPORTED_SIGNATURE_ALGORITHM"),
        ),
        crl_case(
            "crl_with_trailing_bytes_is_denied",
            &trailing,
            &p.root,
            None,
            Some("BAD_CRL"),
        ),
        crl_case(
            "certificate_given_as_crl_is_denied",
            &p.leaf_via_root,
            &p.root,
            None,
            Some("BAD_CRL"),
        ),
        crl_case(
            "pem_without_a_crl_block_is_denied",
            pem("CERTIFICATE", &p.root).as_bytes(),
            &p.root,
            None,
            Some("BAD_CRL"),
        ),
        crl_case(
            "crl_with_issuing_distribution_point_is_denied",
            &idp,
            &p.root,
            None,
            Some("CRL_SCOPE_UNSUPPORTED"),
        ),
        crl_case(
            "delta_crl_is_denied",
            &delta,
            &p.root,
            None,
            Some("CRL_SCOPE_UNSUPPORTED"),
        ),
        crl_case(
            "crl_entry_with_certificate_issuer_is_denied",
            &entry_issuer,
            &p.root,
            None,
            Some("CRL_SCOPE_UNSUPPORTED"),
        ),
        crl_case(
            "crl_entry_with_remove_from_crl_reason_is_denied",
            &remove_from_crl,
            &p.root,
            None,
            Some("CRL_SCOPE_UNSUPPORTED"),
        ),
        crl_case(
            "crl_entry_with_key_compromise_reason_is_accepted",
            &key_compromise,
            &p.root,
            None,
            None,
        ),
        crl_case(
            "crl_with_unknown_critical_extension_is_denied",
            &unknown_critical,
            &p.root,
            None,
            Some("UNSUPPORTED_CRITICAL_EXTENSION"),
        ),
        crl_case(
            "crl_with_unknown_non_critical_extension_is_accepted",
            &unknown_plain,
            &p.root,
            None,
            None,
        ),
        crl_case(
            "crl_entry_with_unknown_critical_extension_is_denied",
            &entry_critical,
            &p.root,
            None,
            Some("UNSUPPORTED_CRITICAL_EXTENSION"),
        ),
    ]
}
