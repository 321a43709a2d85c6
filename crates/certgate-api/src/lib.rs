//! The operations both bindings expose, with their JavaScript-facing result shapes.
//!
//! `certgate-wasm` and `certgate-napi` must expose identical names and shapes, so the
//! operations live here once. Each binding converts its host's input into bytes,
//! calls a function of this crate with its signature backend, and serialises the
//! returned value with its own serde bridge. A refusal is data
//! (`{ ok: false, code, message }`), never an exception: errors thrown across a worker
//! thread lose their fields, plain objects do not.
#![forbid(unsafe_code)]

mod ops;
mod shapes;

pub use ops::*;
pub use shapes::*;
