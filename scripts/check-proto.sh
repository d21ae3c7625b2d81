#!/usr/bin/env bash
# Lints the smarketing.v1 schema (protobuf's style guide, through buf) and
# refuses a change that would break clients on the wire or in JSON.
# Usage: scripts/check-proto.sh [BASE_REVISION]
# BASE_REVISION defaults to the branch's merge base with origin/main, or to
# the previous commit on main itself; a pull request passes its base branch.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
buf="$root/build-tools/go/bin/buf"
cd "$root"
base=${1:-}
if [ -z "$base" ]; then
  base=$(git merge-base HEAD origin/main 2>/dev/null || true)
  if [ -z "$base" ] || [ "$base" = "$(git rev-parse HEAD)" ]; then
    base=$(git rev-parse --verify -q HEAD~1 || true)
  fi
fi
(cd proto && "$buf" lint)
echo "buf lint: the schema follows the style guide"
if [ -z "$base" ] || ! git cat-file -e "$base:proto/smarketing" 2>/dev/null; then
  echo "buf breaking: no earlier schema to compare with"
  exit 0
fi
"$buf" breaking proto --against ".git#ref=$base,subdir=proto"
echo "buf breaking: no breaking change against $(git rev-parse --short "$base")"
