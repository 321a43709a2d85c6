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

/// A small deterministic stand-in for the fuzzer between fuzzing sessions: each corpus
/// input mutated (byte flips, truncations, insertions) with a fixed seed.
#[test]
fn seeded_mutations_of_the_corpus_are_handled_without_panicking() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/parse_verify"
    );
    let mut rng = certgate_testkit::rng::SeededRng::new("certgate mutations");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let original = std::fs::read(&path).expect("corpus file");
        for _ in 0..32 {
            let mut data = original.clone();
            let pick = rng.bytes(4);
            let at = usize::from(u16::from_le_bytes([pick[0], pick[1]])) % data.len().max(1);
            match pick[2] % 3 {
                0 => {
                    if let Some(b) = data.get_mut(at) {
                        *b ^= pick[3] | 1;
                    }
                }
                1 => data.truncate(at),
                _ => data
                    .splice(at..at, rng.bytes(usize::from(pick[3] % 16)))
                    .for_each(drop),
            }
            certgate_testkit::fuzz::parse_verify(&data);
        }
    }
}
