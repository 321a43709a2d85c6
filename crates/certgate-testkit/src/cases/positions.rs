//! Which rules apply to the anchor (the registered CA), to intermediates and to the
//! leaf (`docs/path-validation.md`), and the extension rules of RFC 5280 4.2.1.11 and
//! 4.2.1.12.

use super::*;
use x509_cert::ext::pkix::KeyUsages;

use crate::build::{certificate, IssuerRef, Spec};
use crate::keys::keys;

const ZERO_ROOT: &str = "CN=certgate serial zero root,O=certgate";

/// policyConstraints { requireExplicitPolicy [0] 0 }.
fn policy_constraints(critical: bool) -> RawExtension {
    RawExtension {
        oid: "2.5.29.36".into(),
        critical,
        value: vec![0x30, 0x03, 0x80, 0x01, 0x00],
    }
}

fn inspect_case(name: &str, der: &[u8], code: Option<&'static str>) -> Case {
    Case {
        name: name.to_owned(),
        call: Call::Inspect { input: b64(der) },
        code,
        fields: None,
    }
}

pub(super) fn cases(p: &Pki) -> Vec<Case> {
    let k = keys();
    let zero_ref = IssuerRef {
        subject: ZERO_ROOT,
        key: &k.root,
    };
    let zero_root = certificate(&Spec::ca(ZERO_ROOT, 0, RSA256), &k.root, None);
    let under_zero = certificate(
        &Spec::leaf("CN=device under serial zero root", 400, RSA256),
        &k.leaf,
        Some(&zero_ref),
    );
    let zero_leaf = certificate(
        &Spec::leaf("CN=serial zero device", 0, RSA256),
        &k.leaf,
        Some(&root_ref()),
    );
    let zero_intermediate = certificate(
        &Spec::ca(INTERMEDIATE, 0, RSA256),
        &k.intermediate,
        Some(&root_ref()),
    );
    let mut cases = vec![
        // https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2 binds CAs issuing
        // certificates; the anchor is the operator's choice.
        chain(
            "anchor_with_serial_zero_is_accepted",
            &under_zero,
            &[],
            &[&zero_root],
            None,
        ),
        inspect_case(
            "ca_with_serial_zero_inspected_for_registration_is_accepted",
            &zero_root,
            None,
        ),
        chain(
            "leaf_with_serial_zero_is_denied",
            &zero_leaf,
            &[],
            &[&p.root],
            Some("BAD_DER"),
        ),
        inspect_case(
            "leaf_with_serial_zero_inspected_for_registration_is_denied",
            &zero_leaf,
            Some("BAD_DER"),
        ),
        chain(
            "intermediate_with_serial_zero_is_denied",
            &p.leaf_via_intermediate,
            &[&zero_intermediate],
            &[&p.root],
            Some("BAD_DER"),
        ),
    ];
    // https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12: SIZE (1..MAX).
    let mut empty_eku = Spec::leaf("CN=empty eku device", 401, RSA256);
    empty_eku.eku = Some(Vec::new());
    let empty_eku = certificate(&empty_eku, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "leaf_with_empty_eku_is_denied",
        &empty_eku,
        &[],
        &[&p.root],
        Some("BAD_DER"),
    ));
    let mut eku_int = Spec::ca(INTERMEDIATE, 402, RSA256);
    eku_int.eku = Some(Vec::new());
    let eku_int = certificate(&eku_int, &k.intermediate, Some(&root_ref()));
    cases.push(chain(
        "intermediate_with_empty_eku_is_denied",
        &p.leaf_via_intermediate,
        &[&eku_int],
        &[&p.root],
        Some("BAD_DER"),
    ));
    // https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.11: MUST be critical.
    for (name, critical, code) in [
        (
            "intermediate_with_non_critical_policy_constraints_is_denied",
            false,
            "INVALID_EXTENSION",
        ),
        (
            "intermediate_with_critical_policy_constraints_is_denied",
            true,
            "UNSUPPORTED_CRITICAL_EXTENSION",
        ),
    ] {
        let mut spec = Spec::ca(INTERMEDIATE, 403, RSA256);
        spec.extra = vec![policy_constraints(critical)];
        let int = certificate(&spec, &k.intermediate, Some(&root_ref()));
        cases.push(chain(
            name,
            &p.leaf_via_intermediate,
            &[&int],
            &[&p.root],
            Some(code),
        ));
    }
    let mut pc_leaf = Spec::leaf("CN=policy constraints device", 404, RSA256);
    pc_leaf.extra = vec![policy_constraints(false)];
    let pc_leaf = certificate(&pc_leaf, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "leaf_with_non_critical_policy_constraints_is_denied",
        &pc_leaf,
        &[],
        &[&p.root],
        Some("INVALID_EXTENSION"),
    ));
    let mut pc_root = Spec::ca(ZERO_ROOT, 405, RSA256);
    pc_root.extra = vec![policy_constraints(false)];
    let pc_root = certificate(&pc_root, &k.root, None);
    cases.push(chain(
        "anchor_with_non_critical_policy_constraints_is_accepted",
        &under_zero,
        &[],
        &[&pc_root],
        None,
    ));
    // SAN dNSName syntax is only consulted under a dNSName (or other) constraint:
    // certgate never uses a SAN as identity, and device fleets do send underscores.
    let mut underscore = Spec::leaf("CN=underscore device", 406, RSA256);
    underscore.dns_names = vec!["dev_1.example.com".into(), "192.0.2.1".into()];
    let underscore = certificate(&underscore, &k.leaf, Some(&root_ref()));
    cases.push(chain(
        "leaf_dns_names_with_underscore_or_ip_address_without_name_constraints_is_accepted",
        &underscore,
        &[],
        &[&p.root],
        None,
    ));
    // Rules an anchor still meets: it must be a CA allowed to sign certificates.
    let mut no_sign = Spec::ca(ZERO_ROOT, 407, RSA256);
    no_sign.key_usages = Some(vec![KeyUsages::DigitalSignature]);
    let no_sign = certificate(&no_sign, &k.root, None);
    cases.push(chain(
        "anchor_without_key_cert_sign_is_denied",
        &under_zero,
        &[],
        &[&no_sign],
        Some("MISSING_KEY_CERT_SIGN"),
    ));
    cases
}
