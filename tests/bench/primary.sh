#!/bin/sh
# make bench-primary: what the primary pays, on a private cluster, for
# docs/SCALING.md. Prints one key=value line per figure:
#   wal_*          WAL bytes per published event (payload ~30 B, ~1 KiB)
#                  and per bare pg_notify, from pg_current_wal_insert_lsn
#                  before and after PRIMARY_EVENTS of them;
#   rate_*         events/s from 1 and 8 pgbench connections, with
#                  fsync=off (the test clusters' default) and with
#                  fsync=on and full_page_writes=on; with fsync on also a
#                  plain insert's commit with and without a pg_notify;
#   commits_per_flush_*  with fsync on, commits per WAL flush
#                  (pg_stat_wal.wal_sync): above 1 when commits share a
#                  flush, 1 when a lock makes them flush one by one;
#   listen_*       pg_notify and publish events/s from 1 connection while
#                  0, 10, 100 and 400 pgsse-stream processes (one LISTEN
#                  connection each) run, the CPU those listeners' backends
#                  and processes use idle (listen_idle_*) and per
#                  notification beyond that;
#   hubread_*      the hub's log read (lib/feed.c fetch_sql) per call from
#                  1 connection (round trip included), for 1 and 100 new
#                  events per doorbell batch, parsed and planned on every
#                  call (extended) and prepared.
# Every rate is from one short run on a shared machine: compare figures
# from the same run, not across runs.
set -eu
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PGSSE_BUILDDIR:-$src}
secs=${PRIMARY_SECONDS:-5}
nev=${PRIMARY_EVENTS:-2000}
listeners=${PRIMARY_LISTENERS:-"0 10 100 400"}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
[ -x "$PGBENCH" ] || PGBENCH=pgbench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-primary.XXXXXX")
chmod 755 "$tmp"
spids=

cleanup() {
	for p in $spids; do
		kill "$p" 2>/dev/null || true
	done
	"$src/bin/pgsse-cluster" stop "$tmp/c" immediate >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$src/bin/pgsse-cluster" init "$tmp/c" >/dev/null
# 400 listeners, pgbench's 8 and psql: the default 200 is too few.
echo "max_connections = 500" >>"$tmp/c/data/postgresql.conf"
"$src/bin/pgsse-cluster" start "$tmp/c"
eval "$("$src/bin/pgsse-cluster" env "$tmp/c")"
psql -q -v ON_ERROR_STOP=1 -f "$src/sql/pgsse.sql" >/dev/null
psql -q -c "select pgsse.load_registry(\$\$$(cat "$src/sql/registry.json")\$\$::jsonb)" >/dev/null

q() {
	psql -Atqc "$1"
}

# The statements measured. The 30 B payload is the W6 one.
small='{"source":"bench","line":"x"}'
big="{\"source\":\"bench\",\"line\":\"$(head -c 1000 /dev/zero | tr '\0' x)\"}"
echo "select pgsse.publish('logs', 'log', '$small');" >"$tmp/pub30.sql"
echo "select pgsse.publish('logs', 'log', '$big');" >"$tmp/pub1k.sql"
echo "select pg_notify('bench', 'logs:1');" >"$tmp/notify.sql"
# A commit that writes a row, with and without a NOTIFY: what the
# notify lock alone costs when commits flush (no pgsse lock involved).
psql -q -c "create table bench_t (id bigserial primary key, v text)"
echo "insert into bench_t (v) values ('x');" >"$tmp/insert.sql"
printf '%s\n' "begin;" "insert into bench_t (v) values ('x');" \
    "select pg_notify('bench', 'logs:1');" "commit;" >"$tmp/insnotify.sql"
# lib/feed.c's fetch_sql as the hub runs it ($3 NULL: every event), for
# the one channel logs past :after.
cat >"$tmp/hubread.sql" <<'SQL'
select l.id, l.event, l.payload::text, l.channel, coalesce(l.payload ->> 'job_id', '0'), l.recipient, extract(epoch from l.created_at) from unnest(array['logs']::text[], array[:after]::bigint[]) c (ch, after) cross join lateral (select l.id, l.event, l.payload, l.channel, l.recipient, l.created_at from pgsse.log l where (l.channel, l.id) > (c.ch, c.after) and (l.channel, l.id) <= (c.ch, 9223372036854775807) and l.id > c.after and (null::text is null or l.recipient is null or l.recipient = null::text) order by l.channel, l.id limit 1000) l order by l.id limit 1000;
SQL

# count CONNS FILE [ARGS]: runs FILE for secs from CONNS connections and
# prints the number of transactions done.
count() {
	c=$1
	f=$2
	shift 2
	"$PGBENCH" -n -M prepared -c "$c" -j "$c" -T "$secs" "$@" -f "$f" \
	    2>/dev/null | awk '/actually processed/ { print $NF; exit }' |
	    sed 's|/.*||'
}

# rate CONNS FILE [ARGS]: events/s.
rate() {
	n=$(count "$@")
	echo $((n / secs))
}

# wal KEY FILE: WAL bytes per run of FILE, over nev runs.
wal() {
	a=$(q "select pg_current_wal_insert_lsn()")
	"$PGBENCH" -n -M prepared -c 1 -t "$nev" -f "$2" >/dev/null 2>&1
	b=$(q "select pg_current_wal_insert_lsn()")
	echo "$1=$(q "select round(pg_wal_lsn_diff('$b', '$a') / $nev)")"
}

# rates SUFFIX: publish and pg_notify events/s from 1 and 8 connections.
rates() {
	for c in 1 8; do
		echo "rate_notify_c${c}_$1=$(rate "$c" "$tmp/notify.sql")"
		echo "rate_publish_c${c}_$1=$(rate "$c" "$tmp/pub30.sql")"
	done
}

# synced CONNS KIND FILE: events/s of FILE from CONNS connections with
# fsync on, and commits per WAL flush (pg_stat_wal.wal_sync): above 1
# when commits share flushes (group commit), 1 when they flush one by one.
synced() {
	s0=$(q "select wal_sync from pg_stat_wal")
	n=$(count "$1" "$3")
	s1=$(q "select wal_sync from pg_stat_wal")
	echo "rate_$2_c$1_fsync_on=$((n / secs))"
	awk -v n="$n" -v d=$((s1 - s0)) -v k="$2" -v c="$1" 'BEGIN {
		printf "commits_per_flush_%s_c%d=%.2f\n", k, c, (d > 0 ? n / d : 0)
	}'
}

# ticks PID...: their user+system CPU, in clock ticks.
ticks() {
	for p in "$@"; do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s + 0 }'
}

# backends: the pids of the client backends other than psql's own.
backends() {
	q "select pid from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"
}

# now: seconds since the epoch, to the nanosecond.
now() {
	date +%s.%N
}

# listen_idle L: the CPU (clock ticks per second) the L running listeners'
# backends and pgsse-stream processes use with nothing published, into
# idle_b and idle_s, measured over secs; and prints it in percent of a core.
listen_idle() {
	l=$1
	# shellcheck disable=SC2046
	set -- $(backends)
	t0=$(now)
	bt0=$(ticks "$@")
	# shellcheck disable=SC2086
	st0=$(ticks $spids)
	sleep "$secs"
	bt1=$(ticks "$@")
	# shellcheck disable=SC2086
	st1=$(ticks $spids)
	t1=$(now)
	idle_b=$(awk -v d=$((bt1 - bt0)) -v t0="$t0" -v t1="$t1" 'BEGIN { print d / (t1 - t0) }')
	idle_s=$(awk -v d=$((st1 - st0)) -v t0="$t0" -v t1="$t1" 'BEGIN { print d / (t1 - t0) }')
	awk -v b="$idle_b" -v s="$idle_s" -v hz="$hz" -v l="$l" 'BEGIN {
		printf "listen_idle_l%d_backends_pct=%.1f\nlisten_idle_l%d_streams_pct=%.1f\n",
		    l, b * 100 / hz, l, s * 100 / hz
	}'
}

# listen_case L KIND FILE: events/s of FILE from 1 connection with the
# running listeners, and the microseconds of CPU their backends and
# pgsse-stream processes used per event beyond their idle use (listen_idle).
listen_case() {
	# shellcheck disable=SC2046
	set -- "$1" "$2" "$3" $(backends)
	l=$1
	kind=$2
	f=$3
	shift 3
	t0=$(now)
	bt0=$(ticks "$@")
	# shellcheck disable=SC2086
	st0=$(ticks $spids)
	n=$(count 1 "$f")
	sleep 1
	bt1=$(ticks "$@")
	# shellcheck disable=SC2086
	st1=$(ticks $spids)
	t1=$(now)
	echo "listen_${kind}_l${l}=$((n / secs))"
	if [ "$l" -gt 0 ]; then
		awk -v b=$((bt1 - bt0)) -v s=$((st1 - st0)) -v n="$n" -v hz="$hz" \
		    -v ib="$idle_b" -v is="$idle_s" -v t="$t1" -v t0="$t0" \
		    -v k="$kind" -v l="$l" 'BEGIN {
			b -= ib * (t - t0)
			s -= is * (t - t0)
			printf "listen_cpu_%s_l%d_backends_us=%.1f\n", k, l, b * 1e6 / hz / n
			printf "listen_cpu_%s_l%d_streams_us=%.1f\n", k, l, s * 1e6 / hz / n
		}'
	fi
}

# 1. WAL per event, fsync off (full_page_writes off).
wal wal_publish_30b "$tmp/pub30.sql"
wal wal_publish_1k "$tmp/pub1k.sql"
wal wal_notify "$tmp/notify.sql"

# 2. Rates, fsync off.
rates fsync_off

# 3. The hub's read: 1 and 100 new events per batch.
hz=$(getconf CLK_TCK)
tail=$(q "select max(id) from pgsse.log where channel = 'logs'")
# extended: parsed and planned on every call, as the hub ran it before
# it prepared it; prepared: parsed once (the hub also keeps one generic
# plan, lib/hub.c, which pgbench's prepared mode may not).
for k in 1 100; do
	for m in extended prepared; do
		n=$(count 1 "$tmp/hubread.sql" -M "$m" -D after=$((tail - k)))
		awk -v n="$n" -v s="$secs" -v k="$k" -v m="$m" 'BEGIN {
			printf "hubread_k%d_%s_us=%.1f\nhubread_k%d_%s_us_per_event=%.2f\n",
			    k, m, s * 1e6 / n, k, m, s * 1e6 / n / k
		}'
	done
done

# 4. Listeners: pgsse-stream processes, each with its LISTEN connection.
mkdir "$tmp/s"
have=0
for l in $listeners; do
	while [ "$have" -lt "$l" ]; do
		have=$((have + 1))
		"$build/cgi-bin/pgsse-stream" --socket "$tmp/s/$have" \
		    >>"$tmp/stream.log" 2>&1 </dev/null &
		spids="$spids $!"
	done
	i=0
	while [ "$(backends | wc -l)" -lt "$l" ]; do
		i=$((i + 1))
		[ "$i" -le 600 ] || { echo "primary.sh: $l listeners did not connect" >&2; exit 1; }
		sleep 0.1
	done
	[ "$l" -eq 0 ] || listen_idle "$l"
	listen_case "$l" notify "$tmp/notify.sql"
	listen_case "$l" publish "$tmp/pub30.sql"
done
for p in $spids; do
	kill "$p" 2>/dev/null || true
done
spids=

# 5. fsync on, full_page_writes on: the real cost of a commit here.
q "alter system set fsync = on" >/dev/null
q "alter system set full_page_writes = on" >/dev/null
"$src/bin/pgsse-cluster" stop "$tmp/c" >/dev/null
"$src/bin/pgsse-cluster" start "$tmp/c"
q "checkpoint" >/dev/null
wal wal_publish_30b_fpw "$tmp/pub30.sql"
for c in 1 8; do
	echo "rate_notify_c${c}_fsync_on=$(rate "$c" "$tmp/notify.sql")"
	synced "$c" publish "$tmp/pub30.sql"
	synced "$c" insert "$tmp/insert.sql"
	synced "$c" insert_notify "$tmp/insnotify.sql"
done
