#!/bin/sh
# Example teardown command for `gpu-escrow agent run --teardown`: removes the rental's user
# and everything it ran. Runs once per ended rental (GPU_ESCROW_END_REASON says why:
# settled, cancelled, disputed, expired or closed); must tolerate a user that is gone.
set -eu
user="r$(printf '%s' "$GPU_ESCROW_RENTAL" | cut -c1-12 | tr 'A-Z' 'a-z')"
if id "$user" >/dev/null 2>&1; then
  pkill -KILL -u "$user" || true
  userdel --remove "$user" 2>/dev/null || true
fi
