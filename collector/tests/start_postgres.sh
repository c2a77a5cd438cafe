#!/bin/sh
# Starts a throwaway PostgreSQL cluster for the collector tests, listening on
# 127.0.0.1:PORT only, with a database "pinion" owned by role "pinion".
#   start_postgres.sh DIR PORT    → prints the connection URI
#   start_postgres.sh --stop DIR  → stops it (the caller removes DIR)
# As root, the server runs as the "postgres" system user (initdb refuses root).
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "PostgreSQL server binaries not found: install Debian's postgresql package (scripts/install-deps.sh)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$1" = "--stop" ]; then
  as_owner "$bin/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
  exit 0
fi
dir=$1
port=$2
mkdir -p "$dir"
chmod 0755 "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
as_owner "$bin/initdb" -D "$dir/data" -U pinion --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# fsync stays on: the durability tests rely on it.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U pinion pinion
echo "postgresql://pinion@127.0.0.1:$port/pinion"
