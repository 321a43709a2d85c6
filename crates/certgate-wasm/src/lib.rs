//! WebAssembly engine: converts JS values to bytes, calls `certgate-api`, converts back.
//! No logic lives here; `certgate-napi` exposes the same names and shapes.

use wasm_bindgen::prelude::*;

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    // json_compatible: maps become plain objects, like the native engine's output.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

/// Parse the first certificate of a PEM or DER input.
#[wasm_bindgen]
pub fn inspect(input: &[u8]) -> Result<JsValue, JsError> {
    to_js(&certgate_api::inspect(input))
}

/// Every error code the engine can return.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    certgate_api::error_codes().into_iter().map(String::from).collect()
}
