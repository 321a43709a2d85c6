//! A seeded byte stream (SHA-256 in counter mode) for reproducible key generation.
//! Test-only: it is deterministic by design and must never produce real keys.

use core::convert::Infallible;

use sha2::{Digest, Sha256};

/// Deterministic RNG: block i is SHA-256(seed || i).
pub struct SeededRng {
    seed: Vec<u8>,
    counter: u64,
    buffer: Vec<u8>,
}

impl SeededRng {
    /// A stream named by `seed`.
    pub fn new(seed: &str) -> Self {
        Self {
            seed: seed.as_bytes().to_vec(),
            counter: 0,
            buffer: Vec::new(),
        }
    }

    /// `n` bytes from the stream.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        self.fill(&mut out);
        out
    }

    fn fill(&mut self, dst: &mut [u8]) {
        for b in dst.iter_mut() {
            if self.buffer.is_empty() {
                let mut h = Sha256::new();
                h.update(&self.seed);
                h.update(self.counter.to_be_bytes());
                self.counter += 1;
                self.buffer = h.finalize().to_vec();
            }
            *b = self.buffer.remove(0);
        }
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeededRng {}
