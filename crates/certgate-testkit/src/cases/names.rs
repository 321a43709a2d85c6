//! Name constraints and malformed names, from RFC 5280 4.2.1.6 and 4.2.1.10
//! (<https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10>): for every name form and
//! every position (constraint on the anchor or on an intermediate; name on the leaf or
//! on an intermediate), a malformed name under a constraint of its form is denied,
//! whether the subtree is permitted or excluded, and a malformed constraint makes the
//! CA unusable.

use super::*;
use der::asn1::{Ia5String, OctetString};
use der::Encode;
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;

use crate::build::{certificate, IssuerRef, Spec};
use crate::keys::keys;

const NC_ANCHOR: &str = "CN=certgate names anchor,O=certgate";
const NC_INTERMEDIATE: &str = "CN=certgate names intermediate,O=certgate";

pub(crate) fn dns(name: &str) -> GeneralName {
    GeneralName::DnsName(Ia5String::new(name).expect("IA5"))
}

pub(crate) fn email(name: &str) -> GeneralName {
    GeneralName::Rfc822Name(Ia5String::new(name).expect("IA5"))
}

pub(crate) fn uri(name: &str) -> GeneralName {
    GeneralName::UniformResourceIdentifier(Ia5String::new(name).expect("IA5"))
}

pub(crate) fn ip(octets: &[u8]) -> GeneralName {
    GeneralName::IpAddress(OctetString::new(octets).expect("octets"))
}

pub(crate) fn directory(rfc4514: &str) -> GeneralName {
    GeneralName::DirectoryName(rfc4514.parse().expect("name"))
}

/// A directoryName whose only attribute (O) is a TeletexString, which certgate does not
/// decode and so cannot compare.
fn teletex_directory(value: &str) -> GeneralName {
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
    let atv = AttributeTypeAndValue {
        oid: der::asn1::ObjectIdentifier::new_unwrap("2.5.4.10"),
        value: der::Any::new(der::Tag::TeletexString, value.as_bytes()).expect("value"),
    };
    let mut rdns = RdnSequence::default();
    rdns.push(RelativeDistinguishedName::try_from(vec![atv]).expect("RDN"));
    use der::Decode;
    let der = rdns.to_der().expect("RDNs");
    GeneralName::DirectoryName(Name::from_der(&der).expect("name"))
}

fn subtrees(bases: &[GeneralName]) -> Option<Vec<GeneralSubtree>> {
    (!bases.is_empty()).then(|| {
        bases
            .iter()
            .map(|base| GeneralSubtree {
                base: base.clone(),
                minimum: 0,
                maximum: None,
            })
            .collect()
    })
}

/// A critical nameConstraints extension with these subtrees.
pub(crate) fn name_constraints(
    permitted: &[GeneralName],
    excluded: &[GeneralName],
) -> RawExtension {
    raw_name_constraints(&NameConstraints {
        permitted_subtrees: subtrees(permitted),
        excluded_subtrees: subtrees(excluded),
    })
}

fn raw_name_constraints(nc: &NameConstraints) -> RawExtension {
    RawExtension {
        oid: "2.5.29.30".into(),
        critical: true,
        value: nc.to_der().expect("NC"),
    }
}

/// A subjectAltName extension with these names.
pub(crate) fn alt_names(names: &[GeneralName]) -> RawExtension {
    RawExtension {
        oid: "2.5.29.17".into(),
        critical: false,
        value: names.to_vec().to_der().expect("SAN"),
    }
}

/// A self-signed anchor carrying `nc`.
fn anchor_with(nc: RawExtension) -> Vec<u8> {
    let mut spec = Spec::ca(NC_ANCHOR, 300, RSA256);
    spec.extra = vec![nc];
    certificate(&spec, &keys().root, None)
}

fn anchor_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: NC_ANCHOR,
        key: &keys().root,
    }
}

fn intermediate_ref() -> IssuerRef<'static> {
    IssuerRef {
        subject: NC_INTERMEDIATE,
        key: &keys().intermediate,
    }
}

/// A leaf with subject `subject` and `names` in its SAN, issued by `issuer`.
fn leaf_with(subject: &str, names: &[GeneralName], issuer: &IssuerRef<'_>) -> Vec<u8> {
    let mut spec = Spec::leaf(subject, 301, RSA256);
    if !names.is_empty() {
        spec.extra = vec![alt_names(names)];
    }
    certificate(&spec, &keys().leaf, Some(issuer))
}

/// Leaf `names` under an anchor with `nc`.
fn leaf_case(
    name: &str,
    nc: RawExtension,
    names: &[GeneralName],
    code: Option<&'static str>,
) -> Case {
    subject_case(name, nc, "CN=names device", names, code)
}

/// Leaf `subject` and `names` under an anchor with `nc`.
fn subject_case(
    name: &str,
    nc: RawExtension,
    subject: &str,
    names: &[GeneralName],
    code: Option<&'static str>,
) -> Case {
    let anchor = anchor_with(nc);
    let leaf = leaf_with(subject, names, &anchor_ref());
    chain(name, &leaf, &[], &[&anchor], code)
}

const VIOLATION: Option<&str> = Some("NAME_CONSTRAINT_VIOLATION");
const MALFORMED: Option<&str> = Some("MALFORMED_NAME_CONSTRAINT");

pub(super) fn cases() -> Vec<Case> {
    let permit = |b: GeneralName| name_constraints(&[b], &[]);
    let exclude = |b: GeneralName| name_constraints(&[], &[b]);
    let mut cases = vec![
        // Malformed names under a constraint of their form (leaf, constraint on the anchor).
        leaf_case(
            "leaf_rfc822_name_with_two_at_signs_under_permitted_rfc822_subtree_is_denied",
            permit(email("example.com")),
            &[email("a@b@example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_rfc822_name_with_two_at_signs_under_excluded_rfc822_subtree_is_denied",
            exclude(email("blocked.example")),
            &[email("a@b@example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_rfc822_name_with_address_literal_under_excluded_rfc822_subtree_is_denied",
            exclude(email("blocked.example")),
            &[email("a@[192.0.2.1]")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_ip_address_of_five_octets_under_permitted_ip_subtree_is_denied",
            permit(ip(&[10, 0, 0, 0, 255, 0, 0, 0])),
            &[ip(&[10, 0, 0, 1, 0])],
            VIOLATION,
        ),
        leaf_case(
            "leaf_ip_address_of_five_octets_under_excluded_ip_subtree_is_denied",
            exclude(ip(&[192, 0, 2, 0, 255, 255, 255, 0])),
            &[ip(&[10, 0, 0, 1, 0])],
            VIOLATION,
        ),
        leaf_case(
            "leaf_dns_name_with_underscore_under_excluded_dns_subtree_is_denied",
            exclude(dns("blocked.example.com")),
            &[dns("dev_1.example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_dns_name_with_leading_period_under_permitted_dns_subtree_is_denied",
            permit(dns("example.com")),
            &[dns(".example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_ip_address_written_as_dns_name_under_excluded_dns_subtree_is_denied",
            exclude(dns("blocked.example.com")),
            &[dns("192.0.2.1")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_wildcard_dns_name_under_excluded_dns_subtree_is_denied",
            exclude(dns("blocked.example.com")),
            &[dns("*.example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_uri_without_host_under_excluded_uri_subtree_is_denied",
            exclude(uri(".blocked.example")),
            &[uri("urn:device:1")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_uri_with_ip_host_under_excluded_uri_subtree_is_denied",
            exclude(uri(".blocked.example")),
            &[uri("https://192.0.2.1/")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_uri_with_ip_host_under_permitted_uri_subtree_is_denied",
            permit(uri(".example.com")),
            &[uri("https://192.0.2.1/")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_other_name_under_other_name_constraint_is_denied",
            exclude(GeneralName::RegisteredId(
                der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.2"),
            )),
            &[GeneralName::RegisteredId(
                der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.3"),
            )],
            VIOLATION,
        ),
        // A malformed name of a form the CA does not constrain is not compared.
        leaf_case(
            "leaf_rfc822_name_with_two_at_signs_under_dns_only_constraints_is_accepted",
            permit(dns("example.com")),
            &[dns("device.example.com"), email("a@b@example.com")],
            None,
        ),
        leaf_case(
            "leaf_dns_name_with_underscore_under_ip_only_constraints_is_accepted",
            permit(ip(&[10, 0, 0, 0, 255, 0, 0, 0])),
            &[dns("dev_1.example.com"), ip(&[10, 1, 2, 3])],
            None,
        ),
        // Well-formed names, each form.
        leaf_case(
            "leaf_rfc822_name_in_permitted_domain_is_accepted",
            permit(email(".example.com")),
            &[email("device.1@host.example.com")],
            None,
        ),
        leaf_case(
            "leaf_rfc822_name_at_permitted_domain_apex_under_leading_period_is_denied",
            permit(email(".example.com")),
            &[email("device.1@example.com")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_rfc822_name_at_excluded_host_in_other_case_is_denied",
            exclude(email("blocked.example")),
            &[email("device@BLOCKED.example")],
            VIOLATION,
        ),
        leaf_case(
            "leaf_ip_address_in_permitted_range_is_accepted",
            permit(ip(&[10, 0, 0, 0, 255, 0, 0, 0])),
            &[ip(&[10, 1, 2, 3])],
            None,
        ),
        leaf_case(
            "leaf_ipv6_address_under_ipv4_only_permitted_range_is_denied",
            permit(ip(&[10, 0, 0, 0, 255, 0, 0, 0])),
            &[ip(&[
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            ])],
            VIOLATION,
        ),
        leaf_case(
            "leaf_uri_in_permitted_domain_is_accepted",
            permit(uri(".example.com")),
            &[uri("mqtts://user@broker.example.com:8883/things/1")],
            None,
        ),
        subject_case(
            "leaf_subject_in_excluded_directory_subtree_written_in_other_case_is_denied",
            exclude(directory("O=Blocked Org")),
            "CN=device,O=BLOCKED  org",
            &[],
            VIOLATION,
        ),
        subject_case(
            "leaf_subject_email_address_with_two_at_signs_under_rfc822_subtree_is_denied",
            exclude(email("blocked.example")),
            "CN=device,emailAddress=a@b@example.com",
            &[],
            VIOLATION,
        ),
        subject_case(
            "leaf_dns_name_with_underscore_under_directory_only_constraints_is_accepted",
            permit(directory("O=certgate")),
            "CN=device,O=certgate",
            &[dns("dev_1.example.com")],
            None,
        ),
        subject_case(
            "leaf_directory_name_with_teletex_value_under_excluded_directory_subtree_is_denied",
            exclude(directory("O=Blocked Org")),
            "CN=device,O=certgate",
            &[teletex_directory("Blocked Org")],
            VIOLATION,
        ),
        subject_case(
            "leaf_with_directory_names_in_permitted_subtree_is_accepted",
            permit(directory("O=certgate")),
            "CN=device,O=certgate",
            &[directory("CN=other device,O=CERTGATE")],
            None,
        ),
        // Malformed constraints, on the anchor.
        leaf_case(
            "anchor_dns_constraint_with_leading_period_is_denied",
            permit(dns(".example.com")),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_ip_constraint_without_mask_is_denied",
            exclude(ip(&[192, 0, 2, 1])),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_ip_constraint_with_non_contiguous_mask_is_denied",
            permit(ip(&[10, 0, 0, 0, 255, 0, 255, 0])),
            &[ip(&[10, 1, 0, 3])],
            MALFORMED,
        ),
        leaf_case(
            "anchor_rfc822_constraint_with_two_at_signs_is_denied",
            exclude(email("a@b@example.com")),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_uri_constraint_written_as_uri_is_denied",
            permit(uri("https://example.com/")),
            &[uri("https://example.com/")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_dns_constraint_with_wildcard_is_denied",
            permit(dns("*.example.com")),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_name_constraints_without_subtrees_is_denied",
            raw_name_constraints(&NameConstraints {
                permitted_subtrees: None,
                excluded_subtrees: None,
            }),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_name_constraints_with_empty_subtree_list_is_denied",
            raw_name_constraints(&NameConstraints {
                permitted_subtrees: Some(Vec::new()),
                excluded_subtrees: None,
            }),
            &[dns("device.example.com")],
            MALFORMED,
        ),
        leaf_case(
            "anchor_name_constraint_with_maximum_is_denied",
            raw_name_constraints(&NameConstraints {
                permitted_subtrees: Some(vec![GeneralSubtree {
                    base: dns("example.com"),
                    minimum: 0,
                    maximum: Some(2),
                }]),
                excluded_subtrees: None,
            }),
            &[dns("device.example.com")],
            MALFORMED,
        ),
    ];
    cases.extend(intermediate_cases());
    cases
}

/// The same classes with the constraint on an intermediate, and with the malformed name
/// on an intermediate.
fn intermediate_cases() -> Vec<Case> {
    let k = keys();
    let plain_anchor = certificate(&Spec::ca(NC_ANCHOR, 310, RSA256), &k.root, None);
    let intermediate = |nc: Option<RawExtension>, names: &[GeneralName]| {
        let mut spec = Spec::ca(NC_INTERMEDIATE, 311, RSA256);
        spec.extra = nc.into_iter().collect();
        if !names.is_empty() {
            spec.extra.push(alt_names(names));
        }
        certificate(&spec, &k.intermediate, Some(&anchor_ref()))
    };
    let mut cases = Vec::new();
    // Constraint on the intermediate, malformed name on the leaf.
    let constrained = intermediate(
        Some(name_constraints(&[], &[email("blocked.example")])),
        &[],
    );
    let leaf = leaf_with(
        "CN=names device",
        &[email("a@b@example.com")],
        &intermediate_ref(),
    );
    cases.push(chain(
        "leaf_rfc822_name_with_two_at_signs_under_intermediate_excluded_subtree_is_denied",
        &leaf,
        &[&constrained],
        &[&plain_anchor],
        VIOLATION,
    ));
    let constrained = intermediate(
        Some(name_constraints(&[ip(&[10, 0, 0, 0, 255, 0, 0, 0])], &[])),
        &[],
    );
    let leaf = leaf_with(
        "CN=names device",
        &[ip(&[10, 0, 0, 1, 0])],
        &intermediate_ref(),
    );
    cases.push(chain(
        "leaf_ip_address_of_five_octets_under_intermediate_permitted_subtree_is_denied",
        &leaf,
        &[&constrained],
        &[&plain_anchor],
        VIOLATION,
    ));
    // Malformed constraint on the intermediate.
    let malformed = intermediate(Some(name_constraints(&[dns(".example.com")], &[])), &[]);
    let leaf = leaf_with(
        "CN=names device",
        &[dns("device.example.com")],
        &intermediate_ref(),
    );
    cases.push(chain(
        "intermediate_dns_constraint_with_leading_period_is_denied",
        &leaf,
        &[&malformed],
        &[&plain_anchor],
        MALFORMED,
    ));
    let malformed = intermediate(Some(name_constraints(&[], &[ip(&[0; 16])])), &[]);
    cases.push(chain(
        "intermediate_ip_constraint_of_sixteen_octets_is_denied",
        &leaf,
        &[&malformed],
        &[&plain_anchor],
        MALFORMED,
    ));
    // Constraint on the anchor, malformed name on the intermediate.
    let anchor = anchor_with(name_constraints(&[], &[email("blocked.example")]));
    let named = intermediate(None, &[email("ca@x@example.com")]);
    let leaf = leaf_with("CN=names device", &[], &intermediate_ref());
    cases.push(chain(
        "intermediate_rfc822_name_with_two_at_signs_under_anchor_excluded_subtree_is_denied",
        &leaf,
        &[&named],
        &[&anchor],
        VIOLATION,
    ));
    let anchor = anchor_with(name_constraints(&[ip(&[10, 0, 0, 0, 255, 0, 0, 0])], &[]));
    let named = intermediate(None, &[ip(&[10, 0, 0, 0, 0, 0])]);
    cases.push(chain(
        "intermediate_ip_address_of_six_octets_under_anchor_permitted_subtree_is_denied",
        &leaf,
        &[&named],
        &[&anchor],
        VIOLATION,
    ));
    cases
}
