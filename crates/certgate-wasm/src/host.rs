//! Signature arithmetic handed to the host. Big-number code compiled to wasm runs 10–30×
//! slower in V8 than native code (bench/README.md), so the JavaScript side registers a
//! verifier backed by `node:crypto` (OpenSSL) with `setHostVerifier`. Without one, or
//! when it cannot answer, the pure-Rust RustCrypto code inside the module does the work.
//!
//! The crossing is kept cheap (bench/README.md, "The wasm engine's cold path"): the
//! algorithm travels as its index in [`SignatureAlgorithm::ALL`] (the host reads the
//! names once with `hostAlgorithms`), the byte arguments as views of the module's memory
//! (wasm-bindgen passes a borrowed slice to an import without copying it), and the
//! signer's key as a slot number: the module remembers which SPKI each slot holds
//! ([`KeySlots`], exact bytes), and sends the SPKI only when a slot gets a new key, so
//! the host keeps one parsed key per slot and never hashes or encodes the key's bytes.

use std::cell::RefCell;
use std::collections::HashMap;

use certgate_core::{SignatureAlgorithm, SignatureVerifier, SignedData};
use certgate_rustcrypto::RustCryptoVerifier;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The host's verifier (`ts/engine/host-crypto.ts`, `HostVerifier`).
    pub type Host;

    /// `verify(algorithm, slot, spki, message, signature)`: 1 valid, 0 invalid, anything
    /// else (or a throw) means the host cannot answer. `spki` is empty unless `slot` has
    /// just been given a new key; the views are valid only during the call.
    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &Host,
        algorithm: u32,
        slot: u32,
        spki: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<u32, JsValue>;
}

/// Keys the host holds at most (registered CAs are few; the bound is for hostile input).
pub const KEY_SLOTS: usize = 1024;

/// Which SPKI each host key slot holds, by exact bytes; the least recently used slot is
/// given to a new key when all are taken.
#[derive(Default)]
struct KeySlots {
    by_spki: HashMap<Vec<u8>, usize>,
    /// Per slot: its SPKI and when it was last used.
    slots: Vec<(Vec<u8>, u64)>,
    clock: u64,
}

impl KeySlots {
    /// The slot of `spki`, and whether it is new (the host must load the key).
    fn slot(&mut self, spki: &[u8]) -> (usize, bool) {
        self.clock = self.clock.wrapping_add(1);
        if let Some(&slot) = self.by_spki.get(spki) {
            if let Some(entry) = self.slots.get_mut(slot) {
                entry.1 = self.clock;
            }
            return (slot, false);
        }
        let slot = if self.slots.len() < KEY_SLOTS {
            self.slots.push((spki.to_vec(), self.clock));
            self.slots.len().saturating_sub(1)
        } else {
            let slot = self
                .slots
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, used))| *used)
                .map_or(0, |(slot, _)| slot);
            if let Some(entry) = self.slots.get_mut(slot) {
                let old = std::mem::replace(entry, (spki.to_vec(), self.clock));
                self.by_spki.remove(&old.0);
            }
            slot
        };
        self.by_spki.insert(spki.to_vec(), slot);
        (slot, true)
    }
}

struct Installed {
    host: Host,
    keys: KeySlots,
}

thread_local! {
    static HOST: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Install (or with `None`, remove) the host verifier. A new host starts with no keys.
pub fn set(host: Option<Host>) {
    HOST.with(|h| {
        *h.borrow_mut() = host.map(|host| Installed {
            host,
            keys: KeySlots::default(),
        });
    });
}

/// The AWS names of the algorithms, in the order of the indexes `verify` receives.
pub fn algorithms() -> Vec<String> {
    SignatureAlgorithm::ALL
        .iter()
        .map(|a| a.aws_name().to_owned())
        .collect()
}

fn index(algorithm: SignatureAlgorithm) -> u32 {
    let position = SignatureAlgorithm::ALL
        .iter()
        .position(|a| *a == algorithm)
        .unwrap_or(usize::MAX);
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// The host's verifier with the RustCrypto fallback.
pub struct HostVerifier;

impl SignatureVerifier for HostVerifier {
    fn verify(&self, data: &SignedData<'_>) -> bool {
        let answer = HOST.with(|h| {
            let mut installed = h.borrow_mut();
            let Installed { host, keys } = installed.as_mut()?;
            let (slot, new) = keys.slot(data.spki);
            let spki = if new { data.spki } else { &[] };
            let answer = host.verify(
                index(data.algorithm),
                u32::try_from(slot).ok()?,
                spki,
                data.message,
                data.signature,
            );
            match answer {
                Ok(1) => Some(true),
                Ok(0) => Some(false),
                _ => None,
            }
        });
        answer.unwrap_or_else(|| RustCryptoVerifier.verify(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_keeps_its_slot_and_is_new_once() {
        let mut keys = KeySlots::default();
        assert_eq!(keys.slot(b"a"), (0, true));
        assert_eq!(keys.slot(b"b"), (1, true));
        assert_eq!(keys.slot(b"a"), (0, false));
        assert_eq!(keys.slot(b"b"), (1, false));
    }

    #[test]
    fn the_least_recently_used_slot_goes_to_a_new_key_when_all_are_taken() {
        let mut keys = KeySlots::default();
        for i in 0..KEY_SLOTS {
            assert_eq!(keys.slot(i.to_string().as_bytes()), (i, true));
        }
        // Key "0" is used again, so "1" is now the least recently used.
        assert_eq!(keys.slot(b"0"), (0, false));
        assert_eq!(keys.slot(b"new"), (1, true));
        // "1" lost its slot: it comes back as new, into the next least recently used.
        assert_eq!(keys.slot(b"1"), (2, true));
        assert_eq!(keys.slot(b"new"), (1, false));
        assert_eq!(keys.by_spki.len(), KEY_SLOTS);
    }
}
