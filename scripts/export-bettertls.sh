#!/usr/bin/env bash
# Regenerates the BetterTLS vectors under crates/certgate-testkit/vectors/bettertls/.
#
#   bash scripts/export-bettertls.sh
#
# Needs Go (1.23 or newer; /usr/local/go/bin is searched too) and network access to the
# Go module proxy: this script is a registry use. It runs Netflix's BetterTLS
# (https://github.com/Netflix/bettertls, Apache-2.0) as an ordinary Go module at the
# version pinned below, through the Go module proxy ($GOPROXY, default
# https://proxy.golang.org), and writes:
#
#   export.json.gz  `bettertls export-tests` verbatim (gzip -9n): every case of the
#                   nameconstraints and pathbuilding suites with its certificates
#                   (leaf first), BetterTLS's verdict and the trust root (DER, base64).
#   cases.json.gz   the parameters and expected result of every case, by the same id,
#                   printed by scripts/bettertls-cases (our own program importing the
#                   same module version): which SAN and which name constraint a case
#                   holds, which edge of which trust graph is invalid and why.
#   LICENSE         BetterTLS's licence, from the module cache.
#
# BetterTLS makes fresh keys, serials and validity dates on every run, so a rerun
# changes every byte of export.json.gz (cases.json.gz stays identical); the verdicts do
# not change. Cargo never runs this: `cargo test` reads the committed files. After a
# rerun, update the export instant in vectors/bettertls/README.md and EXPORTED_AT in
# crates/certgate-testkit/tests/bettertls.rs (the test names the new value), then run
# `cargo test -p certgate-testkit --test bettertls`.
set -euo pipefail

BETTERTLS_VERSION=v0.0.0-20250909192348-e1e99e353074
MODULE=github.com/Netflix/bettertls

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/crates/certgate-testkit/vectors/bettertls
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "export-bettertls: Go is required (https://go.dev/dl/)" >&2; exit 1; }
# The helper's go.mod must pin the same version as the export.
grep -q "$MODULE $BETTERTLS_VERSION" scripts/bettertls-cases/go.mod ||
  { echo "export-bettertls: scripts/bettertls-cases/go.mod does not pin $MODULE $BETTERTLS_VERSION" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

echo "==> go mod download $MODULE@$BETTERTLS_VERSION"
DIR=$(cd "$TMP" && GOFLAGS=-mod=mod go mod download -json "$MODULE@$BETTERTLS_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -f "$DIR/LICENSE" ] || { echo "export-bettertls: no LICENSE in $DIR" >&2; exit 1; }

echo "==> bettertls export-tests (about a minute)"
(cd "$TMP" && go run "$MODULE/test-suites/cmd/bettertls@$BETTERTLS_VERSION" export-tests --out "$TMP/export.json")

echo "==> bettertls-cases"
(cd scripts/bettertls-cases && go run . >"$TMP/cases.json")

gzip -9n -c "$TMP/export.json" >"$OUT/export.json.gz"
gzip -9n -c "$TMP/cases.json" >"$OUT/cases.json.gz"
cp "$DIR/LICENSE" "$OUT/LICENSE"
chmod 644 "$OUT/LICENSE"
ls -l "$OUT"
echo "export-bettertls: done at $(date -u +%Y-%m-%dT%H:%M:%SZ); update the export instant in $OUT/README.md and EXPORTED_AT in tests/bettertls.rs"
