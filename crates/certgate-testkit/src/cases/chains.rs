//! Path validation rules: anchors, validity, CA constraints, name constraints, EKU.

use super::*;
use certgate_core::SignatureAlgorithm as A;
use x509_cert::ext::pkix::KeyUsages;

use crate::build::{certificate, pem, IssuerRef, Spec, SERVER_AUTH};
use crate::keys::{keys, SigAlg};
use crate::{AT, NOT_AFTER};

pub(super) fn cases(p: &Pki) -> Vec<Case> {
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
