#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the demo: 1,000 synthetic
# leads scored with the demo Playbook, as JSON lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
smarketing="$root/build/cli/smarketing"
now=2026-11-23T09:00:00Z
"$smarketing" validate "$root/examples/playbooks/demo.yaml"
"$smarketing" sample-leads --count 1000 --seed 7 --now "$now" \
  | "$smarketing" score --now "$now" "$root/examples/playbooks/demo.yaml" -
