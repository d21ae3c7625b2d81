#!/usr/bin/env bash
# Checks the command line as a CI pipeline runs it on a change to a
# Playbook: validate, test (golden cases) and diff (rules, impact on leads,
# limits, a git revision as OLD), and score; every output format (text,
# JSON, JUnit checked against tests/cli/junit.xsd, GitHub annotations); every
# exit code (0 ok, 1 the check failed, 2 usage or input error); malformed
# Playbooks, cases and lead files; the README's CI commands; and a diff over
# 1,000,000 leads (SMARKETING_CI_CHECK_LEADS: fewer, for sanitizer builds).
#
# usage: ci_check_test.sh SMARKETING_BINARY REPO_ROOT
# Prints one line per check and ends with "N passed, M failed".
set -u

source "$(dirname "$0")/testlib.sh" "$@"
for tool in xmllint python3 git; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is required (scripts/install-deps.sh installs it)" >&2
    exit 2
  fi
done

# expect_no_line NAME FILE TEXT: no line of FILE contains TEXT.
expect_no_line() {
  if grep -qF -- "$3" "$2"; then
    fail "$1: unexpected line with '$3'"
  else
    pass "$1"
  fi
}

# expect_json NAME FILE PYTHON_EXPRESSION: FILE is JSON and the expression
# (over `d`) is true.
expect_json() {
  if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3" 2>"$tmp/json_err"; then
    pass "$1"
  else
    fail "$1: not JSON with $3: $(head -c 300 "$tmp/json_err") $(head -c 300 "$2")"
  fi
}

# expect_junit NAME FILE: FILE is JUnit XML valid against the schema.
expect_junit() {
  if xmllint --noout --schema "$root/tests/cli/junit.xsd" "$2" 2>"$tmp/xmllint"; then
    pass "$1"
  else
    fail "$1: $(head -c 600 "$tmp/xmllint")"
  fi
}

now=2026-11-23T09:00:00Z
demo=examples/playbooks/demo.yaml
cases=examples/cases/demo.yaml

# A pull request's change: e-mail clicks earn more, which the golden cases
# tolerate. NEW goes further and lowers the MQL threshold, so that leads
# change stage.
sed -E '/id: eng-email-click/,/points:/ s/points: 3$/points: 5/' "$demo" >"$tmp/pr.yaml"
sed -E 's/^(  mql: \{min_total: )[0-9.]+/\1 80/' "$tmp/pr.yaml" >"$tmp/new.yaml"
if cmp -s "$demo" "$tmp/pr.yaml" || cmp -s "$tmp/pr.yaml" "$tmp/new.yaml"; then
  fail "the demo's click rule or MQL threshold was not found: update this script"
fi
# A Playbook with two problems (a criterion of weight 0, a fit rule of 0
# points), one with an unknown field, one that is not YAML.
sed -e '0,/        weight: 30/s//        weight: 0/' \
    -e '0,/    points: 2$/s//    points: 0/' "$demo" >"$tmp/broken.yaml"
sed -e 's/^  name: acme-analytics-b2b/  name: acme-analytics-b2b\n  nmae: typo/' "$demo" >"$tmp/typo.yaml"
typo_line=$(grep -n '^  nmae: typo' "$tmp/typo.yaml" | cut -d: -f1)
printf 'metadata: {name: x\n' >"$tmp/syntax.yaml"

"$bin" sample-leads --count 2000 --seed 7 --now "$now" >"$tmp/leads.jsonl" 2>/dev/null

# ---- validate -------------------------------------------------------------

run validate "$demo"
expect_status "validate the demo" 0
expect_line "validate names the version" "$tmp/out" "ok (acme-analytics-b2b@"

run validate --format json "$demo" "$tmp/broken.yaml"
expect_status "validate --format json, one broken" 1
expect_json "validate JSON lists the problems with positions" "$tmp/out" \
  'not d["ok"] and d["files"][0]["ok"] and len(d["files"][1]["problems"]) == 2 and all(p["line"] > 0 for p in d["files"][1]["problems"])'

run validate "$tmp/broken.yaml"
expect_status "validate a broken Playbook" 1
expect_line "the bad weight is located" "$tmp/err" "$tmp/broken.yaml:"
expect_line "the bad weight is named" "$tmp/err" "].weight: weight must be"
expect_line "the bad points are named" "$tmp/err" "fit_rules[0].points: points must be non-zero"
run validate "$tmp/typo.yaml"
expect_status "validate an unknown field" 1
expect_line "the unknown field is located" "$tmp/err" "$tmp/typo.yaml:$typo_line:3: metadata.nmae: unknown field"

run validate --format github "$tmp/typo.yaml"
expect_status "validate --format github" 1
expect_line "GitHub annotation on the line" "$tmp/out" "::error file=$tmp/typo.yaml,line=$typo_line,col=3,title=Invalid Playbook::metadata.nmae: unknown field"

run validate --format junit "$demo" "$tmp/broken.yaml"
expect_status "validate --format junit" 1
cp "$tmp/out" "$tmp/validate.xml"
expect_junit "validate JUnit is valid" "$tmp/validate.xml"
expect_line "validate JUnit has the failure" "$tmp/validate.xml" '<failure message="2 problems"'

run validate "$tmp/syntax.yaml"
expect_status "validate a YAML syntax error" 1
run validate "$tmp/absent.yaml"
expect_status "validate a missing file" 2
run validate --format xml "$demo"
expect_status "an unknown format" 2
expect_line "the unknown format is named" "$tmp/err" 'unknown format "xml"'

# ---- test -----------------------------------------------------------------

n_cases=$(grep -c '^  - name:' "$cases")
run test "$demo" "$cases"
expect_status "the demo cases pass" 0
expect_line "test summary" "$tmp/out" "$n_cases passed, 0 failed"

run test --format json "$demo" "$cases"
expect_json "test JSON" "$tmp/out" "d['ok'] and d['passed'] == $n_cases and d['suites'][0]['cases'][0]['result']['lead_id']"

run test --format junit "$demo" "$cases"
expect_status "test --format junit" 0
cp "$tmp/out" "$tmp/test.xml"
expect_junit "test JUnit is valid" "$tmp/test.xml"
expect_line "test JUnit counts the cases" "$tmp/test.xml" "tests=\"$n_cases\" failures=\"0\""

# The first case expects stage mql and grade A; expect nurture and B.
python3 - "$cases" "$tmp/failing.yaml" <<'EOF'
import sys
text = open(sys.argv[1]).read()
text = text.replace("      stage: mql\n      grade: A\n", "      stage: nurture\n      grade: B\n", 1)
open(sys.argv[2], "w").write(text)
EOF
run test "$demo" "$tmp/failing.yaml"
expect_status "a failing case" 1
expect_line "the failure shows expected and actual" "$tmp/out" 'stage: expected nurture, got mql'
expect_line "the failure shows the explanation" "$tmp/out" "explanation:"
expect_line "the failure counts" "$tmp/out" "$((n_cases - 1)) passed, 1 failed"

run test --format github "$demo" "$tmp/failing.yaml"
expect_status "a failing case, GitHub" 1
expect_line "GitHub annotation on the expectation" "$tmp/out" "::error file=$tmp/failing.yaml,line="
expect_line "GitHub annotation names the case" "$tmp/out" "title=Golden case scaleup-cmo-demo-request-is-urgent-mql failed::stage: expected nurture, got mql"

run test --format junit "$demo" "$tmp/failing.yaml"
cp "$tmp/out" "$tmp/failing.xml"
expect_junit "failing JUnit is valid" "$tmp/failing.xml"
expect_line "failing JUnit has one failure" "$tmp/failing.xml" 'failures="1"'
expect_line "failing JUnit carries the expectation" "$tmp/failing.xml" '<failure message="2 expectations failed"'

cat >"$tmp/bad-cases.yaml" <<'EOF'
cases:
  - name: a
    now: 2026-11-23T09:00:00Z
    lead: {id: a, events: [{type: email_open, occurred_at: 2026-11-23T08:00:00Z}]}
    expect: {stage: mql, colour: red}
  - name: a
    lead: {id: b}
EOF
run test "$demo" "$tmp/bad-cases.yaml"
expect_status "malformed cases" 2
expect_line "unknown expectation located" "$tmp/err" "$tmp/bad-cases.yaml:5:26: cases[0].expect.colour: unknown field"
run test "$demo" "$tmp/syntax.yaml"
expect_status "cases with a syntax error" 2
run test "$demo" "$tmp/absent.yaml"
expect_status "missing cases" 2
run test "$tmp/typo.yaml" "$cases"
expect_status "golden cases of a broken Playbook" 1
expect_line "its problems are listed" "$tmp/err" "metadata.nmae: unknown field"
run test "$demo"
expect_status "test without cases" 2

# ---- diff -----------------------------------------------------------------

run diff "$demo" "$demo"
expect_status "diff of identical Playbooks" 0
expect_line "no rule changed" "$tmp/out" "Rules: no change"

run diff "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now"
expect_status "diff with sample leads" 0
expect_line "the threshold change is listed" "$tmp/out" "mql.min_total:"
expect_line "the points change is listed" "$tmp/out" 'changed  engagement.rules "eng-email-click"'
expect_line "the leads are counted" "$tmp/out" "Lead impact: 2000 leads"
expect_line "the stage matrix is shown" "$tmp/out" "Stage (rows: before, columns: after)"
expect_line "the team matrix is shown" "$tmp/out" "Team (rows: before, columns: after)"
expect_line "the largest changes are listed" "$tmp/out" "Largest changes"
expect_no_line "no colour in a file" "$tmp/out" $'\x1b['

run diff "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --max-stage-changes 0
expect_status "a limit exceeded" 1
expect_line "the limit is reported" "$tmp/out" "EXCEEDED  stage changes:"
run diff "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --max-stage-changes=100% --max_grade_changes 2000
expect_status "limits held" 0

run diff --format json "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --max-stage-changes 1%
expect_status "diff --format json over a limit" 1
cp "$tmp/out" "$tmp/diff.json"
expect_json "diff JSON" "$tmp/diff.json" \
  'not d["ok"] and d["impact"]["leads"] == 2000 and sum(map(sum, d["impact"]["stages"]["counts"])) == 2000 and d["limits"][0]["exceeded"] and any(c["section"] == "thresholds" for c in d["changes"])'

run diff --format junit "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --max-stage-changes 1%
cp "$tmp/out" "$tmp/diff.xml"
expect_junit "diff JUnit is valid" "$tmp/diff.xml"
expect_line "diff JUnit fails the limit" "$tmp/diff.xml" '<failure message="stage changes:'

run diff --format github "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --max-stage-changes 1%
expect_line "diff GitHub notice on the changed line" "$tmp/out" "::notice file=$tmp/new.yaml,line="
expect_line "diff GitHub error for the limit" "$tmp/out" "::error file=$tmp/new.yaml,title=Lead impact over the limit::stage changes:"
expect_line "percent signs are escaped" "$tmp/out" "limit 1%25"

# Threads change nothing.
"$bin" diff --format json --threads 1 "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --top 50 >"$tmp/one.json" 2>/dev/null
"$bin" diff --format json --threads 3 "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --now "$now" --top 50 >"$tmp/three.json" 2>/dev/null
if cmp -s "$tmp/one.json" "$tmp/three.json"; then
  pass "diff is the same on 1 and 3 threads"
else
  fail "diff differs between 1 and 3 threads"
fi

run diff "$demo" "$tmp/broken.yaml"
expect_status "diff to a broken Playbook" 1
expect_line "its problems are listed" "$tmp/out" "points must be non-zero"
run diff "$tmp/broken.yaml" "$demo"
expect_status "diff from a broken Playbook" 2
run diff "$demo" "$tmp/new.yaml" --leads "$tmp/leads.jsonl" --max-stage-changes five
expect_status "a malformed limit" 2
run diff "$demo" "$tmp/new.yaml" --max-stage-changes 5%
expect_status "a limit without leads" 2
run diff "$demo" "$tmp/new.yaml" --leads "$tmp/absent.jsonl"
expect_status "a missing lead file" 2
run diff "$demo"
expect_status "diff without NEW" 2

{ head -n 10 "$tmp/leads.jsonl"; echo '{"id": "broken", '; echo '{"id":"no-event-id","events":[{"type":"EVENT_TYPE_EMAIL_OPEN","occurred_at":"2026-11-20T00:00:00Z"}]}'; tail -n 5 "$tmp/leads.jsonl"; } >"$tmp/malformed.jsonl"
run diff "$demo" "$tmp/new.yaml" --leads "$tmp/malformed.jsonl" --now "$now"
expect_status "malformed lead lines" 2
expect_line "the unreadable line is located" "$tmp/out" "$tmp/malformed.jsonl:11: not a lead"
expect_line "the invalid lead is located" "$tmp/out" 'line 12: lead "no-event-id": events[0].id'
expect_line "the other leads are measured" "$tmp/out" "Lead impact: 15 leads"

printf 'id,job_title,department,seniority,industry,employee_count,email,phone\nc1,VP Marketing,marketing,vp,saas,250,a@b.io,+33 1\nc2,Intern,marketing,,saas,250,c@d.io,\n' >"$tmp/leads.csv"
run diff --format json "$demo" "$tmp/new.yaml" --leads "$tmp/leads.csv" --now "$now"
expect_status "CSV leads" 0
expect_json "CSV leads are counted" "$tmp/out" 'd["impact"]["leads"] == 2'
printf 'id,colour\nc1,red\n' >"$tmp/bad.csv"
run diff "$demo" "$tmp/new.yaml" --leads "$tmp/bad.csv" --now "$now"
expect_status "a CSV file with an unknown column" 2

# ---- OLD as a git revision, as in README's CI jobs --------------------------

# "origin" holds main; the clone changes the Playbook on a branch, as a pull
# request would, and runs README's commands.
origin="$tmp/origin"
mkdir -p "$origin/examples/playbooks" "$origin/examples/cases"
cp "$demo" "$origin/examples/playbooks/demo.yaml"
cp "$cases" "$origin/examples/cases/demo.yaml"
git_q() { git -c user.name=ci -c user.email=ci@example.com -c init.defaultBranch=main "$@" >/dev/null 2>&1; }
git_q -C "$origin" init && git_q -C "$origin" add . && git_q -C "$origin" commit -m base
git_q clone "$origin" "$tmp/clone"
cp "$tmp/pr.yaml" "$tmp/clone/examples/playbooks/demo.yaml"
(
  cd "$tmp/clone" || exit 2
  "$bin" sample-leads --count 2000 --seed 7 --now "$now" >sample.jsonl 2>/dev/null
  "$bin" validate --format github examples/playbooks/demo.yaml >"$tmp/out" 2>"$tmp/err" || exit 11
  "$bin" test --format junit examples/playbooks/demo.yaml examples/cases/demo.yaml >golden-cases.xml 2>"$tmp/err" || exit 12
  git fetch --quiet origin "+refs/heads/main:refs/remotes/origin/main" 2>"$tmp/err" || exit 14
  "$bin" diff --format github --leads sample.jsonl --now "$now" --max-stage-changes 50% \
    origin/main:examples/playbooks/demo.yaml examples/playbooks/demo.yaml >"$tmp/out" 2>"$tmp/err" || exit 13
)
status=$?
expect_status "README's CI commands on a changed Playbook" 0
expect_line "the base revision is read from git" "$tmp/out" "Playbook diff: origin/main:examples/playbooks/demo.yaml"
expect_line "the change is annotated" "$tmp/out" "::notice file=examples/playbooks/demo.yaml,line="
expect_junit "README's JUnit report is valid" "$tmp/clone/golden-cases.xml"

(cd "$tmp/clone" && "$bin" diff origin/nope:examples/playbooks/demo.yaml examples/playbooks/demo.yaml >"$tmp/out" 2>"$tmp/err")
status=$?
expect_status "an unknown revision" 2
expect_line "git's message is shown" "$tmp/err" "origin/nope:examples/playbooks/demo.yaml: git show failed"
sed -e 's/^  name: acme-analytics-b2b/  name: acme-analytics-b2b\n  nmae: typo/' "$demo" >"$tmp/clone/examples/playbooks/demo.yaml"
(cd "$tmp/clone" && git_q commit -am broken && "$bin" validate HEAD:examples/playbooks/demo.yaml >"$tmp/out" 2>"$tmp/err")
status=$?
expect_status "validate a revision" 1
expect_line "problems are located in the revision" "$tmp/err" "HEAD:examples/playbooks/demo.yaml:$typo_line:3: metadata.nmae"

# ---- colour ----------------------------------------------------------------

if command -v script >/dev/null; then
  script -qec "$bin validate $demo" /dev/null >"$tmp/tty" 2>&1
  expect_line "colour on a terminal" "$tmp/tty" $'\x1b[32mok'
  NO_COLOR=1 script -qec "$bin validate $demo" /dev/null >"$tmp/tty" 2>&1
  expect_no_line "no colour with NO_COLOR" "$tmp/tty" $'\x1b['
fi

# ---- score -----------------------------------------------------------------

run score "$demo" "$tmp/leads.jsonl" --now "$now" --threads 1
expect_status "score streams results" 0
cp "$tmp/out" "$tmp/scores-1"
run score "$demo" - --now "$now" --threads 2 <"$tmp/leads.jsonl"
cmp -s "$tmp/out" "$tmp/scores-1" && pass "score is the same from stdin on 2 threads" ||
  fail "score differs from stdin on 2 threads"
[ "$(wc -l <"$tmp/scores-1")" -eq 2000 ] && pass "one result per lead" || fail "not one result per lead"
run score "$demo" "$tmp/malformed.jsonl" --now "$now"
expect_status "score malformed leads" 2
run score --format json "$demo" "$tmp/leads.jsonl"
expect_status "score has no --format" 2

# ---- a million leads ---------------------------------------------------------

# 10,000 sample leads with a few events each, repeated under new ids: a
# million distinct leads in seconds, whatever the build type. Sanitizer
# builds run 30 times slower and ask for fewer (SMARKETING_CI_CHECK_LEADS).
leads=${SMARKETING_CI_CHECK_LEADS:-1000000}
repeats=$(( (leads + 9999) / 10000 ))
"$bin" sample-leads --count 10000 --seed 3 --mean_events 4 --now "$now" >"$tmp/base.jsonl" 2>/dev/null
awk -v repeats="$repeats" -v leads="$leads" '
  { line[NR] = $0 }
  END {
    n = 0
    for (r = 0; r < repeats; r++) {
      for (i = 1; i <= NR && n < leads; i++) {
        out = line[i]; sub(/"id":"lead-/, "\"id\":\"r" r "-lead-", out); print out; n++
      }
    }
  }' "$tmp/base.jsonl" >"$tmp/many.jsonl"
rm -f "$tmp/base.jsonl"
start=$(date +%s.%N)
run diff --format json "$demo" "$tmp/new.yaml" --leads "$tmp/many.jsonl" --now "$now" --max-stage-changes 50%
elapsed=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
expect_status "diff over $leads leads (${elapsed}s)" 0
expect_json "$leads leads measured" "$tmp/out" \
  "d['impact']['leads'] == $leads and d['impact']['refused'] == 0 and sum(map(sum, d['impact']['stages']['counts'])) == $leads"
rm -f "$tmp/many.jsonl"

finish
