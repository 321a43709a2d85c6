//! Native engine: converts Node values to bytes, calls `certgate-api`, converts back.
//! No logic lives here; `certgate-wasm` exposes the same names and shapes.

use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

fn to_js<T: serde::Serialize>(value: &T) -> napi::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// Parse the first certificate of a PEM or DER input.
#[napi]
pub fn inspect(input: Uint8Array) -> napi::Result<serde_json::Value> {
    to_js(&certgate_api::inspect(&input))
}

/// Every error code the engine can return.
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    certgate_api::error_codes()
}
