#!/usr/bin/env bash
# Checks the command line as CI pipelines and people use it: exit codes
# (0 ok, 1 the check failed, 2 usage or input error), problems printed as
# file:line:column: path: message, reproducible sample leads, and scoring
# that is identical whatever the thread count.
#
# usage: cli_test.sh SMARKETING_BINARY REPO_ROOT
set -u

source "$(dirname "$0")/testlib.sh" "$@"

skip() { echo "SKIP: $1"; }

# expect_count NAME FILE N: FILE has exactly N lines.
expect_count() {
  local n
  n=$(wc -l <"$2")
  if [ "$n" -eq "$3" ]; then
    pass "$1"
  else
    fail "$1: $n lines, expected $3"
  fi
}

now=2026-11-23T09:00:00Z

# A valid Playbook of our own, so that scoring checks do not depend on the
# demo's content.
cat >"$tmp/playbook.yaml" <<'EOF'
metadata: {name: cli-test, version: "1"}
personas:
  - id: software-buyer
    criteria:
      - id: in-software
        when: {field: company.industry, equals: software}
        weight: 60
      - id: senior
        when: {field: seniority, in: [director, vp, c_level, owner]}
        weight: 40
grade_bands:
  - {grade: D, min_fit: 0, max_fit: 40}
  - {grade: C, min_fit: 40, max_fit: 60}
  - {grade: B, min_fit: 60, max_fit: 80}
  - {grade: A, min_fit: 80, max_fit: 100}
engagement:
  half_life: 14d
  rules:
    - {id: page-views, event_types: [page_view], points: 2, max_points: 20}
    - {id: demo, event_types: [demo_request], points: 30}
    - {id: unsubscribed, event_types: [unsubscribe], points: -20}
disqualification_rules:
  - id: opted-out
    when: {field: consent.opted_out, equals: true}
    reason: opted_out
hand_raiser_rules:
  - {id: demo-request, event_types: [demo_request], min_fit: 40, lookback: 30d, priority: urgent}
thresholds:
  mql: {min_total: 80, min_fit: 40}
  sql: {min_total: 120, min_fit: 60}
EOF

# Three mistakes, on known lines.
cat >"$tmp/broken.yaml" <<'EOF'
metadata: {name: broken, version: "1"}
personas:
  - id: buyer
    criteria:
      - id: c1
        when: {field: company.size, equals: 5}
        weight: 150
grade_bands:
  - {grade: A, min_fit: 0, max_fit: 90}
engagement: {half_life: 7d}
thresholds:
  mql: {min_total: 50}
EOF

# --- usage -----------------------------------------------------------------

run --help
expect_status "--help" 0
expect_line "--help lists the commands" "$tmp/out" "validate PLAYBOOK"

run --version
expect_status "--version" 0
expect_line "--version prints VERSION" "$tmp/out" "smarketing $(cat "$root/VERSION")"

run
expect_status "no command" 2

run frobnicate
expect_status "unknown command" 2
expect_line "unknown command is named" "$tmp/err" 'unknown command "frobnicate"'

# Flags are spelt with underscores here: the command line reads dashes as
# underscores before checking, and names the flag as it read it.
run validate "$tmp/playbook.yaml" --no_such_flag
expect_status "unknown flag" 2
expect_line "unknown flag is named" "$tmp/err" "unknown flag --no_such_flag"

run score "$tmp/playbook.yaml" leads.jsonl --threads=many
expect_status "bad flag value" 2

run sample-leads --now yesterday
expect_status "bad --now" 2

run validate
expect_status "validate without a Playbook" 2

# --- validate --------------------------------------------------------------

if [ -f examples/playbooks/demo.yaml ]; then
  run validate examples/playbooks/demo.yaml
  expect_status "validate the demo Playbook" 0
else
  skip "validate the demo Playbook: examples/playbooks/demo.yaml does not exist yet"
fi

run validate "$tmp/playbook.yaml"
expect_status "validate a valid Playbook" 0
expect_line "validate names the version" "$tmp/out" "ok (cli-test@1)"

run validate "$tmp/broken.yaml"
expect_status "validate a broken Playbook" 1
expect_line "unknown field with its position" "$tmp/err" \
  "$tmp/broken.yaml:6:23: personas[0].criteria[0].when.field: unknown field \"company.size\""
expect_line "bad weight with its position" "$tmp/err" \
  "$tmp/broken.yaml:7:17: personas[0].criteria[0].weight: weight must be in (0, 100]"
expect_line "grade gap with its position" "$tmp/err" \
  "$tmp/broken.yaml:9:3: grade_bands: gap: no grade covers fit scores from 90 to 100"
expect_count "exactly the three problems" "$tmp/err" 3

run validate "$tmp/playbook.yaml" "$tmp/broken.yaml"
expect_status "validate several Playbooks, one broken" 1

run validate "$tmp/absent.yaml"
expect_status "validate a missing file" 2

printf 'metadata: {name: [oops\n' >"$tmp/syntax.yaml"
run validate "$tmp/syntax.yaml"
expect_status "validate a YAML syntax error" 1
expect_line "syntax error with its file and line" "$tmp/err" "$tmp/syntax.yaml:"

# --- sample-leads ----------------------------------------------------------

run sample-leads --count 50 --seed 3 --now "$now"
expect_status "sample-leads" 0
cp "$tmp/out" "$tmp/leads.jsonl"
expect_count "sample-leads prints 50 lines" "$tmp/leads.jsonl" 50
if [ "$(grep -c '^{.*"id":' "$tmp/leads.jsonl")" -eq 50 ]; then
  pass "every sample lead is a JSON object with an id"
else
  fail "some sample lines are not JSON leads: $(grep -v '^{' "$tmp/leads.jsonl" | head -c 300)"
fi
run sample-leads --count 50 --seed 3 --now "$now"
if cmp -s "$tmp/out" "$tmp/leads.jsonl"; then
  pass "same seed, same leads"
else
  fail "two runs with --seed 3 differ"
fi
run sample-leads --count 50 --seed 4 --now "$now"
if cmp -s "$tmp/out" "$tmp/leads.jsonl"; then
  fail "--seed 4 gave the same leads as --seed 3"
else
  pass "another seed, other leads"
fi

# --- score -----------------------------------------------------------------

run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now"
expect_status "score the sample leads" 0
expect_count "one result per lead" "$tmp/out" 50
if [ "$(grep -c '"recommended_stage"' "$tmp/out")" -eq 50 ]; then
  pass "every result has a recommended_stage"
else
  fail "results without recommended_stage: $(grep -vc '"recommended_stage"' "$tmp/out")"
fi

run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --threads 1
cp "$tmp/out" "$tmp/one-thread.jsonl"
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --threads 2
if [ "$status" -eq 0 ] && cmp -s "$tmp/out" "$tmp/one-thread.jsonl"; then
  pass "--threads 1 and --threads 2 give byte-identical results"
else
  fail "--threads 1 and --threads 2 differ (exit $status)"
fi

# With the demo Playbook, which routes and has an SLA, every MQL carries its
# team, owner and deadlines, and nothing else is routed.
if [ -f examples/playbooks/demo.yaml ]; then
  run score examples/playbooks/demo.yaml "$tmp/leads.jsonl" --now "$now" --explain=false
  mqls=$(grep -c '"LIFECYCLE_STAGE_MQL"' "$tmp/out" || true)
  routed=$(grep '"LIFECYCLE_STAGE_MQL"' "$tmp/out" | grep '"team_id"' | grep '"first_touch_due"' | grep -c '"accept_or_reject_due"' || true)
  others=$(grep -v '"LIFECYCLE_STAGE_MQL"' "$tmp/out" | grep -c '"routing"' || true)
  if [ "$status" -eq 0 ] && [ "$mqls" -gt 0 ] && [ "$routed" -eq "$mqls" ] && [ "$others" -eq 0 ]; then
    pass "score gives MQLs (and only them) a team, an owner and SLA deadlines"
  else
    fail "score routing: exit $status, $mqls MQLs, $routed routed with deadlines, $others others routed"
  fi
fi

run score "$tmp/playbook.yaml" - --now "$now" <"$tmp/leads.jsonl"
expect_count "score reads standard input" "$tmp/out" 50

# The explanation: rule ids and points by default, sentences when asked (as
# --explain and --explain=true asked before), none with --explain=none or
# the former --explain=false.
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now"
cp "$tmp/out" "$tmp/ids.jsonl"
if [ "$status" -eq 0 ] && grep -q '"rule_id"' "$tmp/out" && ! grep -q '"sentence"' "$tmp/out"; then
  pass "score explains with rule ids and points by default"
else
  fail "score's default explanation: exit $status"
fi
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --explain=sentences
cp "$tmp/out" "$tmp/sentences.jsonl"
if [ "$status" -eq 0 ] && grep -q '"sentence"' "$tmp/out"; then
  pass "--explain=sentences adds the sentences"
else
  fail "--explain=sentences: exit $status"
fi
for old in --explain --explain=true; do
  run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" "$old"
  if [ "$status" -eq 0 ] && cmp -s "$tmp/out" "$tmp/sentences.jsonl"; then
    pass "$old still gives sentences"
  else
    fail "$old: exit $status, not the sentences"
  fi
done
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --explain=none
cp "$tmp/out" "$tmp/none.jsonl"
if [ "$status" -eq 0 ] && ! grep -q '"explanation"' "$tmp/out"; then
  pass "--explain=none leaves the explanation out"
else
  fail "--explain=none: exit $status"
fi
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --explain=false
if [ "$status" -eq 0 ] && cmp -s "$tmp/out" "$tmp/none.jsonl"; then
  pass "--explain=false still leaves the explanation out"
else
  fail "--explain=false: exit $status"
fi
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now" --explain=verbose
expect_status "--explain with an unknown level" 2
expect_line "the level is named" "$tmp/err" 'expected ids, sentences or none; found "verbose"'

# Progress is for terminals: with standard error in a file, score prints its
# summary line alone and diff --leads nothing at all.
run score "$tmp/playbook.yaml" "$tmp/leads.jsonl" --now "$now"
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^scored 50 leads' "$tmp/err" && ! grep -q $'\r' "$tmp/err"; then
  pass "score prints no progress when standard error is not a terminal"
else
  fail "score's standard error off a terminal: $(od -c "$tmp/err" | head -3)"
fi
run diff --leads "$tmp/leads.jsonl" --now "$now" "$tmp/playbook.yaml" "$tmp/playbook.yaml"
if [ "$status" -eq 0 ] && [ ! -s "$tmp/err" ]; then
  pass "diff --leads prints no progress when standard error is not a terminal"
else
  fail "diff --leads off a terminal: exit $status, standard error: $(head -c 200 "$tmp/err")"
fi

{
  head -n 20 "$tmp/leads.jsonl"
  echo '{"id": "broken", '
  tail -n 30 "$tmp/leads.jsonl"
} >"$tmp/malformed.jsonl"
run score "$tmp/playbook.yaml" "$tmp/malformed.jsonl" --now "$now"
expect_status "a malformed lead line" 2
expect_count "the other leads are still scored" "$tmp/out" 50
expect_line "the malformed line is located" "$tmp/err" "$tmp/malformed.jsonl:21:"

cat >"$tmp/leads.csv" <<'EOF'
id,first_name,job_title,seniority,company_name,industry,employee_count,country,opted_out,attributes.plan,events
c1,Ada,CTO,c_level,Acme,software,120,FR,false,pro,"[{""id"":""e1"",""type"":""EVENT_TYPE_DEMO_REQUEST"",""occurredAt"":""2026-11-20T10:00:00Z""}]"
c2,"Bob, Jr.",Intern,individual_contributor,Beta,retail,5,DE,false,,[]
c3,Cy,VP Sales,vp,Gamma,software,800,US,true,free,
EOF
run score "$tmp/playbook.yaml" "$tmp/leads.csv" --now "$now"
expect_status "score CSV leads" 0
expect_count "one result per CSV lead" "$tmp/out" 3
expect_line "CSV leads keep their ids" "$tmp/out" '"lead_id":"c2"'

run score "$tmp/broken.yaml" "$tmp/leads.jsonl" --now "$now"
expect_status "score with a broken Playbook" 2

run score "$tmp/playbook.yaml" "$tmp/absent.jsonl" --now "$now"
expect_status "score a missing leads file" 2

# review's usage errors need no server (tests/python/test_review.py runs it
# against one).
SMARKETING_TOKEN= run review --server 127.0.0.1:9
expect_status "review without a token" 2
expect_line "review says where the token goes" "$tmp/err" "SMARKETING_TOKEN"
SMARKETING_TOKEN=some-token-0123456789 run review
expect_status "review without --server" 2
SMARKETING_TOKEN=some-token-0123456789 run review --server 127.0.0.1:9 --format pdf
expect_status "review with an unknown format" 2
expect_line "review names its formats" "$tmp/err" "text, json, markdown or html"
SMARKETING_TOKEN=some-token-0123456789 run review extra --server 127.0.0.1:9
expect_status "review with an argument" 2

finish
