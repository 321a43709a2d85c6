//! Deterministic fixtures for certgate's engine tests. Keys come from a seeded generator,
//! dates are fixed, and every signature scheme used is deterministic (PKCS#1 v1.5,
//! RFC 6979), so the same code always yields the same bytes: the committed
//! `test/fixtures/engine/cases.json` is checked against a fresh generation by a test.
#![expect(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test fixture code fails loudly"
)]

pub mod build;
pub mod cases;
pub mod keys;
pub mod rng;
pub mod run;

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
