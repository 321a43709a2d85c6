//! What the external conformance suites (`tests/x509_limbo.rs`, `tests/bettertls.rs`)
//! share: one call of the engine's path validation per case, the vectors read from the
//! repository with an error naming the path looked at, and the comparison of every
//! case against the suite's exceptions file, where an unexpected pass fails like an
//! unexpected failure so the list can only shrink deliberately.

use std::collections::BTreeMap;
use std::path::Path;

use certgate_core::{verify_chain, ChainInput, EkuPolicy, Limits};
use certgate_ring::RingVerifier;

/// The engine's verdict on one chain: `Ok(())` or the error code it refused with.
pub fn path_verdict(
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: i64,
    eku: EkuPolicy,
    limits: &Limits,
) -> Result<(), String> {
    let input = ChainInput {
        leaf,
        intermediates,
        anchors,
        at,
        eku,
    };
    verify_chain(&RingVerifier, &input, limits)
        .map(|_| ())
        .map_err(|e| e.code().as_str().to_owned())
}

/// The bytes of a vector file the suite cannot run without; a missing file fails
/// with the path it looked for.
pub fn read_vectors(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance vectors at {} ({e}); they are committed to the repository",
            path.display()
        )
    })
}

/// One case's outcome: `matches` is whether the engine's verdict equals the suite's
/// expected verdict; `detail` says both when they differ, for the report.
pub struct Outcome {
    pub id: String,
    pub matches: bool,
    pub detail: String,
}

/// Every case against the exceptions (case id → reason): a listed case must diverge,
/// an unlisted one must match, and every listed id must name a case. Returns how many
/// listed divergences held, or the report of every problem.
pub fn compare(
    outcomes: &[Outcome],
    exceptions: &BTreeMap<String, String>,
) -> Result<usize, String> {
    let mut problems = Vec::new();
    let mut held = 0;
    for outcome in outcomes {
        match (outcome.matches, exceptions.get(&outcome.id)) {
            (true, Some(reason)) => problems.push(format!(
                "unexpected pass: {} (listed as: {reason})",
                outcome.id
            )),
            (false, None) => {
                problems.push(format!("divergence: {} {}", outcome.id, outcome.detail))
            }
            (false, Some(_)) => held += 1,
            (true, None) => {}
        }
    }
    let ids: std::collections::BTreeSet<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    for id in exceptions.keys().filter(|id| !ids.contains(id.as_str())) {
        problems.push(format!("exception for unknown case {id}"));
    }
    if problems.is_empty() {
        Ok(held)
    } else {
        Err(format!(
            "{} problems ({held} listed divergences held):\n{}",
            problems.len(),
            problems.join("\n")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, matches: bool) -> Outcome {
        Outcome {
            id: id.to_owned(),
            matches,
            detail: String::new(),
        }
    }

    #[test]
    fn listed_divergence_holds_and_unlisted_match_passes() {
        let exceptions = BTreeMap::from([("a".to_owned(), "why".to_owned())]);
        assert_eq!(
            compare(&[outcome("a", false), outcome("b", true)], &exceptions),
            Ok(1)
        );
    }

    #[test]
    fn unexpected_pass_unlisted_divergence_and_unknown_id_all_fail() {
        let exceptions = BTreeMap::from([
            ("a".to_owned(), "why".to_owned()),
            ("gone".to_owned(), "why".to_owned()),
        ]);
        let report = compare(&[outcome("a", true), outcome("b", false)], &exceptions)
            .expect_err("three problems");
        assert!(report.contains("unexpected pass: a"), "{report}");
        assert!(report.contains("divergence: b"), "{report}");
        assert!(
            report.contains("exception for unknown case gone"),
            "{report}"
        );
    }

    #[test]
    fn missing_vectors_name_the_path() {
        let missing = Path::new("/nonexistent/certgate/vectors.json.gz");
        let err = std::panic::catch_unwind(|| read_vectors(missing)).expect_err("must fail");
        let text = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            text.contains("/nonexistent/certgate/vectors.json.gz"),
            "{text}"
        );
    }
}
