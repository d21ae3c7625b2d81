#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the demo.
#   scripts/demo.sh          starts smarketing-server in the foreground on
#                            127.0.0.1:50051 (SMARKETING_LISTEN to change it),
#                            with the demo Playbook published and active, a
#                            store in build/demo.db and the demo tokens
#                            (examples/demo_tokens.txt: for demos only);
#                            Ctrl-C stops it gracefully. A new store is first
#                            filled with 12 weeks of demo history, and the
#                            weekly review page is served on
#                            http://127.0.0.1:8080/review
#                            (SMARKETING_HTTP_LISTEN to change it).
#   scripts/demo.sh score    scores 1,000 synthetic leads with the demo
#                            Playbook on the command line, as JSON lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"

if [ "${1:-serve}" = score ]; then
  smarketing="$root/build/cli/smarketing"
  now=2026-11-23T09:00:00Z
  "$smarketing" validate "$root/examples/playbooks/demo.yaml"
  "$smarketing" sample-leads --count 1000 --seed 7 --now "$now" \
    | "$smarketing" score --now "$now" "$root/examples/playbooks/demo.yaml" -
  exit 0
fi

listen=${SMARKETING_LISTEN:-127.0.0.1:50051}
http_listen=${SMARKETING_HTTP_LISTEN:-127.0.0.1:8080}
store="$root/build/demo.db"
if [ ! -e "$store" ]; then
  echo "Writing 12 weeks of demo history into $store (about a minute)..."
  "$root/build/grpc_server/smarketing-demo-history" --store="$store" \
    --playbook="$root/examples/playbooks/demo.yaml" --weeks=12
fi
cat <<MSG
The weekly review: open http://$http_listen/review in a browser (user: any,
password: demo-reader-token-0000000000), or on the command line:

  SMARKETING_TOKEN=demo-reader-token-0000000000 \\
    $root/build/cli/smarketing review --server $listen --format text

smarketing-server on $listen. In another terminal, score a lead:

  $root/build-tools/go/bin/grpcurl -plaintext \\
    -H 'authorization: Bearer demo-reader-token-0000000000' \\
    -d '{"lead": {"id": "lead-1", "jobTitle": "CMO", "seniority": "SENIORITY_C_LEVEL",
         "company": {"industry": "software", "employeeCount": 250, "country": "FR"},
         "events": [{"id": "e1", "type": "EVENT_TYPE_DEMO_REQUEST",
                     "occurredAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}]}}' \\
    $listen smarketing.v1.ScoringService/ScoreLead

Tokens (reader, sales, marketing, admin) are in examples/demo_tokens.txt.
MSG
exec "$root/build/grpc_server/smarketing-server" --listen="$listen" \
  --http_listen="$http_listen" --store="$store" \
  --token_file="$root/examples/demo_tokens.txt" \
  --demo_playbook="$root/examples/playbooks/demo.yaml"
