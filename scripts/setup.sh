#!/usr/bin/env bash
# certgate's own setup: installs what a fresh Debian 12 machine lacks, then builds both
# engines and the TypeScript. Idempotent; a warm rerun only asks cargo and tsc whether
# anything changed.
#
#   bash scripts/setup.sh            # what `npm start` needs
#   bash scripts/setup.sh --for test # also the tools the test suite drives (nginx, aws CLI)
#   bash scripts/setup.sh --for bench # also the load generators of bench/fleetTraffic.ts (wrk, ghz)
#
# Every step prints what it does. A step that cannot work here (no root for apt, no
# network) stops with the exact command to run by hand.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PURPOSE=run
while [ $# -gt 0 ]; do
  case "$1" in
    --for) PURPOSE="${2:?--for needs run, test or bench}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument $1" >&2; exit 2 ;;
  esac
done


[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

T0=$(date +%s)
step() { printf '\n==> [%3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf '\nsetup: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------- apt
APT_UPDATED=0
apt_install() {
  # Install the Debian packages named, skipping those already present.
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}
Install them by hand, then rerun:
  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  step "apt-get install ${missing[*]}"
  if [ $APT_UPDATED -eq 0 ]; then
    apt-get update -q >/dev/null || die "apt-get update failed (no network?). Run by hand: apt-get update && apt-get install -y ${missing[*]}"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    | grep -E '^(Setting up|Unpacking)' || true
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
      || die "apt-get could not install $p. Run by hand: apt-get install -y $p"
  done
}

# ---------------------------------------------------------------------------- checks
step "checking node and cargo"
command -v node >/dev/null || die "Node.js 20 or newer is required (apt-get install nodejs, or nodesource)"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js 20 or newer is required, found $(node --version)"
command -v cargo >/dev/null || die "Rust is required: install rustup (https://rustup.rs) and the stable toolchain"
echo "node $(node --version), $(cargo --version)"

apt_install build-essential pkg-config
if [ "$PURPOSE" = test ]; then
  # Real peers the test suite drives: NGINX with auth_request, the AWS CLI, curl,
  # and PostgreSQL (test/registry/postgres.test.ts starts its own server).
  apt_install nginx awscli curl openssl postgresql
  # Prometheus and promtool check the shipped ops/ rules and dashboard (test/ops).
  apt_install prometheus
  # MQTT devices end to end (test/e2e/mqtt.test.ts): NGINX stream + njs, the Mosquitto broker.
  apt_install libnginx-mod-stream libnginx-mod-stream-js mosquitto mosquitto-clients
  # The live /dashboard page in a real headless browser (test/dashboard/browser.test.ts, puppeteer-core).
  apt_install chromium
fi
if [ "$PURPOSE" = bench ]; then
  # wrk: the C load generator of `npm run bench:fleet` (a few µs of CPU per request, where
  # a Node generator costs ~20; bench/fleetTraffic.ts).
  apt_install wrk
  # ghz: the Go gRPC load generator of the gRPC door (github.com/bojand/ghz; v0.93.0 is
  # what `go install …@latest` resolves through the Go module proxy). Without Go the bench
  # falls back to `certgate load --grpc` processes, which cost far more CPU per call.
  if [ ! -x "${GOPATH:-$HOME/go}/bin/ghz" ]; then
    if command -v go >/dev/null; then
      step "go install github.com/bojand/ghz/cmd/ghz@v0.93.0"
      go install github.com/bojand/ghz/cmd/ghz@v0.93.0 || die "go install of ghz failed (no network?); the bench can run without it"
    else
      echo "setup: no Go toolchain; bench/fleetTraffic.ts will drive the gRPC door with certgate load"
    fi
  fi
fi

# ---------------------------------------------------------------------------- npm
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci (dependencies from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed (is the npm registry reachable?)"
else
  step "npm dependencies up to date"
fi

# ---------------------------------------------------------------------------- wasm32 std
# Prefer rustup's wasm32 standard library; where its download host is unreachable, build
# one from Debian's rust-web-src with build-std and install it into Debian's compiler
# sysroot. The choice is recorded in build/toolchain.env so
# every later step (and scripts/check.sh) uses the same compiler.
mkdir -p build
WASM_TARGET=wasm32-unknown-unknown
# CERTGATE_WASM_TOOLCHAIN=debian forces the fallback (to test it on a machine with rustup's).
FORCE_DEBIAN=0
[ "${CERTGATE_WASM_TOOLCHAIN:-}" = debian ] && FORCE_DEBIAN=1
if [ $FORCE_DEBIAN = 0 ] && rustup target list --installed 2>/dev/null | grep -qx "$WASM_TARGET"; then
  step "wasm32 target: rustup (already installed)"
  WASM_CARGO=cargo WASM_RUSTC=rustc
elif [ $FORCE_DEBIAN = 0 ] && step "wasm32 target: trying rustup target add" \
    && timeout 180 rustup target add "$WASM_TARGET"; then
  WASM_CARGO=cargo WASM_RUSTC=rustc
else
  step "wasm32 target: rustup cannot download it; using Debian's rustc-web with a self-built std"
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  WASM_CARGO=/usr/bin/cargo WASM_RUSTC=/usr/bin/rustc
  SYSROOT=$($WASM_RUSTC --print sysroot)
  if ! ls "$SYSROOT/lib/rustlib/$WASM_TARGET/lib/"libstd-*.rlib >/dev/null 2>&1; then
    step "building the wasm32 standard library from rust-web-src (about a minute)"
    STD_WS=$ROOT/build/wasm-std
    rm -rf "$STD_WS" && mkdir -p "$STD_WS/src"
    cat > "$STD_WS/Cargo.toml" <<'EOF'
[workspace]

[package]
name = "certgate-wasm-std-probe"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
[profile.release]
panic = "abort"
EOF
    echo '' > "$STD_WS/src/lib.rs"
    (cd "$STD_WS" && RUSTC=$WASM_RUSTC RUSTC_BOOTSTRAP=1 \
      $WASM_CARGO build --release -Z build-std=std,panic_abort --target "$WASM_TARGET") \
      || die "building the wasm32 std failed; see the output above"
    install -d "$SYSROOT/lib/rustlib/$WASM_TARGET/lib"
    for f in "$STD_WS/target/$WASM_TARGET/release/deps/"lib*.rlib; do
      case "$(basename "$f")" in libcertgate_*) ;; *) cp "$f" "$SYSROOT/lib/rustlib/$WASM_TARGET/lib/" ;; esac
    done
  fi
fi
printf 'WASM_CARGO=%s\nWASM_RUSTC=%s\n' "$WASM_CARGO" "$WASM_RUSTC" > build/toolchain.env

# ---------------------------------------------------------------------------- wasm-bindgen CLI
# The CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ -n "$WB_VERSION" ] || die "cannot find the wasm-bindgen version in Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WB_VERSION (a few minutes, once per machine)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" \
    || die "cargo install wasm-bindgen-cli $WB_VERSION failed (is crates.io reachable?)"
else
  step "wasm-bindgen CLI $WB_VERSION present"
fi

# ---------------------------------------------------------------------------- wasm-pack
# scripts/build-wasm.sh builds the wasm engine with wasm-pack (pinned; built from the
# crates registry because the npm package downloads its binary at install time; its
# wasm-opt pass is off, see crates/certgate-wasm/Cargo.toml). Installing it took 331 s of
# CPU (28 min wall on a 2-core machine shared with other builds); it is skipped when the
# pinned version is present.
WASM_PACK_VERSION=0.15.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  step "cargo install wasm-pack $WASM_PACK_VERSION (a few minutes, once per machine)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked \
    || die "cargo install wasm-pack $WASM_PACK_VERSION failed (is crates.io reachable?)"
else
  step "wasm-pack $WASM_PACK_VERSION present"
fi

# ---------------------------------------------------------------------------- builds
step "building the native engine (napi-rs, release)"
npm run --silent build:native

step "building the wasm engine (wasm32, release) and its JS glue"
npm run --silent build:wasm

step "compiling the TypeScript"
npm run --silent build:ts

step "setup done in $(( $(date +%s) - T0 ))s"
