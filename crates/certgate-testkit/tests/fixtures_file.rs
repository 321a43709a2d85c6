//! The committed TS fixture file must be exactly what the generator produces, so the
//! fixtures can never drift from the code that makes them.

#[test]
fn committed_cases_json_matches_the_generator() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test/fixtures/engine/cases.json"
    );
    let committed = std::fs::read_to_string(path).expect("test/fixtures/engine/cases.json exists");
    assert!(
        committed == certgate_testkit::cases_json(),
        "test/fixtures/engine/cases.json is stale: run `cargo run -p certgate-testkit --bin gen-fixtures`"
    );
}
