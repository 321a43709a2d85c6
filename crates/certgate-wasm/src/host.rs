//! Signature arithmetic handed to the host. Big-number code compiled to wasm runs 10–30×
//! slower in V8 than native code (bench/README.md), so the JavaScript side registers a
//! function backed by `node:crypto` (OpenSSL) with `setHostVerifier`. Without one, or
//! when it answers anything but a boolean, the pure-Rust RustCrypto code inside the
//! module does the work.

use std::cell::RefCell;

use certgate_core::{SignatureVerifier, SignedData};
use certgate_rustcrypto::RustCryptoVerifier;
use wasm_bindgen::JsValue;

thread_local! {
    static HOST: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Install (or with `None`, remove) the host verifier:
/// `(algorithm: string, spki: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean | undefined`.
pub fn set(function: Option<js_sys::Function>) {
    HOST.with(|h| *h.borrow_mut() = function);
}

/// The host's verifier with the RustCrypto fallback.
pub struct HostVerifier;

impl SignatureVerifier for HostVerifier {
    fn verify(&self, data: &SignedData<'_>) -> bool {
        let answer = HOST.with(|h| {
            let host = h.borrow();
            let function = host.as_ref()?;
            let args = js_sys::Array::of4(
                &JsValue::from_str(data.algorithm.aws_name()),
                &js_sys::Uint8Array::from(data.spki).into(),
                &js_sys::Uint8Array::from(data.message).into(),
                &js_sys::Uint8Array::from(data.signature).into(),
            );
            function.apply(&JsValue::NULL, &args).ok()?.as_bool()
        });
        answer.unwrap_or_else(|| RustCryptoVerifier.verify(data))
    }
}
