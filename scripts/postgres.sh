#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests and benchmarks: a cluster of its own
# in a temporary folder, run by the unprivileged `postgres` user (Debian's
# package makes it), on 127.0.0.1 and a Unix socket in that folder.
#
#   scripts/postgres.sh start   starts it (once) and prints its URL
#   scripts/postgres.sh stop    stops it and deletes its folder
#   scripts/postgres.sh url     prints the URL of the running one
#
# SPOOL_POSTGRES_PORT picks the port (default 54329). Installed by
# scripts/setup.sh --test.
set -euo pipefail

port=${SPOOL_POSTGRES_PORT:-54329}
folder=/tmp/spool-postgres-$port
url="postgres://spool@127.0.0.1:$port/spool?sslmode=disable"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (scripts/setup.sh --test installs it)" >&2; exit 1; }

# Runs a PostgreSQL program as `postgres` when we are root (initdb refuses root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    if [ -f "$folder/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$folder/data" status > /dev/null 2>&1; then
      echo "$url"
      exit 0
    fi
    rm -rf "$folder"
    mkdir -p "$folder"
    [ "$(id -u)" -ne 0 ] || chown postgres "$folder"
    as_owner "$bin/initdb" -D "$folder/data" -U spool -A trust -E UTF8 --no-locale > "$folder/initdb.log" 2>&1 \
      || { cat "$folder/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 start -o \
      "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$folder -c max_connections=500 -c shared_buffers=128MB" \
      > /dev/null || { cat "$folder/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U spool spool
    echo "$url"
    ;;
  stop)
    if [ -d "$folder/data" ]; then
      as_owner "$bin/pg_ctl" -D "$folder/data" -m fast -w stop > /dev/null 2>&1 || true
    fi
    rm -rf "$folder"
    ;;
  url)
    echo "$url"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop|url" >&2
    exit 2
    ;;
esac
