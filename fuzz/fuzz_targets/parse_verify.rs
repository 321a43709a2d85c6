//! Arbitrary bytes through every parsing entry point and the chain verifier. The same
//! body replays the committed corpus in `cargo test` (crates/certgate-testkit/tests/fuzz_corpus.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    certgate_testkit::fuzz::parse_verify(data);
});
