#!/usr/bin/env bash
# Durable event ingest (StreamEvents, smarketing-load) through one
# smarketing-server on SQLite, one replica on PostgreSQL and three replicas
# sharing one PostgreSQL database, each on a new store. PostgreSQL is a
# throwaway server (scripts/tmp-postgres.sh) with its default durability
# (fsync on, synchronous_commit on), on the same disk and cores as the
# replicas and the client.
# Usage: benchmarks/replicas_benchmark.sh [BUILD_DIR]
# Environment: REQUESTS (requests per stream, 100).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
requests=${REQUESTS:-100}
server="$build/grpc_server/smarketing-server"
load="$build/grpc_server/smarketing-load"

work=$(mktemp -d)
pg=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  "$root/scripts/tmp-postgres.sh" stop "$pg" || true
  rm -rf "$work" "$pg"
}
trap cleanup EXIT
"$root/scripts/tmp-postgres.sh" start "$pg" $$ >/dev/null

# Starts a replica on store $1 with log $2; appends its address to $targets.
targets=
start() {
  : >"$2"
  "$server" --listen=127.0.0.1:0 --store="$1" \
    --token_file="$root/examples/demo_tokens.txt" \
    --demo_playbook="$root/examples/playbooks/demo.yaml" >/dev/null 2>"$2" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "event=server_started" "$2" && break
    sleep 0.1
  done
  targets="${targets:+$targets,}127.0.0.1:$(sed -n 's/.*event=server_started .*port=\([0-9]*\).*/\1/p' "$2")"
}

stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  pids=()
  targets=
}

ingest() {  # label, targets
  for shape in "--streams=32 --batch=1" "--streams=4 --batch=100"; do
    # shellcheck disable=SC2086
    printf '%-26s %s\n' "$1" "$("$load" --target="$2" --token=demo-marketing-token-0000000 \
      --mode=ingest $shape --requests="$requests" --leads=500)"
  done
}

echo "== durable event ingest, $requests requests per stream"
start "$work/store.db" "$work/log-sqlite"
ingest "sqlite, 1 server" "$targets"
stop_all
"$root/scripts/tmp-postgres.sh" createdb "$pg" one >"$work/url-one"
start "$(cat "$work/url-one")" "$work/log-pg1"
ingest "postgresql, 1 replica" "$targets"
stop_all
"$root/scripts/tmp-postgres.sh" createdb "$pg" three >"$work/url-three"
for replica in a b c; do start "$(cat "$work/url-three")" "$work/log-$replica"; done
ingest "postgresql, 3 replicas" "$targets"
stop_all
