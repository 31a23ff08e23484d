#!/usr/bin/env bash
# Runs every test. Installs PostgreSQL, kcat, sqlite3, curl, redis-server and python3-redis from Debian's packages when missing, starts a throwaway
# server (initdb in a temporary folder, loopback port, wal_level=logical), runs the whole solution's
# tests against it and SQLite, stops the server, and ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  echo "test.sh: installing PostgreSQL (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PGBIN="$(pg_bin)"
# kcat (Debian) produces to Kafka in one connector test, as a user would.
if ! command -v kcat >/dev/null 2>&1; then
  echo "test.sh: installing kcat (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null; }
fi

# sqlite3 and curl (Debian) run the commands the README and docs/ show, as DocsCommandsSpec runs them (kcat and
# redis-cli, from redis-server's redis-tools, too).
for tool in sqlite3 curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test.sh: installing $tool (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
  fi
done

# redis-server (Debian) is the serving store the benchmark suite's comparison runs against; its quick run is a test.
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  echo "test.sh: installing redis-server (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
fi

# redis-py (Debian's python3-redis) is one of the Redis clients the Redis protocol specs read the node with.
if ! /usr/bin/python3 -c "import redis" >/dev/null 2>&1; then
  echo "test.sh: installing python3-redis (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null; }
fi

PGROOT="$(mktemp -d /tmp/contextlake-pg.XXXXXX)"
AS_PG=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$PGROOT"
  AS_PG=(runuser -u postgres --)
fi

cleanup() {
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap cleanup EXIT

"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust -E UTF8 >/dev/null
PORT=""
for attempt in 1 2 3 4 5; do
  candidate=$(( 20000 + RANDOM % 20000 ))
  if "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 30 start -o \
      "-p $candidate -k $PGROOT -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=20 -c max_replication_slots=20 -c max_connections=400" >/dev/null; then
    PORT=$candidate
    break
  fi
done
if [ -z "$PORT" ]; then
  echo "test.sh: PostgreSQL did not start; its log:" >&2
  cat "$PGROOT/server.log" >&2
  exit 1
fi
echo "test.sh: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
export CONTEXTLAKE_TEST_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=80"

dotnet build ContextLake.sln -c Release -nologo -v quiet
set +e
dotnet test ContextLake.sln -c Release --no-build -nologo 2>&1 | tee "$PGROOT/test.log"
status=${PIPESTATUS[0]}
set -e

# dotnet test prints a summary per test assembly; add them up into one closing line.
passed=$(grep -oE 'Passed: +[0-9]+' "$PGROOT/test.log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$PGROOT/test.log" | awk '{s+=$2} END {print s+0}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
