#!/usr/bin/env bash
# Exactly what CI runs after setup (`npm test` = setup --for test + this). Checks, never
# rewrites: formatting and lint failures fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
WASM_CARGO=cargo WASM_RUSTC=rustc
[ -f build/toolchain.env ] && . build/toolchain.env
WASM_TARGET_DIR=target
[ "$WASM_CARGO" = cargo ] || WASM_TARGET_DIR=target/debian-rustc

T0=$(date +%s)
step() { printf '\n==> [%3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test"
# The napi crate is a cdylib whose symbols come from Node at load time; its behaviour is
# tested through Node (test/engine), like the wasm crate's.
cargo test --workspace --exclude certgate-napi --quiet

step "the core stays pure: cargo check -p certgate-core --target wasm32-unknown-unknown"
RUSTC=$WASM_RUSTC $WASM_CARGO check -p certgate-core --target wasm32-unknown-unknown --target-dir "$WASM_TARGET_DIR" --quiet

step "tsc --noEmit"
npx tsc -p tsconfig.check.json

step "oxlint"
npx oxlint --deny-warnings ts test bench

step "prettier --check (TypeScript formatting; fix with: npm run format)"
npx prettier --check --log-level warn "ts/**/*.ts" "test/**/*.ts" "bench/**/*.ts"

step "vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=build/vitest.json
# One plain closing line with the totals.
node -e 'const r = require("./build/vitest.json"); console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)'

step "all checks passed in $(( $(date +%s) - T0 ))s"
