#!/bin/bash
# The log at high rates (issue 18): retention and publishing with the
# log as one table (schema version 3: tests/data/schema-v1.sql,
# sql/upgrade/pgsse-1-2.sql and pgsse-2-3.sql) and partitioned
# (version 4, sql/pgsse.sql), each
# holding PRUNE_EVENTS events (10 million) made in bulk with INSERT ...
# SELECT generate_series, over 10 channels, spread evenly over the last
# 48 hours: with retention_interval 24 hours, prune removes the older
# half. Both databases live in one private cluster and are measured in
# the same run, one after the other:
#   publish rate   publish() calls/s from 1 and 8 connections (pgbench,
#                  PRUNE_SECONDS each, v3 and v4 in turns);
#   prune          pgsse.prune(): time, WAL written (pg_current_wal_lsn
#                  before and after), events and partitions removed;
#                  then the VACUUM that the deleted rows need (what
#                  autovacuum would do later), time and WAL;
#   upgrade        pgsse-schema upgrade of the pruned v3 database to 4:
#                  the attach reads the old table once.
# Autovacuum is off, so that nothing runs in the background; each
# measure starts after a CHECKPOINT. Prints a table and the ratios.
# It needs about 0.6 GB of disk a million events (checked first).
set -euo pipefail
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PGSSE_BUILDDIR:-$src}
events=${PRUNE_EVENTS:-10000000}
secs=${PRUNE_SECONDS:-15}
# The channels the events go to; a tenth of them per generating
# statement and per partition (log_partition_rows: 1,000,000 at 10M).
CHANNELS=10
BATCH=$((events / 10))
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}

case $events in
'' | *[!0-9]*) echo "prune.sh: PRUNE_EVENTS must be a whole number" >&2; exit 2 ;;
esac
if [ "$events" -lt 1000 ]; then
	echo "prune.sh: PRUNE_EVENTS must be at least 1000" >&2
	exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-prune.XXXXXX")
chmod 755 "$tmp"
cleanup() {
	[ -z "${PRUNE_KEEP:-}" ] || return 0	# debugging: keep the cluster
	"$src/bin/pgsse-cluster" stop "$tmp/c" immediate >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
need=$((events * 600 / 1000000 + 1000))
have=$(df -Pm "$tmp" | awk 'NR == 2 { print $4 }')
if [ "$have" -lt "$need" ]; then
	echo "prune.sh: $tmp has $have MB free; $events events need about $need MB" >&2
	exit 1
fi
"$src/bin/pgsse-cluster" init "$tmp/c" >/dev/null
echo "autovacuum = off" >>"$tmp/c/postgresql.conf"
"$src/bin/pgsse-cluster" start "$tmp/c" >/dev/null
eval "$("$src/bin/pgsse-cluster" env "$tmp/c")"

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

# The bench's registry: channels b0 to b9, each with one event.
reg=$(awk -v n="$CHANNELS" 'BEGIN {
	printf "{\"channels\": ["
	for (i = 0; i < n; i++)
		printf "%s{\"name\": \"b%d\", \"description\": \"Bench.\", \"events\": [{\"name\": \"tick\", \"description\": \"A tick\", \"fields\": {\"n\": \"integer\"}}]}", i ? ", " : "", i
	printf "]}" }')

# Calls pgsse.log_maintain(), where there is one (version 4).
MAINTAIN="do \$\$ begin if to_regprocedure('pgsse.log_maintain()') is not null then perform pgsse.log_maintain(); end if; end \$\$"

# Fills database $1 with the events, a tenth at a time; in a
# partitioned log pgsse.log_maintain() follows the ids as the runner's
# prune would.
fill() {
	local db=$1 k
	for ((k = 0; k < 10; k++)); do
		q -d "$db" -c "select setval('pgsse.log_id_seq', $((k * BATCH + 1)), false)" \
		    -c "$MAINTAIN" >/dev/null
		q -d "$db" <<SQL
insert into pgsse.log (id, channel, event, payload, created_at)
select i, 'b' || i % $CHANNELS, 'tick', jsonb_build_object('n', i),
	now() - interval '48 hours' * (1 - i::float8 / $events)
from generate_series($((k * BATCH + 1)), $((k < 9 ? (k + 1) * BATCH : events))) i;
SQL
	done
	q -d "$db" -c "select setval('pgsse.log_id_seq', $events)" -c "$MAINTAIN" \
	    -c "vacuum analyze" >/dev/null
}

echo "prune.sh: making v3 (one table) and v4 (partitioned), $events events each" >&2
createdb v3
createdb v4
q -d v3 -f "$src/tests/data/schema-v1.sql" -f "$src/sql/upgrade/pgsse-1-2.sql" \
    -f "$src/sql/upgrade/pgsse-2-3.sql"
q -d v4 -f "$src/sql/pgsse.sql" \
    -c "update pgsse.settings set value = '$BATCH' where name = 'log_partition_rows'" \
    -c "drop table pgsse.log_1" -c "$MAINTAIN"
for db in v3 v4; do
	q -d "$db" -c "select pgsse.load_registry(\$\$$reg\$\$::jsonb)" >/dev/null
	fill "$db"
done
[ "$(val -d v3 -c 'select pgsse.schema_version()')" = 3 ]
[ "$(val -d v4 -c 'select pgsse.schema_version()')" = 4 ]
size() { val -d "$1" -c "select pg_size_pretty(sum(pg_total_relation_size(c.oid))) from pg_class c where c.relnamespace = 'pgsse'::regnamespace and c.relname ~ '^log' and c.relkind in ('r', 'p')"; }
echo "prune.sh: v3 log $(size v3), v4 log $(size v4)" >&2

# Publish rate: pgbench, random channel, prepared.
cat >"$tmp/publish.sql" <<'SQL'
\set c random(0, 9)
select pgsse.publish('b' || :c::int, 'tick', jsonb_build_object('n', :c::int));
SQL
tps() {
	"$PGBENCH" -n -M prepared -c "$2" -j "$(($2 < 2 ? 1 : 2))" -T "$secs" \
	    -f "$tmp/publish.sql" "$1" 2>/dev/null | awk '/^tps/ { print int($3) }'
}
# Two turns each, v3 then v4, and the mean: the machine is shared.
declare -A r
for c in 1 8; do
	r[v3.pub$c]=0
	r[v4.pub$c]=0
	for turn in 1 2; do
		for db in v3 v4; do
			q -d "$db" -c checkpoint
			r[$db.pub$c]=$((r[$db.pub$c] + $(tps "$db" "$c") / 2))
		done
	done
done
echo "prune.sh: publish turns done ($turn each)" >&2

# Prune: time, WAL, events and partitions removed; then the vacuum.
# The log's partitions, and how many of those named in $2 are gone.
parts() { val -d "$1" -c "select string_agg(oid::text, ',') from pg_inherits i join pg_class c on c.oid = i.inhrelid where inhparent = 'pgsse.log'::regclass"; }
gone() { val -d "$1" -c "select count(*) from pg_class c right join unnest('{$2}'::oid[]) o on c.oid = o where c.oid is null"; }
measure() {
	local db=$1 sql=$2
	q -d "$db" -c checkpoint
	val -d "$db" <<SQL
select pg_current_wal_lsn() as l0, clock_timestamp() as t0 \gset
select ($sql) as n \gset
select :'n', round(extract(epoch from clock_timestamp() - :'t0')::numeric, 2),
	round(pg_wal_lsn_diff(pg_current_wal_lsn(), :'l0') / 1048576, 1);
SQL
}
for db in v3 v4; do
	# retention_count holds for every channel: time alone decides.
	q -d "$db" -c "update pgsse.settings set value = (select count(*) from pgsse.log) where name = 'retention_count'"
	p0=$(parts "$db")
	read -r n t w < <(measure "$db" "select pgsse.prune()" | tr '|' ' ')
	r[$db.pruned]=$n
	r[$db.prune_s]=$t
	r[$db.prune_wal]=$w
	r[$db.parts]=$(gone "$db" "$p0")
	q -d "$db" -c checkpoint
	t0=$(date +%s.%N)
	l0=$(val -d "$db" -c "select pg_current_wal_lsn()")
	q -d "$db" -c "vacuum pgsse.log"
	r[$db.vac_s]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	r[$db.vac_wal]=$(val -d "$db" -c "select round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$l0') / 1048576, 1)")
	r[$db.again_s]=$(measure "$db" "select pgsse.prune()" | cut -d'|' -f2)
	r[$db.left]=$(val -d "$db" -c "select count(*) from pgsse.log")
	echo "prune.sh: $db: publish/s ${r[$db.pub1]} (1), ${r[$db.pub8]} (8);" \
	    "prune removed ${r[$db.pruned]} events, ${r[$db.parts]} partitions" \
	    "in ${r[$db.prune_s]} s, ${r[$db.prune_wal]} MB of WAL; vacuum" \
	    "${r[$db.vac_s]} s, ${r[$db.vac_wal]} MB; again ${r[$db.again_s]} s" >&2
done

# The upgrade of the pruned v3 database.
t0=$(date +%s.%N)
PGSSE_DATADIR=$src "$build/bin/pgsse-schema" -d dbname=v3 --no-roles upgrade >&2
up=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
left=$(val -d v3 -c 'select count(*) from pgsse.log')
if [ "$left" != "${r[v3.left]}" ]; then
	echo "prune.sh: the upgrade left $left events of ${r[v3.left]}" >&2
	exit 1
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
cat <<EOF
The log at high rates: $events events, $CHANNELS channels, over 48 h; retention_interval 24 h.
$(nproc) cores, shared with other work; PostgreSQL $(val -c 'show server_version'), defaults but autovacuum off.
| measure | v3 (one table) | v4 (partitioned) | v4/v3 |
|---|---|---|---|
| publish/s, 1 connection | ${r[v3.pub1]} | ${r[v4.pub1]} | $(ratio "${r[v4.pub1]}" "${r[v3.pub1]}") |
| publish/s, 8 connections | ${r[v3.pub8]} | ${r[v4.pub8]} | $(ratio "${r[v4.pub8]}" "${r[v3.pub8]}") |
| prune: events removed | ${r[v3.pruned]} | ${r[v4.pruned]} | |
| prune: partitions dropped | ${r[v3.parts]} | ${r[v4.parts]} | |
| prune: seconds | ${r[v3.prune_s]} | ${r[v4.prune_s]} | $(ratio "${r[v4.prune_s]}" "${r[v3.prune_s]}") |
| prune: WAL MB | ${r[v3.prune_wal]} | ${r[v4.prune_wal]} | $(ratio "${r[v4.prune_wal]}" "${r[v3.prune_wal]}") |
| vacuum after it: seconds | ${r[v3.vac_s]} | ${r[v4.vac_s]} | $(ratio "${r[v4.vac_s]}" "${r[v3.vac_s]}") |
| vacuum after it: WAL MB | ${r[v3.vac_wal]} | ${r[v4.vac_wal]} | $(ratio "${r[v4.vac_wal]}" "${r[v3.vac_wal]}") |
| next prune (nothing due): seconds | ${r[v3.again_s]} | ${r[v4.again_s]} | |
| events left | ${r[v3.left]} | ${r[v4.left]} | |
Upgrading the pruned v3 database to 4 (pgsse-schema upgrade): $up s.
EOF
