#!/bin/sh
# Example provision command for `gpu-escrow agent run --provision`.
#
# Gives the renter an SSH login on this machine: a user named after the rental, with the
# renter's published SSH key installed. Prints the connection details as JSON on stdout;
# any failure exits non-zero, and the agent then declines the rental (full refund).
# Run the agent as root for this script (it creates users). It is idempotent: a restarted
# agent may run it again for the same rental.
#
# Environment from the agent: GPU_ESCROW_RENTAL, _RENTER, _LISTING, _GPU_MODEL, _GPU_COUNT,
# _VRAM_GB, _CPU_CORES, _RAM_GB, _DISK_GB, _REGION, _PAID_SECONDS, _PAID_UNTIL, _SSH_KEY,
# _HEARTBEAT_INTERVAL, _ACTIVATION_DEADLINE. Set GPU_HOST to the address renters connect to.
set -eu
user="r$(printf '%s' "$GPU_ESCROW_RENTAL" | cut -c1-12 | tr 'A-Z' 'a-z')"
host="${GPU_HOST:-$(hostname -I | cut -d' ' -f1)}"
port="${GPU_SSH_PORT:-22}"
[ -n "$GPU_ESCROW_SSH_KEY" ] || { echo "the renter published no SSH key" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home="$(getent passwd "$user" | cut -d: -f6)"
install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
printf '%s\n' "$GPU_ESCROW_SSH_KEY" > "$home/.ssh/authorized_keys"
chown "$user:$user" "$home/.ssh/authorized_keys"
chmod 600 "$home/.ssh/authorized_keys"
host_key="$(cut -d' ' -f1-2 /etc/ssh/ssh_host_ed25519_key.pub)"
printf '{"host":"%s","port":%s,"user":"%s","host_key":"%s","note":"%s x%s until %s"}\n' \
  "$host" "$port" "$user" "$host_key" "$GPU_ESCROW_GPU_MODEL" "$GPU_ESCROW_GPU_COUNT" \
  "$(date -u -d "@$GPU_ESCROW_PAID_UNTIL" +%Y-%m-%dT%H:%MZ)"
