//! One test per rule of the catalogue (`src/cases/`), each run through both native
//! signature backends (ring with RustCrypto fallback, and pure RustCrypto), which must
//! give identical JSON.

#![expect(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "the shared check helper fails loudly"
)]

use std::sync::OnceLock;

use certgate_ring::RingVerifier;
use certgate_rustcrypto::RustCryptoVerifier;
use certgate_testkit::cases::{self, Case};
use certgate_testkit::run::run;

fn catalogue() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(cases::all)
}

fn check(name: &str) {
    let case = catalogue()
        .iter()
        .find(|c| c.name == name)
        .expect("case exists");
    let native = run(&case.call, &RingVerifier);
    let pure = run(&case.call, &RustCryptoVerifier);
    assert_eq!(native, pure, "backends disagree on {name}");
    match case.code {
        Some(code) => {
            assert_eq!(
                native["ok"], false,
                "{name} should be refused, got {native}"
            );
            assert_eq!(native["code"], code, "{name}: {}", native["message"]);
        }
        None => {
            assert_eq!(
                native["ok"], true,
                "{name} should be accepted, got {native}"
            );
            if let Some(serde_json::Value::Object(fields)) = &case.fields {
                for (key, want) in fields {
                    assert_eq!(&native[key], want, "{name}: field {key}");
                }
            }
        }
    }
}

macro_rules! rules {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name)); })*

        #[test]
        fn every_catalogued_case_has_a_test() {
            let mut tested = vec![$(stringify!($name)),*];
            let mut catalogued: Vec<&str> = catalogue().iter().map(|c| c.name.as_str()).collect();
            tested.sort_unstable();
            catalogued.sort_unstable();
            assert_eq!(tested, catalogued);
        }
    };
}

rules! {
    leaf_signed_by_registered_ca_is_accepted,
    leaf_with_intermediate_up_to_registered_root_is_accepted,
    registered_intermediate_as_anchor_is_accepted,
    leaf_alone_without_its_intermediate_is_denied,
    leaf_with_no_anchors_is_denied,
    leaf_pem_bundle_with_its_intermediate_is_accepted,
    leaf_under_ca_with_same_subject_but_other_key_is_denied,
    leaf_checked_against_impostor_and_real_ca_is_accepted,
    leaf_signed_by_unregistered_ca_is_denied,
    expired_leaf_is_denied,
    not_yet_valid_leaf_is_denied,
    leaf_checked_at_its_last_valid_second_is_accepted,
    leaf_checked_one_second_after_expiry_is_denied,
    expired_intermediate_is_denied,
    expired_registered_ca_is_denied,
    path_reports_earliest_not_after_is_accepted,
    leaf_issued_by_non_ca_certificate_is_denied,
    non_ca_registered_as_anchor_is_denied,
    intermediate_below_path_length_zero_ca_is_denied,
    sub_ca_below_path_length_zero_anchor_is_denied,
    issuer_without_key_cert_sign_is_denied,
    leaf_inside_permitted_subtree_is_accepted,
    leaf_outside_permitted_subtree_is_denied,
    leaf_inside_excluded_subtree_is_denied,
    leaf_with_unknown_critical_extension_is_denied,
    server_only_leaf_under_client_policy_is_denied,
    server_only_leaf_under_any_policy_is_accepted,
    leaf_without_eku_under_client_policy_is_accepted,
    unknown_eku_policy_name_is_denied,
    sha256_with_rsa_is_accepted,
    sha384_with_rsa_is_accepted,
    sha512_with_rsa_is_accepted,
    dsa_with_sha256_is_accepted,
    ecdsa_p256_with_sha256_is_accepted,
    ecdsa_p256_with_sha384_is_accepted,
    ecdsa_p256_with_sha512_is_accepted,
    ecdsa_p384_with_sha384_is_accepted,
    ecdsa_p521_with_sha512_is_accepted,
    sha1_with_rsa_is_denied,
    md5_with_rsa_is_denied,
    rsa_pss_is_denied,
    ed25519_is_denied,
    ca_with_rsa_1024_key_is_denied,
    leaf_with_rsa_1024_key_is_denied,
    ec_ca_with_rsa_signature_is_denied,
    leaf_with_tampered_signature_is_denied,
    verification_certificate_with_registration_code_is_accepted,
    verification_certificate_with_other_code_is_denied,
    verification_certificate_not_signed_by_ca_key_is_denied,
    proof_for_non_ca_certificate_is_denied,
    certificate_for_rsa_2048_key_is_accepted,
    certificate_for_rsa_1024_key_is_denied,
    issuer_key_not_matching_issuer_certificate_is_denied,
    serial_shorter_than_20_bytes_is_denied,
    csr_with_p256_key_is_accepted,
    csr_with_p521_key_is_accepted,
    csr_with_rsa_2048_key_is_accepted,
    csr_signed_by_another_key_is_denied,
    csr_with_rsa_1024_key_is_denied,
    csr_with_dsa_key_is_denied,
    issuing_ca_for_rsa_key_is_accepted,
    issuing_ca_for_p384_key_is_accepted,
    issuing_ca_for_rsa_1024_key_is_denied,
    pem_with_crlf_and_surrounding_text_is_accepted,
    der_certificate_is_accepted,
    der_certificate_carrying_pem_text_is_read_as_itself_is_accepted,
    truncated_der_is_denied,
    der_with_huge_length_is_denied,
    deeply_nested_der_is_denied,
    non_utf8_pem_is_denied,
    pem_over_65536_characters_is_denied,
    text_without_certificate_is_denied,
    dsa_certificate_reports_dsa_key_is_accepted,
    sha1_certificate_reports_unsupported_algorithm_is_accepted,
    pem_bundle_inspects_every_certificate_is_accepted,
    seventeen_intermediates_are_denied,
    leaf_rfc822_name_with_two_at_signs_under_permitted_rfc822_subtree_is_denied,
    leaf_rfc822_name_with_two_at_signs_under_excluded_rfc822_subtree_is_denied,
    leaf_rfc822_name_with_address_literal_under_excluded_rfc822_subtree_is_denied,
    leaf_ip_address_of_five_octets_under_permitted_ip_subtree_is_denied,
    leaf_ip_address_of_five_octets_under_excluded_ip_subtree_is_denied,
    leaf_dns_name_with_underscore_under_excluded_dns_subtree_is_denied,
    leaf_dns_name_with_leading_period_under_permitted_dns_subtree_is_denied,
    leaf_ip_address_written_as_dns_name_under_excluded_dns_subtree_is_denied,
    leaf_wildcard_dns_name_under_excluded_dns_subtree_is_denied,
    leaf_uri_without_host_under_excluded_uri_subtree_is_denied,
    leaf_uri_with_ip_host_under_excluded_uri_subtree_is_denied,
    leaf_uri_with_ip_host_under_permitted_uri_subtree_is_denied,
    leaf_other_name_under_other_name_constraint_is_denied,
    leaf_rfc822_name_with_two_at_signs_under_dns_only_constraints_is_accepted,
    leaf_dns_name_with_underscore_under_ip_only_constraints_is_accepted,
    leaf_rfc822_name_in_permitted_domain_is_accepted,
    leaf_rfc822_name_at_permitted_domain_apex_under_leading_period_is_denied,
    leaf_rfc822_name_at_excluded_host_in_other_case_is_denied,
    leaf_ip_address_in_permitted_range_is_accepted,
    leaf_ipv6_address_under_ipv4_only_permitted_range_is_denied,
    leaf_uri_in_permitted_domain_is_accepted,
    leaf_subject_in_excluded_directory_subtree_written_in_other_case_is_denied,
    leaf_subject_email_address_with_two_at_signs_under_rfc822_subtree_is_denied,
    leaf_dns_name_with_underscore_under_directory_only_constraints_is_accepted,
    leaf_directory_name_with_teletex_value_under_excluded_directory_subtree_is_denied,
    leaf_with_directory_names_in_permitted_subtree_is_accepted,
    anchor_dns_constraint_with_leading_period_is_denied,
    anchor_ip_constraint_without_mask_is_denied,
    anchor_ip_constraint_with_non_contiguous_mask_is_denied,
    anchor_rfc822_constraint_with_two_at_signs_is_denied,
    anchor_uri_constraint_written_as_uri_is_denied,
    anchor_dns_constraint_with_wildcard_is_denied,
    anchor_name_constraints_without_subtrees_is_denied,
    anchor_name_constraints_with_empty_subtree_list_is_denied,
    anchor_name_constraint_with_maximum_is_denied,
    leaf_rfc822_name_with_two_at_signs_under_intermediate_excluded_subtree_is_denied,
    leaf_ip_address_of_five_octets_under_intermediate_permitted_subtree_is_denied,
    intermediate_dns_constraint_with_leading_period_is_denied,
    intermediate_ip_constraint_of_sixteen_octets_is_denied,
    intermediate_rfc822_name_with_two_at_signs_under_anchor_excluded_subtree_is_denied,
    intermediate_ip_address_of_six_octets_under_anchor_permitted_subtree_is_denied,
    anchor_with_serial_zero_is_accepted,
    ca_with_serial_zero_inspected_for_registration_is_accepted,
    leaf_with_serial_zero_is_denied,
    leaf_with_serial_zero_inspected_for_registration_is_denied,
    intermediate_with_serial_zero_is_denied,
    leaf_with_empty_eku_is_denied,
    intermediate_with_empty_eku_is_denied,
    intermediate_with_non_critical_policy_constraints_is_denied,
    intermediate_with_critical_policy_constraints_is_denied,
    leaf_with_non_critical_policy_constraints_is_denied,
    anchor_with_non_critical_policy_constraints_is_accepted,
    leaf_dns_names_with_underscore_or_ip_address_without_name_constraints_is_accepted,
    anchor_without_key_cert_sign_is_denied,
    crl_signed_by_its_ca_is_accepted,
    crl_without_entries_number_or_next_update_is_accepted,
    crl_past_its_next_update_is_accepted,
    crl_signed_by_a_delegated_signer_the_ca_issued_is_accepted,
    crl_in_pem_is_accepted,
    crl_number_equal_to_the_previous_is_accepted,
    crl_number_lower_than_the_previous_is_denied,
    crl_without_number_after_a_numbered_crl_is_denied,
    non_decimal_previous_crl_number_is_denied,
    crl_signed_by_a_delegated_signer_without_crl_sign_is_denied,
    crl_signed_by_an_expired_delegated_signer_is_denied,
    crl_signed_by_a_signer_the_ca_did_not_issue_is_denied,
    crl_signed_by_another_key_without_its_certificate_is_denied,
    crl_of_another_ca_is_denied,
    crl_from_a_ca_without_crl_sign_is_denied,
    crl_signed_with_ecdsa_p256_sha384_is_accepted,
    crl_with_tampered_signature_is_denied,
    crl_signed_with_sha1_is_denied,
    crl_with_trailing_bytes_is_denied,
    certificate_given_as_crl_is_denied,
    pem_without_a_crl_block_is_denied,
    crl_with_issuing_distribution_point_is_denied,
    delta_crl_is_denied,
    crl_entry_with_certificate_issuer_is_denied,
    crl_entry_with_remove_from_crl_reason_is_denied,
    crl_entry_with_key_compromise_reason_is_accepted,
    crl_with_unknown_critical_extension_is_denied,
    crl_with_unknown_non_critical_extension_is_accepted,
    crl_entry_with_unknown_critical_extension_is_denied,
}
