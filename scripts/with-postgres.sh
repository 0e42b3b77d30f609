#!/usr/bin/env bash
# Run a command against a private, throw-away PostgreSQL cluster: DATABASE_URL points at it.
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/cohortsafe-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    as_pg=(runuser -u postgres --)
fi
cleanup() {
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
(cd / && "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null)
(cd / && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null)
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/cohortsafe"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on port $port"
"$@"
