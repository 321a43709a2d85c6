#!/usr/bin/env bash
# Build the native engine with @napi-rs/cli into build/native (addon + index.d.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
npx napi build --release --platform --no-js --dts index.d.ts \
  --manifest-path crates/certgate-napi/Cargo.toml \
  --package-json-path crates/certgate-napi/package.json \
  --output-dir build/native
