#!/usr/bin/env bash
# Measures smarketing-server on loopback: unary ScoreLead against the empty
# RPC (the health check) at the same concurrency, with ghz, also as the
# server's CPU time per call (ghz's own cost grows with the size of the
# messages and takes the same cores on a small machine); bulk scoring
# through the ScoreLeads stream and durable event ingest through
# StreamEvents, with smarketing-load. Client and server share the machine.
# Usage: benchmarks/service_benchmark.sh [BUILD_DIR]
# Environment: CONCURRENCY (50), CALLS (100000 per ghz run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
ghz="$root/build-tools/go/bin/ghz"
[ -x "$ghz" ] || "$root/scripts/install-deps.sh"
concurrency=${CONCURRENCY:-50}
calls=${CALLS:-100000}

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build/grpc_server/smarketing-server" --listen=127.0.0.1:0 \
  --store="$work/store.db" --token_file="$root/examples/demo_tokens.txt" \
  --demo_playbook="$root/examples/playbooks/demo.yaml" 2>"$work/log" &
server_pid=$!
for _ in $(seq 50); do
  grep -q "event=server_started" "$work/log" && break
  sleep 0.1
done
port=$(sed -n 's/.*event=server_started .*port=\([0-9]*\).*/\1/p' "$work/log")
target="127.0.0.1:$port"

# A typical lead: a persona match, a few events. Field names as in the
# .proto files, which every JSON reader of protobuf accepts.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lead='{"lead": {"id": "bench-1", "job_title": "VP Marketing",
  "seniority": "SENIORITY_VP", "source": "webinar", "campaign": "cmp-1",
  "company": {"name": "Acme", "domain": "acme.example", "industry": "software",
              "employee_count": 250, "annual_revenue": 30000000, "country": "FR"},
  "events": [
    {"id": "e1", "type": "EVENT_TYPE_PAGE_VIEW", "occurred_at": "'"$now"'",
     "properties": {"url": "/pricing"}},
    {"id": "e2", "type": "EVENT_TYPE_EMAIL_CLICK", "occurred_at": "'"$now"'"},
    {"id": "e3", "type": "EVENT_TYPE_WEBINAR_ATTENDANCE", "occurred_at": "'"$now"'"}]}}'

server_cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$server_pid/stat"
}

run_ghz() {  # name, method, data, metadata
  local ticks_before
  ticks_before=$(server_cpu_ticks)
  "$ghz" --insecure --call "$2" -d "$3" --metadata "$4" \
    -c "$concurrency" -n "$calls" --connections 2 --format json "$target" \
    > "$work/$1.json"
  echo $(( $(server_cpu_ticks) - ticks_before )) > "$work/$1.json.ticks"
  python3 - "$work/$1.json" "$1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
calls = sum((r.get("statusCodeDistribution") or {}).values()) or 1
cpu_us = float(open(sys.argv[1] + ".ticks").read()) / int(sys.argv[3]) * 1e6 / calls
open(sys.argv[1] + ".cpu", "w").write(str(cpu_us))
lat = {d["percentage"]: d["latency"] / 1e6 for d in r["latencyDistribution"] or []}
errors = sum(v for k, v in (r.get("statusCodeDistribution") or {}).items() if k != "OK")
print(f"{sys.argv[2]:12s} rps={r['rps']:.0f} p50_ms={lat.get(50, 0):.2f} "
      f"p99_ms={lat.get(99, 0):.2f} errors={errors} "
      f"server_cpu_us_per_call={cpu_us:.1f}")
open(sys.argv[1] + ".rps", "w").write(str(r["rps"]))
PY
}

echo "== unary, concurrency $concurrency, $calls calls each (ghz)"
run_ghz health grpc.health.v1.Health/Check '{}' '{}'
run_ghz score smarketing.v1.ScoringService/ScoreLead "$lead" \
  '{"authorization": "Bearer demo-reader-token-0000000000"}'
python3 -c "import sys; h, s = (float(open(f).read()) for f in sys.argv[1:]); \
print(f'score/health throughput ratio={s / h:.2f} (target >= 0.80)')" \
  "$work/health.json.rps" "$work/score.json.rps"
python3 -c "import sys; h, s = (float(open(f).read()) for f in sys.argv[1:]); \
print(f'score/health server CPU per call ratio={s / h:.2f}')" \
  "$work/health.json.cpu" "$work/score.json.cpu"

load="$build/grpc_server/smarketing-load"
echo "== bulk scoring through the ScoreLeads stream (smarketing-load)"
"$load" --target="$target" --token=demo-reader-token-0000000000 \
  --mode=score --streams=2 --batch=500 --requests=100 --mean_events=20
"$load" --target="$target" --token=demo-reader-token-0000000000 \
  --mode=score --streams=2 --batch=500 --requests=100 --mean_events=20 \
  --explanation=rules
"$load" --target="$target" --token=demo-reader-token-0000000000 \
  --mode=score --streams=2 --batch=500 --requests=200 --mean_events=0
echo "== durable event ingest through StreamEvents (smarketing-load)"
"$load" --target="$target" --token=demo-marketing-token-0000000 \
  --mode=ingest --streams=4 --batch=100 --requests=100 --leads=500
"$load" --target="$target" --token=demo-marketing-token-0000000 \
  --mode=ingest --streams=32 --batch=1 --requests=100 --leads=500
