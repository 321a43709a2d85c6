#!/usr/bin/env bash
# Build the wasm engine: cargo for wasm32-unknown-unknown, then the wasm-bindgen CLI
# (same version as the crate) emits CommonJS glue for Node into build/wasm.
# The compiler comes from build/toolchain.env, written by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
WASM_CARGO=cargo WASM_RUSTC=rustc
[ -f build/toolchain.env ] && . build/toolchain.env
# Debian's compiler gets its own target dir: its rlibs must not mix with rustup's.
TARGET_DIR=target
[ "$WASM_CARGO" = cargo ] || TARGET_DIR=target/debian-rustc
RUSTC=$WASM_RUSTC $WASM_CARGO build --release -p certgate-wasm --target wasm32-unknown-unknown --target-dir "$TARGET_DIR"
WASM=$TARGET_DIR/wasm32-unknown-unknown/release/certgate_wasm.wasm
if [ ! -f build/wasm/certgate_wasm_bg.wasm ] || [ "$WASM" -nt build/wasm/certgate_wasm_bg.wasm ]; then
  wasm-bindgen --target nodejs --out-dir build/wasm "$WASM"
fi
# The glue is CommonJS; the project root is "type": "module".
echo '{ "type": "commonjs" }' > build/wasm/package.json
