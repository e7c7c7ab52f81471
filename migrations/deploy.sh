#!/usr/bin/env bash
# Deploys target/deploy/gpu_escrow.so through the upgradeable loader to any cluster and
# initialises the config. The deploying wallet becomes the upgrade authority and the admin.
#
#   migrations/deploy.sh -u <URL|moniker> -k <PAYER_KEYPAIR> --arbiter <PUBKEY> --treasury <PUBKEY> \
#       [--fee-bps 250] [--program-keypair keys/gpu_escrow-localnet-keypair.json]
#
# Nothing but the URL changes between localnet, devnet and mainnet.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
URL="" KEYPAIR="" ARBITER="" TREASURY="" FEE=250
PROGRAM_KEYPAIR="$ROOT/keys/gpu_escrow-localnet-keypair.json"
while [ $# -gt 0 ]; do
  case "$1" in
    -u|--url) URL="$2"; shift 2 ;;
    -k|--keypair) KEYPAIR="$2"; shift 2 ;;
    --arbiter) ARBITER="$2"; shift 2 ;;
    --treasury) TREASURY="$2"; shift 2 ;;
    --fee-bps) FEE="$2"; shift 2 ;;
    --program-keypair) PROGRAM_KEYPAIR="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
for v in URL KEYPAIR ARBITER TREASURY; do
  [ -n "${!v}" ] || { echo "missing --$(echo "$v" | tr 'A-Z' 'a-z')" >&2; exit 2; }
done
# Each step says what it is doing on stderr; cargo and the upload show their own progress.
step() { printf '[deploy.sh] %s\n' "$*" >&2; }
SO="$ROOT/target/deploy/gpu_escrow.so"
if [ ! -f "$SO" ]; then
  step "building the program (scripts/build-sbf)"
  "$ROOT/scripts/build-sbf" >/dev/null
fi
# GPU_ESCROW_CLI names an already built gpu-escrow binary (the tests use it).
if [ -n "${GPU_ESCROW_CLI:-}" ]; then
  CLI="$GPU_ESCROW_CLI"
else
  step "building the gpu-escrow CLI (a first build compiles for a few minutes)"
  cargo build --manifest-path "$ROOT/Cargo.toml" -p gpu-escrow-cli
  CLI="$ROOT/target/debug/gpu-escrow"
fi
G() { "$CLI" -u "$URL" -k "$KEYPAIR" "$@"; }
step "deploying $(basename "$SO") ($(wc -c <"$SO") bytes) to $URL; the upload takes about one write transaction per KB"
G program deploy --so "$SO" --program-keypair "$PROGRAM_KEYPAIR"
step "initialising the config: arbiter $ARBITER, treasury $TREASURY, fee $FEE bps"
G config init --arbiter "$ARBITER" --treasury "$TREASURY" --fee-bps "$FEE"
G config show
step "done"
