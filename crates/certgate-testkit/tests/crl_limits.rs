//! The CRL limits (`Limits::max_crl_bytes`, `Limits::max_crl_entries`), each tripped.

use certgate_core::{verify_crl, CrlInput, ErrorCode, Limits};
use certgate_ring::RingVerifier;
use certgate_testkit::build::{certificate, Spec};
use certgate_testkit::crl::{crl, CrlSpec};
use certgate_testkit::keys::{keys, SigAlg};
use certgate_testkit::AT;

const ROOT: &str = "CN=certgate test root,O=certgate";
const RSA256: SigAlg = SigAlg::Aws(certgate_core::SignatureAlgorithm::RsaSha256);

#[test]
fn crl_input_over_the_default_size_limit_is_refused_before_decoding() {
    let ca = certificate(&Spec::ca(ROOT, 1, RSA256), &keys().root, None);
    let huge = vec![0x30_u8; Limits::DEFAULT.max_crl_bytes + 1];
    let input = CrlInput {
        crl: &huge,
        ca: &ca,
        at: AT,
        previous_number: None,
    };
    let err = verify_crl(&RingVerifier, &input, &Limits::DEFAULT).expect_err("too large");
    assert_eq!(err.code(), ErrorCode::CrlTooLarge);
}

#[test]
fn crl_with_more_entries_than_the_limit_is_refused() {
    let ca = certificate(&Spec::ca(ROOT, 1, RSA256), &keys().root, None);
    let list = crl(&CrlSpec::new(ROOT, 1, &[1, 2, 3, 4], RSA256), &keys().root);
    let input = CrlInput {
        crl: &list,
        ca: &ca,
        at: AT,
        previous_number: None,
    };
    let four = Limits {
        max_crl_entries: 4,
        ..Limits::DEFAULT
    };
    assert_eq!(
        verify_crl(&RingVerifier, &input, &four)
            .expect("at the limit")
            .revoked_serials
            .len(),
        4
    );
    let three = Limits {
        max_crl_entries: 3,
        ..Limits::DEFAULT
    };
    let err = verify_crl(&RingVerifier, &input, &three).expect_err("over the limit");
    assert_eq!(err.code(), ErrorCode::TooManyCrlEntries);
}
