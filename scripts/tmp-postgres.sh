#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks: a new cluster
# in DIR (initdb), listening on a free loopback port and DIR's socket, run as
# an unprivileged user when called as root (initdb and postgres refuse root:
# `nobody`, or SMARKETING_PG_USER). It stops by itself when OWNER_PID ends,
# so that a test killed halfway leaves no server behind.
#
#   scripts/tmp-postgres.sh start DIR OWNER_PID [-c name=value...]
#       prints the server's URL, postgresql://smarketing@127.0.0.1:PORT
#   scripts/tmp-postgres.sh createdb DIR NAME    prints the new database's URL
#   scripts/tmp-postgres.sh stop DIR
#   scripts/tmp-postgres.sh resume DIR    starts DIR's server again, same port
#
# Exit code 3 when the PostgreSQL binaries are missing (SMARKETING_PG_BIN,
# default /usr/lib/postgresql/15/bin: Debian's postgresql-15 package).
set -euo pipefail
bin=${SMARKETING_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: tmp-postgres.sh start|createdb|stop DIR ...}
dir=${2:?usage: tmp-postgres.sh start|createdb|stop DIR ...}
dir=$(cd "$dir" && pwd)

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u "${SMARKETING_PG_USER:-nobody}" --)
fi

# Starts DIR's cluster on port $1 with the extra settings of $2; returns
# pg_ctl's status.
launch() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 $2" \
    start >/dev/null 2>&1 || return 1
  echo "$1" >"$dir/port"
  # The watchdog: stops the server when its owner is gone.
  setsid bash -c "while kill -0 $(cat "$dir/owner") 2>/dev/null && [ -f '$dir/data/postmaster.pid' ]; do sleep 1; done
    ${as_owner[*]} '$bin/pg_ctl' -D '$dir/data' -m immediate stop" >/dev/null 2>&1 </dev/null &
}

case "$cmd" in
start)
  owner=${3:?usage: tmp-postgres.sh start DIR OWNER_PID}
  shift 3
  for tool in initdb postgres pg_ctl; do
    [ -x "$bin/$tool" ] || { echo "tmp-postgres: $bin/$tool not found (apt-get install postgresql-15)" >&2; exit 3; }
  done
  [ "$(id -u)" -ne 0 ] || chown "${SMARKETING_PG_USER:-nobody}" "$dir"
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U smarketing -A trust -E UTF8 \
    --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  echo "$owner" >"$dir/owner"
  echo "$*" >"$dir/settings"
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if launch "$port" "$*"; then
      echo "postgresql://smarketing@127.0.0.1:$port"
      exit 0
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
createdb)
  name=${3:?usage: tmp-postgres.sh createdb DIR NAME}
  port=$(cat "$dir/port")
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U smarketing "$name"
  echo "postgresql://smarketing@127.0.0.1:$port/$name"
  ;;
resume)
  launch "$(cat "$dir/port")" "$(cat "$dir/settings")" || { cat "$dir/server.log" >&2; exit 1; }
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "tmp-postgres: unknown command $cmd" >&2
  exit 2
  ;;
esac
