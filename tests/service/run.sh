#!/usr/bin/env bash
# The service's tests with real clients against a built smarketing-server:
# the Python journey and crash tests (grpcio, in a virtual environment of
# their own) on SQLite, then on PostgreSQL, with the replicas sharing a
# PostgreSQL database; and grpcurl through reflection with the health check.
# Usage: tests/service/run.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
export SMARKETING_SERVER="$build/grpc_server/smarketing-server"
venv="$root/build-service-venv"
if [ ! -x "$venv/bin/pytest" ]; then
  "${PYTHON:-/usr/bin/python3}" -m venv "$venv"
  "$venv/bin/pip" install -q grpcio grpcio-tools grpcio-health-checking pytest
fi

echo "== service: Python client journey and kill -9 crash test"
(cd "$root/tests/service" && "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider .)

echo "== service: the same on PostgreSQL (a server the tests start)"
(cd "$root/tests/service" && SMARKETING_TEST_STORE=postgres \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs --ignore=test_replicas.py .)

echo "== service: grpcurl through reflection"
grpcurl="$root/build-tools/go/bin/grpcurl"
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$SMARKETING_SERVER" --listen=127.0.0.1:0 --store="$work/store.db" \
  --token_file="$root/examples/demo_tokens.txt" \
  --demo_playbook="$root/examples/playbooks/demo.yaml" 2>"$work/log" &
server_pid=$!
for _ in $(seq 50); do
  grep -q "event=server_started" "$work/log" && break
  sleep 0.1
done
port=$(sed -n 's/.*event=server_started .*port=\([0-9]*\).*/\1/p' "$work/log")
[ -n "$port" ] || { cat "$work/log"; exit 1; }
services=$("$grpcurl" -plaintext "127.0.0.1:$port" list)
for s in grpc.health.v1.Health smarketing.v1.LeadService \
         smarketing.v1.PlaybookService smarketing.v1.ReportService \
         smarketing.v1.ScoringService smarketing.v1.TeamService \
         smarketing.v1.WebhookService; do
  grep -qx "$s" <<<"$services" || { echo "grpcurl list lacks $s"; exit 1; }
done
"$grpcurl" -plaintext "127.0.0.1:$port" grpc.health.v1.Health/Check \
  | grep -q '"status": "SERVING"' || { echo "health check not SERVING"; exit 1; }
"$grpcurl" -plaintext -H "authorization: Bearer demo-reader-token-0000000000" \
  -d '{"lead": {"id": "grpcurl-1", "seniority": "SENIORITY_C_LEVEL",
       "company": {"industry": "software", "employeeCount": 250}}}' \
  "127.0.0.1:$port" smarketing.v1.ScoringService/ScoreLead \
  | grep -q '"lead_id": "grpcurl-1"' || { echo "grpcurl ScoreLead failed"; exit 1; }
# SIGTERM drains and exits cleanly.
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
grep -q "event=server_stopped" "$work/log" || { echo "no graceful stop"; exit 1; }
echo "grpcurl: services listed, health SERVING, ScoreLead answered, SIGTERM drained"
