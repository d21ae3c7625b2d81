#!/usr/bin/env bash
# Times `smarketing import` of N sample leads (about 20 events each) into a
# fresh smarketing-server on loopback, then the same file again (nothing to
# change), with the CPU time of the server and of the client (the machine
# may be loaded by others). Usage: benchmarks/import_benchmark.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
count=${2:-100000}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build/cli/smarketing" sample-leads --count "$count" --seed 7 \
  --now 2026-11-23T09:00:00Z > "$work/leads.jsonl"
echo "$count leads, $(du -h "$work/leads.jsonl" | cut -f1) of JSON lines"
"$build/grpc_server/smarketing-server" --listen=127.0.0.1:0 --store="$work/store.db" \
  --token_file="$root/examples/demo_tokens.txt" \
  --demo_playbook="$root/examples/playbooks/demo.yaml" 2>"$work/log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "event=server_started" "$work/log" && break
  sleep 0.1
done
port=$(sed -n 's/.*event=server_started .*port=\([0-9]*\).*/\1/p' "$work/log")
awk '$2 == "marketing" {print $1; exit}' "$root/examples/demo_tokens.txt" > "$work/token"
# User and system time of the server, in seconds.
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' \
    "/proc/$server_pid/stat"
}
TIMEFORMAT="%U %S"
for run in first again; do
  before=$(server_cpu)
  start=$(date +%s.%N)
  # The client's user and system time ends its standard error.
  { time "$build/cli/smarketing" import --server "127.0.0.1:$port" \
    --token_file "$work/token" "$work/leads.jsonl" || true; } 2> "$work/stderr"
  end=$(date +%s.%N)
  client=$(tail -n 1 "$work/stderr")
  echo "$run import: $(echo "$end - $start" | bc) s," \
    "$(echo "$count / ($end - $start)" | bc) leads/s; CPU: server" \
    "$(awk -v a="$(server_cpu)" -v b="$before" 'BEGIN {printf "%.1f", a - b}') s," \
    "client $(echo "$client" | awk '{printf "%.1f", $1 + $2}') s"
done
echo "load: $(uptime)"
