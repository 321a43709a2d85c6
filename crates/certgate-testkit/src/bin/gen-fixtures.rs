//! Writes `test/fixtures/engine/cases.json` (the TS fixture suite's input) and seeds
//! the fuzz corpus `fuzz/corpus/parse_verify/` with every byte input of the cases.
//! Run from the repository root: `cargo run -p certgate-testkit --bin gen-fixtures`.

fn main() -> std::io::Result<()> {
    let path = std::path::Path::new("test/fixtures/engine/cases.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, certgate_testkit::cases_json())?;
    println!("wrote {}", path.display());
    let corpus = std::path::Path::new("fuzz/corpus/parse_verify");
    std::fs::create_dir_all(corpus)?;
    for (i, seed) in certgate_testkit::corpus_seeds().iter().enumerate() {
        std::fs::write(corpus.join(format!("seed-{i:03}")), seed)?;
    }
    println!("wrote {}", corpus.display());
    Ok(())
}
