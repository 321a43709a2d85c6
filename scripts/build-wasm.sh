#!/usr/bin/env bash
# Build the wasm engine into build/wasm (where ts/engine/load.ts loads it) with wasm-pack
# (pinned, installed by scripts/setup.sh):
#   1. cargo builds certgate-wasm for wasm32-unknown-unknown (release);
#   2. the wasm-bindgen CLI emits CommonJS glue for Node (`--target nodejs`); it must be
#      the crate's exact version, installed by scripts/setup.sh, so `--mode no-install`.
# wasm-pack's third step, wasm-opt, is switched off in crates/certgate-wasm/Cargo.toml:
# Debian 12's binaryen 108 (the only wasm-opt available offline) breaks the module's
# externref table export, so the engine would not load. The comment there says how.
# Works offline: every tool is installed beforehand. The compiler comes from
# build/toolchain.env, written by scripts/setup.sh. A rerun with nothing changed costs
# one fresh cargo build check of the crate.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
WASM_CARGO=cargo WASM_RUSTC=rustc
[ -f build/toolchain.env ] && . build/toolchain.env
# Debian's compiler gets its own target dir: its rlibs must not mix with rustup's.
# wasm-pack runs `cargo` and `rustc` from PATH, so Debian's go first there.
export CARGO_TARGET_DIR=$PWD/target
if [ "$WASM_CARGO" != cargo ]; then
  CARGO_TARGET_DIR=$PWD/target/debian-rustc
  PATH="$(dirname "$WASM_CARGO"):$PATH"
fi
export RUSTC=$WASM_RUSTC
# WebAssembly SIMD (fixed-width, in every Node release since 16.4; V8 needs SSE4.1 on
# x86-64): LLVM vectorises byte loops (hex, comparisons, copies), ~3 % off a cold
# verifyChain (bench/README.md, "The wasm engine's cold path"). Only the wasm target gets
# it; wasm-pack's own cargo run below inherits it, so it finds the build up to date.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
OUT=$PWD/build/wasm
WASM=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/certgate_wasm.wasm
# The same cargo build wasm-pack runs; when neither its module nor the crate manifest
# (wasm-pack's settings) is newer than the output, nothing changed and wasm-pack is skipped.
$WASM_CARGO build --release --lib --manifest-path crates/certgate-wasm/Cargo.toml --target wasm32-unknown-unknown --quiet
if [ ! -f "$OUT/certgate_wasm_bg.wasm" ] || [ "$WASM" -nt "$OUT/certgate_wasm_bg.wasm" ] \
  || [ crates/certgate-wasm/Cargo.toml -nt "$OUT/certgate_wasm_bg.wasm" ]; then
  wasm-pack --quiet build crates/certgate-wasm --release --target nodejs --mode no-install --no-pack --out-dir "$OUT"
  rm -f "$OUT/.gitignore"
fi
# The glue is CommonJS; the project root is "type": "module".
echo '{ "type": "commonjs" }' > "$OUT/package.json"
