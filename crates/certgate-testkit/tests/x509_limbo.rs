//! The x509-limbo conformance cases (`vectors/x509-limbo/limbo.json`, vendored with its
//! licences and provenance in `vectors/x509-limbo/README.md`), validated by the
//! engine's path builder. Every divergence from the expected verdict
//! is listed with its reason in `tests/limbo-exceptions.json`; an unexpected pass fails
//! like an unexpected failure, so the list can only shrink deliberately.
//!
//! certgate is a client-certificate authorizer: it does not match host names, so cases
//! whose verdict rests on the peer name are exceptions with reason "hostname".
#![expect(clippy::expect_used, reason = "the conformance runner fails loudly")]

use std::collections::BTreeMap;

use certgate_core::{certificates_der, verify_chain, ChainInput, EkuPolicy, Limits};
use certgate_ring::RingVerifier;
use certgate_testkit::suite::{compare, Outcome};
use serde::Deserialize;

#[derive(Deserialize)]
struct Limbo {
    testcases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    max_chain_depth: Option<usize>,
    expected_result: String,
}

/// Validation time for cases that give none: limbo generates those certificates valid
/// around their generation date; a fixed instant keeps the run independent of today.
const DEFAULT_AT: &str = "2024-06-01T00:00:00+00:00";

/// RFC 3339 `YYYY-MM-DDTHH:MM:SS+00:00` to epoch seconds (the only form limbo uses).
fn epoch(text: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| -> i64 {
        text.get(r)
            .and_then(|s| s.parse().ok())
            .expect("limbo time")
    };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

fn ders(pems: &[String]) -> Vec<Vec<u8>> {
    pems.iter()
        .flat_map(|p| certificates_der(p.as_bytes(), &Limits::DEFAULT).unwrap_or_default())
        .collect()
}

fn verdict(case: &Case) -> (bool, String) {
    let leaf = match certificates_der(case.peer_certificate.as_bytes(), &Limits::DEFAULT) {
        Ok(mut v) if !v.is_empty() => v.remove(0),
        Ok(_) => return (false, "NO_CERTIFICATE".into()),
        Err(e) => return (false, e.code().as_str().into()),
    };
    let anchors = ders(&case.trusted_certs);
    let intermediates = ders(&case.untrusted_intermediates);
    let at = epoch(case.validation_time.as_deref().unwrap_or(DEFAULT_AT));
    let mut limits = Limits::DEFAULT;
    if let Some(depth) = case.max_chain_depth {
        limits.max_path_depth = depth;
    }
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &intermediates,
        anchors: &anchors,
        at,
        eku: EkuPolicy::ServerAuth,
    };
    match verify_chain(&RingVerifier, &input, &limits) {
        Ok(_) => (true, "OK".into()),
        Err(e) => (false, e.code().as_str().into()),
    }
}

#[test]
fn x509_limbo_verdicts_match_except_listed_divergences() {
    // The vectors are vendored in this crate; CERTGATE_LIMBO_JSON runs another copy.
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/x509-limbo/limbo.json");
    let root = std::env::var("CERTGATE_LIMBO_JSON").unwrap_or_else(|_| vendored.to_owned());
    let text = std::fs::read_to_string(&root).unwrap_or_else(|e| {
        panic!("cannot read the x509-limbo vectors at {root} ({e}): the vendored copy belongs at {vendored}")
    });
    let limbo: Limbo = serde_json::from_str(&text).expect("limbo.json parses");
    let exceptions: BTreeMap<String, String> =
        serde_json::from_str(include_str!("limbo-exceptions.json")).expect("exceptions parse");
    let outcomes: Vec<Outcome> = limbo
        .testcases
        .iter()
        .map(|case| {
            let (ok, code) = verdict(case);
            Outcome {
                id: case.id.clone(),
                matches: ok == (case.expected_result == "SUCCESS"),
                detail: format!("expected {} got {code}", case.expected_result),
            }
        })
        .collect();
    if let Err(report) = compare(&outcomes, &exceptions) {
        panic!("{report}");
    }
}

#[test]
fn limbo_time_parsing_matches_known_instants() {
    assert_eq!(epoch("1970-01-01T00:00:00+00:00"), 0);
    assert_eq!(epoch("2049-12-31T23:59:59+00:00"), 2_524_607_999);
}
