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
[ -f "$ROOT/target/deploy/gpu_escrow.so" ] || "$ROOT/scripts/build-sbf" >/dev/null
cargo build -q --manifest-path "$ROOT/Cargo.toml" -p gpu-escrow-cli
G() { "$ROOT/target/debug/gpu-escrow" -u "$URL" -k "$KEYPAIR" "$@"; }
G program deploy --so "$ROOT/target/deploy/gpu_escrow.so" --program-keypair "$PROGRAM_KEYPAIR"
G config init --arbiter "$ARBITER" --treasury "$TREASURY" --fee-bps "$FEE"
G config show
