//! Deterministic fixtures for certgate's engine tests. Keys come from a seeded generator,
//! dates are fixed, and every signature scheme used is deterministic (PKCS#1 v1.5,
//! RFC 6979), so the same code always yields the same bytes: the committed
//! `test/fixtures/engine/cases.json` is checked against a fresh generation by a test.
//!
//! The external conformance suites run as integration tests over vectors committed with
//! their licences, sharing [`suite`]: BetterTLS (`tests/bettertls.rs`, vectors and
//! Apache-2.0 licence in `vectors/bettertls/`, exceptions in
//! `tests/bettertls-exceptions.json`) and x509-limbo (`tests/x509_limbo.rs`, exceptions in
//! `tests/limbo-exceptions.json`).
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test fixture code fails loudly"
)]

pub mod build;
pub mod cases;
pub mod crl;
pub mod fuzz;
pub mod keys;
pub mod rng;
pub mod run;
pub mod suite;

/// 2024-01-01T00:00:00Z: notBefore of the fixture certificates.
pub const NOT_BEFORE: i64 = 1_704_067_200;
/// 2030-01-01T00:00:00Z: notAfter of the fixture certificates.
pub const NOT_AFTER: i64 = 1_893_456_000;
/// 2025-06-01T00:00:00Z: the validation time of the cases.
pub const AT: i64 = 1_748_736_000;

/// The JSON written to `test/fixtures/engine/cases.json`.
pub fn cases_json() -> String {
    let mut text = serde_json::to_string_pretty(&cases::all()).expect("cases serialise");
    text.push('\n');
    text
}

/// Fuzz corpus seeds: the leaf or input bytes of every case that carries one.
pub fn corpus_seeds() -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let decode = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .expect("fixture base64")
    };
    cases::all()
        .iter()
        .filter_map(|c| match &c.call {
            cases::Call::Inspect { input } | cases::Call::InspectChain { input } => {
                Some(decode(input))
            }
            cases::Call::VerifyChain { leaf, .. } => Some(decode(leaf)),
            cases::Call::IssueFromCsr { csr, .. } => Some(decode(csr)),
            _ => None,
        })
        .filter(|bytes| bytes.len() <= 8192)
        .collect()
}
