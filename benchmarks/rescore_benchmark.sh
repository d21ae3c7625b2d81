#!/usr/bin/env bash
# Times the rescoring of N stored sample leads (about 20 events each) after a
# new Playbook version (the demo's with a lower MQL threshold) is activated,
# on a fresh smarketing-server on loopback, and ScoreLead's latency with
# ghz while the machine is idle and while the pass runs. Client and server
# share the machine; the server's CPU time during the pass tells its cost
# on a machine other people load too.
# Usage: benchmarks/rescore_benchmark.sh [BUILD_DIR] [N]
# Environment: CONCURRENCY (10), CALLS (20000 per ghz run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
count=${2:-100000}
ghz="$root/build-tools/go/bin/ghz"
grpcurl="$root/build-tools/go/bin/grpcurl"
[ -x "$ghz" ] && [ -x "$grpcurl" ] || "$root/scripts/install-deps.sh"
concurrency=${CONCURRENCY:-10}
calls=${CALLS:-20000}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$build/cli/smarketing" sample-leads --count "$count" --seed 7 \
  --now 2026-11-23T09:00:00Z > "$work/leads.jsonl"
"$build/grpc_server/smarketing-server" --listen=127.0.0.1:0 --store="$work/store.db" \
  --token_file="$root/examples/demo_tokens.txt" \
  --demo_playbook="$root/examples/playbooks/demo.yaml" 2>"$work/log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "event=server_started" "$work/log" && break
  sleep 0.1
done
port=$(sed -n 's/.*event=server_started .*port=\([0-9]*\).*/\1/p' "$work/log")
target="127.0.0.1:$port"
awk '$2 == "marketing" {print $1; exit}' "$root/examples/demo_tokens.txt" > "$work/token"
admin=$(awk '$2 == "admin" {print $1; exit}' "$root/examples/demo_tokens.txt")
reader=$(awk '$2 == "reader" {print $1; exit}' "$root/examples/demo_tokens.txt")
"$build/cli/smarketing" import --server "$target" --token_file "$work/token" \
  "$work/leads.jsonl" >/dev/null
echo "$count leads imported"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lead='{"lead": {"id": "bench-1", "job_title": "VP Marketing",
  "seniority": "SENIORITY_VP", "source": "webinar",
  "company": {"domain": "acme.example", "industry": "software",
              "employee_count": 250, "country": "FR"},
  "events": [{"id": "e1", "type": "EVENT_TYPE_WEBINAR_ATTENDANCE",
              "occurred_at": "'"$now"'"}]}}'
p99() {  # name
  "$ghz" --insecure --call smarketing.v1.ScoringService/ScoreLead -d "$lead" \
    --metadata '{"authorization": "Bearer '"$reader"'"}' \
    -c "$concurrency" -n "$calls" --format json "$target" > "$work/$1.json"
  python3 -c "import json, sys; r = json.load(open(sys.argv[1]));
lat = {d['percentage']: d['latency'] / 1e6 for d in r['latencyDistribution'] or []}
print(f\"ScoreLead {sys.argv[2]}: rps={r['rps']:.0f} p50_ms={lat.get(50, 0):.2f} p99_ms={lat.get(99, 0):.2f}\")" \
    "$work/$1.json" "$1"
}
p99 idle

sed 's/  mql: {min_total: 110, min_fit: 55}/  mql: {min_total: 60, min_fit: 30}/' \
  "$root/examples/playbooks/demo.yaml" > "$work/v2.yaml"
python3 -c "import json, sys; print(json.dumps({'playbook': {'document': open(sys.argv[1]).read()}, 'activate': True}))" \
  "$work/v2.yaml" > "$work/publish.json"
# User and system time of the server, in clock ticks.
server_cpu() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
cpu_before=$(server_cpu)
"$grpcurl" -plaintext -H "authorization: Bearer $admin" -d @ "$target" \
  smarketing.v1.PlaybookService/PublishPlaybook < "$work/publish.json" >/dev/null
p99 during-rescoring
status() {
  "$grpcurl" -plaintext -H "authorization: Bearer $reader" "$target" \
    smarketing.v1.PlaybookService/GetRescoreStatus
}
for _ in $(seq 3600); do
  status > "$work/status.json"
  grep -q RESCORE_STATE_DONE "$work/status.json" &&
    grep -q '"playbook_number": "2"' "$work/status.json" && break
  sleep 1
done
cpu_ticks=$(($(server_cpu) - cpu_before))
python3 -c "import json, re, sys; from datetime import datetime, timezone
s = json.load(open(sys.argv[1]))['status']
def t(k):
    m = re.match(r'(.{19})(?:[.](\d+))?Z', s[k])
    start = datetime.strptime(m[1], '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)
    return start.timestamp() + float('0.' + (m[2] or '0'))
secs = t('finished_at') - t('started_at')
n = int(s['leads_done'])
print(f'rescoring: {n} leads in {secs:.1f} s, {n / secs:.0f} leads/s, '
      f\"{s.get('leads_written', 0)} written, {s.get('leads_changed', 0)} with a change in the feed\")
cpu = int(sys.argv[2]) / int(sys.argv[3])
print(f'server CPU from the activation to the end of the pass: {cpu:.1f} s '
      f'({cpu / n * 1e6:.0f} us a lead, the scheduler included)')" \
  "$work/status.json" "$cpu_ticks" "$(getconf CLK_TCK)"
echo "load: $(uptime)"
