#!/bin/sh
# W6: pgsse.publish() throughput against a bare pg_notify(), from 1 and 8
# connections, measured with pgbench in the same run on a private
# cluster. Prints one line per case and the ratios.
set -eu
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${W6_SECONDS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-w6.XXXXXX")
chmod 755 "$tmp"
trap '"$src/bin/pgsse-cluster" stop "$tmp/c" immediate >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$src/bin/pgsse-cluster" init "$tmp/c" >/dev/null
"$src/bin/pgsse-cluster" start "$tmp/c"
eval "$("$src/bin/pgsse-cluster" env "$tmp/c")"
psql -q -v ON_ERROR_STOP=1 -f "$src/sql/pgsse.sql"
psql -q -c "select pgsse.load_registry(\$\$$(cat "$src/sql/registry.json")\$\$::jsonb)" >/dev/null
echo "select pgsse.publish('logs', 'log', '{\"source\":\"bench\",\"line\":\"x\"}');" >"$tmp/publish.sql"
echo "select pg_notify('bench', 'logs:1');" >"$tmp/notify.sql"
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
tps() {
	"$PGBENCH" -n -M prepared -c "$1" -j "$1" -T "$secs" -f "$2" 2>/dev/null |
		awk '/^tps/ { print int($3) }'
}
for c in 1 8; do
	n=$(tps $c "$tmp/notify.sql")
	p=$(tps $c "$tmp/publish.sql")
	ratio=$(awk -v p="$p" -v n="$n" 'BEGIN { printf "%.2f", p / n }')
	echo "W6 clients=$c pg_notify=${n}/s publish=${p}/s ratio=$ratio"
done
