//! Replays the committed fuzz corpus (`fuzz/corpus/parse_verify/`) through the fuzz
//! target's body: every input that once mattered keeps being exercised.

#[test]
fn every_fuzz_corpus_input_is_handled_without_panicking() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/parse_verify"
    );
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("fuzz corpus directory exists") {
        let path = entry.expect("directory entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        certgate_testkit::fuzz::parse_verify(&data);
        count += 1;
    }
    assert!(count >= 10, "the corpus has only {count} inputs");
}
