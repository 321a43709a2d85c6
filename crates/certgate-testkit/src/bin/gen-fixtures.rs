//! Writes `test/fixtures/engine/cases.json` (the TS fixture suite's input).
//! Run from the repository root: `cargo run -p certgate-testkit --bin gen-fixtures`.

fn main() -> std::io::Result<()> {
    let path = std::path::Path::new("test/fixtures/engine/cases.json");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, certgate_testkit::cases_json())?;
    println!("wrote {}", path.display());
    Ok(())
}
