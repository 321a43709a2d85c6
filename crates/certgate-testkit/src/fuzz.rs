//! The body of the `parse_verify` fuzz target (`fuzz/`), shared with the corpus replay
//! test so the committed corpus runs in every `cargo test`.

use certgate_rustcrypto::RustCryptoVerifier;

/// 2025-06-01T00:00:00Z as a JavaScript-style number.
const AT: f64 = 1_748_736_000.0;

/// Feed `data` to every entry point that parses attacker bytes. Any panic is a bug.
pub fn parse_verify(data: &[u8]) {
    let _ = certgate_api::inspect(data);
    let _ = certgate_api::inspect_chain(data);
    // The input as leaf, intermediates and anchor at once: exercises path building over
    // whatever certificates the bytes contain, including self-issued loops.
    let all = vec![data.to_vec()];
    let _ = certgate_api::verify_chain(&RustCryptoVerifier, data, &all, &all, AT, "client");
    let _ = certgate_api::verify_registration_proof(&RustCryptoVerifier, data, data, "code", AT);
    let _ = certgate_api::issue_from_csr(&RustCryptoVerifier, data, data, data, &[1; 20], AT);
}
