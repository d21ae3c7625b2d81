# Shared by the command-line test scripts: sourced with the script's own
# arguments (SMARKETING_BINARY REPO_ROOT). Sets $bin, $root and a temporary
# directory $tmp, moves to $root, and gives the checks below; a script ends
# with `finish`.

if [ $# -ne 2 ]; then
  echo "usage: $0 SMARKETING_BINARY REPO_ROOT" >&2
  exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$2" && pwd)
if [ ! -x "$bin" ]; then
  echo "$bin: not an executable" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 2

passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# Runs the binary; stdout and stderr go to $tmp/out and $tmp/err, the exit
# status to $status.
status=0
run() {
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
}

# expect_status NAME CODE: the last run exited with CODE.
expect_status() {
  if [ "$status" -eq "$2" ]; then
    pass "$1: exit $2"
  else
    fail "$1: exit $status, expected $2; stderr: $(head -c 600 "$tmp/err")"
  fi
}

# expect_line NAME FILE TEXT: FILE has a line containing TEXT (fixed string).
expect_line() {
  if grep -qF -- "$3" "$2"; then
    pass "$1"
  else
    fail "$1: no line with '$3' in: $(head -c 600 "$2")"
  fi
}

# Prints the tally; the script's exit status says whether every check passed.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
