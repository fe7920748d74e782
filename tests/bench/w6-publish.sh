#!/bin/sh
# W6: pgsse.publish() throughput against a bare pg_notify(), measured
# with pgbench in the same run on a private cluster: from 1 connection,
# from 8 on one channel, and from 8 on 8 channels (bench0 ... bench7,
# registered for the run, each connection its own), and the batch form,
# pgsse.publish_batch(), W6_BATCH events a call, from 1 and 8
# connections, counted in events, not statements. Each case alternates
# pg_notify and publish runs, W6_ROUNDS of each, W6_SECONDS each, so
# that load drift weighs on both. Prints one line per case with the
# ratio (publish over pg_notify):
#   W6 clients=1 pg_notify=N/s publish=P/s ratio=R
#   W6 clients=8 pg_notify=N/s publish=P/s ratio=R            (one channel)
#   W6 clients=8,channels=8 pg_notify=N/s publish=P/s ratio=R
#   W6 batch=B,clients=1 pg_notify=N/s publish_batch=E/s ratio=R
#   W6 batch=B,clients=8 pg_notify=N/s publish_batch=E/s ratio=R
# W6_SQL names another schema file to load (an older sql/pgsse.sql, to
# compare); without publish_batch() the batch lines are left out.
set -eu
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${W6_SECONDS:-10}
rounds=${W6_ROUNDS:-2}
batch=${W6_BATCH:-100}
schema=${W6_SQL:-$src/sql/pgsse.sql}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-w6.XXXXXX")
chmod 755 "$tmp"
trap '"$src/bin/pgsse-cluster" stop "$tmp/c" immediate >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$src/bin/pgsse-cluster" init "$tmp/c" >/dev/null
"$src/bin/pgsse-cluster" start "$tmp/c"
eval "$("$src/bin/pgsse-cluster" env "$tmp/c")"
psql -q -v ON_ERROR_STOP=1 -f "$schema"
# The registry, and the channels bench0 ... bench7 with the logs event.
psql -q -v ON_ERROR_STOP=1 >/dev/null <<EOF
select pgsse.load_registry(jsonb_set(d, '{channels}', (d -> 'channels') ||
	(select jsonb_agg(jsonb_build_object('name', 'bench' || i,
	'description', 'W6 channel ' || i, 'events', d #> '{channels,0,events}'))
	from generate_series(0, 7) i)))
from (select \$\$$(cat "$src/sql/registry.json")\$\$::jsonb) r (d);
EOF
[ "$(psql -Atc "select count(*) from pgsse.channels where name ~ '^bench[0-7]$'")" = 8 ]
line='{"source":"bench","line":"x"}'
echo "select pgsse.publish('logs', 'log', '$line');" >"$tmp/publish.sql"
echo "select pgsse.publish('bench' || :client_id, 'log', '$line');" >"$tmp/publish8.sql"
echo "select pg_notify('bench', 'logs:1');" >"$tmp/notify.sql"
echo "select pg_notify('bench' || :client_id, 'logs:1');" >"$tmp/notify8.sql"
echo "select pgsse.publish_batch('logs', 'log', array_fill('$line'::jsonb, array[$batch]));" >"$tmp/batch.sql"
hasbatch=$(psql -Atc "select to_regprocedure('pgsse.publish_batch(text, text, jsonb[], text)') is not null")
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}

# Prints the statements per second of script $2 from $1 connections.
tps() {
	"$PGBENCH" -n -M prepared -c "$1" -j "$1" -T "$secs" -f "$2" 2>/dev/null |
		awk '/^tps/ { print int($3) }'
}

# Prints "N P": the mean rates of pg_notify script $2 and publish script
# $3 from $1 connections, runs alternating; P times $4 (events a call).
pair() {
	n=0 p=0 i=0
	while [ "$i" -lt "$rounds" ]; do
		n=$((n + $(tps "$1" "$2")))
		p=$((p + $(tps "$1" "$3") * $4))
		i=$((i + 1))
	done
	echo "$((n / rounds)) $((p / rounds))"
}

# Prints one case's line: its name, the publish function's name, and
# pair's arguments.
report() {
	name=$1 fn=$2
	shift 2
	# shellcheck disable=SC2046 # the two rates, split on purpose
	set -- $(pair "$@")
	echo "W6 $name pg_notify=$1/s $fn=$2/s ratio=$(awk -v p="$2" -v n="$1" \
		'BEGIN { printf "%.2f", (n > 0 ? p / n : 0) }')"
}

report clients=1 publish 1 "$tmp/notify.sql" "$tmp/publish.sql" 1
report clients=8 publish 8 "$tmp/notify.sql" "$tmp/publish.sql" 1
report clients=8,channels=8 publish 8 "$tmp/notify8.sql" "$tmp/publish8.sql" 1
if [ "$hasbatch" = t ]; then
	report "batch=$batch,clients=1" publish_batch 1 "$tmp/notify.sql" \
		"$tmp/batch.sql" "$batch"
	report "batch=$batch,clients=8" publish_batch 8 "$tmp/notify.sql" \
		"$tmp/batch.sql" "$batch"
fi
