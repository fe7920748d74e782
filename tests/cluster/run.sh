#!/bin/bash
# make check-cluster: pgsse beyond one host, in network namespaces of its
# own (names pgsse-g-*, addresses 10.210.0.0/16 only inside them):
#   back LAN 10.210.2.0/24 (bridge in pgsse-g-net): the PostgreSQL
#     primary .11 and its synchronous hot standby .12 (streaming
#     replication), and the web hosts' back legs .21-.23;
#   front LAN 10.210.1.0/24: the web hosts w1-w3 .21-.23, each lighttpd
#     (the shipped sample) with pgsse-stream and pgsse-app serving the
#     demo, and the clients .31.
# The stream processes connect with host=primary,standby
# target_session_attrs=read-write. Clients (tests/cluster/ssecheck) are
# spread over the web hosts and must each receive every event exactly
# once, in order, through these phases:
#   steady       events published on the primary
#   reads        an action goes to the primary; w1 reads fragments on the
#                standby (PGSSE_APP_READ_CONNINFO), w2 does not
#   link down    w2's back link down for 10 s
#   half-open    w2's back link drops everything both ways (nftables), so
#                no RST comes: its LISTEN connection must be noticed dead
#                within PGSSE_DB_DEAD_MS (plus slack), then the link heals
#   loss         w3's back link drops LOSS_PCT % of packets (numgen)
#   latency      w3's stream reconnects through a proxy adding DELAY_MS
#                each way (tests/cluster/delayproxy: no netem here)
#   failover     the primary stopped (immediate): w1 still serves a GET
#                fragment from the standby, w2 answers 503; the standby
#                is promoted; the streams and clients resume
#   async        the old primary, rebuilt (pg_basebackup), becomes an
#                asynchronous standby of the new one; its replication
#                link is cut (nftables in its namespace), N_LOST events
#                are published and every client gets them; the primary is
#                stopped (immediate) and the standby promoted: it lacks
#                those events, so each client gets one stream_reset, then
#                every event published on the new primary, once, in order;
#                the first resume on each web host after it is served (its
#                replay pool held a connection to the dead primary)
# Prints each recovery time and the events lost; exits 0 if none was
# lost, duplicated or out of order (and each client had exactly the one
# stream_reset of the async phase). Exits 77 (skip) without root or
# namespaces, and 1 instead where CI is set: CI must not skip it.
# Everything it makes is removed on every exit path.
set -uo pipefail
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PGSSE_BUILDDIR:-$src}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
CONNS=${CLUSTER_CONNS:-60}
LOSS_PCT=${CLUSTER_LOSS_PCT:-30}
DELAY_MS=${CLUSTER_DELAY_MS:-100}
# The whole run's bound, and the checker's.
RUN_MAX_S=480
CHECK_MAX_S=420
# How long any one wait may take, in tenths of a second.
WAIT_MAX=600
# The events of each phase; their sum is what every client must get.
N_STEADY=100 N_LINK=20 N_HALF=10 N_LOSS=50 N_DELAY=20 N_DIRECT=10
N_FAILOVER=50 N_LOST=20 N_ASYNC=30
TOTAL=$((N_STEADY + N_LINK + N_HALF + N_LOSS + N_DELAY + N_DIRECT + N_FAILOVER +
	N_LOST + N_ASYNC))
dead_ms=$(sed -n 's/^#define PGSSE_DB_DEAD_MS \([0-9]*\).*/\1/p' "$src/lib/extern.h")
# shellcheck source=tests/lib/stack.sh
. "$src/tests/lib/stack.sh"
P=pgsse-g
NODES="pri sby w1 w2 w3 cli"
declare -A FRONT=([w1]=10.210.1.21 [w2]=10.210.1.22 [w3]=10.210.1.23 [cli]=10.210.1.31)
declare -A BACK=([pri]=10.210.2.11 [sby]=10.210.2.12 [w1]=10.210.2.21 [w2]=10.210.2.22 [w3]=10.210.2.23)
PRI=${BACK[pri]} SBY=${BACK[sby]}
DBCONN="host=$PRI,$SBY port=5432 dbname=pgsse target_session_attrs=read-write"
tmp=
watchdog=0
pids=()

say() { printf 'check-cluster: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() {
	say "SKIP: $*"
	[ -n "${CI:-}" ] && fail "CI is set: a skip is a failure"
	exit 77
}
now_ms() { date +%s%3N; }
# ns NODE CMD...: runs CMD in NODE's namespace.
ns() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
as_pg() { runuser -u pgsse -- "$@"; }

# Stops what runs in our namespaces (PostgreSQL first, cleanly), then
# deletes them, which takes their links and nftables tables along.
cleanup() {
	local n d left i
	trap - EXIT INT TERM HUP
	[ "$watchdog" -gt 0 ] && kill "$watchdog" 2>/dev/null
	for d in pri sby; do
		[ -n "$tmp" ] && [ -f "$tmp/$d/data/postmaster.pid" ] &&
			as_pg "$PG_BINDIR/pg_ctl" -D "$tmp/$d/data" -m immediate -w -t 10 stop >/dev/null 2>&1
	done
	for i in $(seq 50); do
		left=
		for n in $NODES net; do
			ip netns list 2>/dev/null | grep -qw "$P-$n" || continue
			left+=" $(ip netns pids "$P-$n" 2>/dev/null | tr '\n' ' ')"
		done
		[ -z "${left// /}" ] && break
		# shellcheck disable=SC2086
		if [ "$i" -lt 30 ]; then kill -TERM $left 2>/dev/null; else kill -KILL $left 2>/dev/null; fi
		sleep 0.1
	done
	for n in $NODES net; do
		ip netns del "$P-$n" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}

[ "$(id -u)" = 0 ] || skip "needs root, for network namespaces"
for c in ip nft lighttpd curl psql runuser; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || skip "$c is missing (bin/install-deps)"
done
[ -x "$PG_BINDIR/pg_basebackup" ] || skip "no PostgreSQL in $PG_BINDIR"
[ -n "$dead_ms" ] || fail "PGSSE_DB_DEAD_MS not found in lib/extern.h"
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cleanup	# what an earlier run left behind
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-cluster.XXXXXX")
chmod 755 "$tmp"
(sleep "$RUN_MAX_S"; say "FAIL: over $RUN_MAX_S s"; kill -TERM $$) &
watchdog=$!
t_start=$(now_ms)

# --- The network. ---
ip netns add "$P-net" 2>/dev/null || skip "cannot make network namespaces"
ip -n "$P-net" link set lo up
for lan in front back; do
	ip -n "$P-net" link add "$P-$lan" type bridge || fail "bridge $lan"
	ip -n "$P-net" link set "$P-$lan" up
done
# link NODE LAN ADDR: a veth from NODE (pgsse-g-f or -b) to LAN's bridge.
link() {
	local leg=$P-${2:0:1} peer=$P-$1-${2:0:1}
	ip -n "$P-net" link add "$peer" type veth peer name "$leg" netns "$P-$1" &&
		ip -n "$P-net" link set "$peer" master "$P-$2" up &&
		ip -n "$P-$1" addr add "$3/24" dev "$leg" &&
		ip -n "$P-$1" link set "$leg" up
}
for n in $NODES; do
	ip netns add "$P-$n" || fail "namespace $n"
	ip -n "$P-$n" link set lo up
	[ -n "${FRONT[$n]:-}" ] && { link "$n" front "${FRONT[$n]}" || fail "front link of $n"; }
	[ -n "${BACK[$n]:-}" ] && { link "$n" back "${BACK[$n]}" || fail "back link of $n"; }
done

# --- PostgreSQL: the primary, then the standby from pg_basebackup. ---
ns pri "$cluster" init "$tmp/pri" 5432 >/dev/null || fail "initdb"
cat >>"$tmp/pri/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,$PRI'
wal_level = replica
max_wal_senders = 4
CONF
cat >>"$tmp/pri/data/pg_hba.conf" <<HBA
host	all		all	10.210.2.0/24	scram-sha-256
host	replication	pgsse	10.210.2.0/24	scram-sha-256
HBA
ns pri "$cluster" start "$tmp/pri" || fail "primary start"
eval "$("$cluster" env "$tmp/pri")"
export PGSSE_DATADIR=$src
"$build/bin/pgsse-schema" install >/dev/null || fail "pgsse-schema install"
psql -q -v ON_ERROR_STOP=1 -f "$src/demo/schema.sql" >/dev/null || fail "demo schema"
"$build/bin/pgsse-registry" load "$src/demo/registry.json" >/dev/null || fail "registry"
"$cluster" passwords "$tmp/pri" || fail "role passwords"
pgpass=$tmp/pri/pgpass
mkdir -p "$tmp/sby" && chown pgsse "$tmp/sby" && chmod 700 "$tmp/sby"
install -o pgsse -m 600 "$pgpass" "$tmp/sby/pgpass"
ns sby runuser -u pgsse -- env PGPASSFILE="$tmp/sby/pgpass" "$PG_BINDIR/pg_basebackup" \
	-h "$PRI" -p 5432 -U pgsse -D "$tmp/sby/data" -X stream -c fast || fail "pg_basebackup"
as_pg touch "$tmp/sby/data/standby.signal"
cat >>"$tmp/sby/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,$SBY'
unix_socket_directories = '$tmp/sby'
primary_conninfo = 'host=$PRI port=5432 user=pgsse passfile=$tmp/sby/pgpass application_name=pgsse_g_sby'
CONF
echo 5432 >"$tmp/sby/port"
ns sby "$cluster" start "$tmp/sby" || fail "standby start"
psql -qAt -c "alter system set synchronous_standby_names = 'pgsse_g_sby'" \
	-c "select pg_reload_conf()" >/dev/null || fail "synchronous_standby_names"
# sql QUERY: one value from the primary; sby_sql: from the standby.
sql() { psql -qAt -c "$1"; }
sby_sql() { PGHOST=$tmp/sby psql -qAt -c "$1"; }
for i in $(seq "$WAIT_MAX"); do
	[ "$(sql "select sync_state from pg_stat_replication where application_name = 'pgsse_g_sby'")" = sync ] && break
	[ "$i" = "$WAIT_MAX" ] && fail "the standby never became synchronous"
	sleep 0.1
done
say "primary and synchronous standby up ($(( $(now_ms) - t_start )) ms)"

# --- The web hosts. w1 reads fragments on the standby; w3's stream
# tries a local port first, where the delay proxy listens in its phase.
(umask 077 && head -c 32 /dev/urandom >"$tmp/secret")
web_start() {
	local w=$1 extra=()
	mkdir -p "$tmp/$w"
	stack_lighttpd_write "$tmp/$w" "${FRONT[$w]}" 8080 4096
	case $w in
	w1) extra=(PGSSE_APP_READ_CONNINFO="host=$SBY,$PRI port=5432 dbname=pgsse target_session_attrs=prefer-standby") ;;
	w3) extra=(PGSSE_STREAM_CONNINFO="host=127.0.0.1,$PRI,$SBY port=15432,5432,5432 dbname=pgsse target_session_attrs=read-write") ;;
	esac
	ns "$w" env -i PATH="$PATH" PGPASSFILE="$pgpass" PGSSE_CONNINFO="$DBCONN" \
		PGSSE_SECRET_FILE="$tmp/secret" "${extra[@]}" \
		/usr/sbin/lighttpd -D -f "$tmp/$w/lighttpd.conf" >"$tmp/$w/out.log" 2>&1 &
	pids+=($!)
}
# health W: the stream's health page on web host W.
health() { ns cli curl -s --max-time 5 "http://${FRONT[$1]}:8080/api/sse-health"; }
for w in w1 w2 w3; do web_start "$w"; done
for w in w1 w2 w3; do
	for i in $(seq "$WAIT_MAX"); do
		health "$w" | grep -q '"db":"up"' && break
		[ "$i" = "$WAIT_MAX" ] && fail "$w's stream never came up: $(cat "$tmp/$w/lighttpd-error.log")"
		sleep 0.1
	done
done
say "3 web hosts up ($(( $(now_ms) - t_start )) ms)"

# --- The clients. ---
ns cli "$build/tests/cluster/ssecheck" -c "$CONNS" -e "$TOTAL" -r 1 -t "$CHECK_MAX_S" \
	-u /api/sse/logs "${FRONT[w1]}:8080" "${FRONT[w2]}:8080" "${FRONT[w3]}:8080" \
	>"$tmp/check.out" 2>"$tmp/check.err" &
checker=$!
pids+=("$checker")
for i in $(seq "$WAIT_MAX"); do
	grep -q '^ready' "$tmp/check.out" && break
	[ "$i" = "$WAIT_MAX" ] && fail "the clients never connected: $(cat "$tmp/check.err")"
	sleep 0.1
done
say "$CONNS clients connected over 3 web hosts"

# pub N [PAUSE]: publishes the next N events from w1, one transaction
# each, in batches of 5 with PAUSE seconds between them.
next=0
pub() {
	local n=$1 pause=${2:-0} i sql
	while [ "$n" -gt 0 ]; do
		sql=
		for ((i = 0; i < 5 && i < n; i++)); do
			sql+="select pgsse.publish('logs', 'log', '{\"seq\": $((next + i)), \"source\": \"cluster\", \"line\": \"check\"}');"$'\n'
		done
		ns w1 env PGPASSFILE="$pgpass" psql -qAt -v ON_ERROR_STOP=1 \
			"$DBCONN user=pgsse connect_timeout=5" <<<"$sql" >/dev/null ||
			fail "publishing seq $next"
		next=$((next + i)) n=$((n - i))
		[ "$n" -gt 0 ] && sleep "$pause"
	done
}
# pub_retry: publishes the next event, retrying while no primary takes it.
pub_retry() {
	local i
	for i in $(seq "$WAIT_MAX"); do
		ns w1 env PGPASSFILE="$pgpass" psql -qAt -v ON_ERROR_STOP=1 \
			"$DBCONN user=pgsse connect_timeout=2" \
			-c "select pgsse.publish('logs', 'log', '{\"seq\": $next, \"source\": \"cluster\", \"line\": \"check\"}')" >/dev/null 2>&1 &&
			{ next=$((next + 1)); return 0; }
		sleep 0.1
	done
	fail "no primary took seq $next"
}
# wait_all: prints the time (ms) at which every client had every event
# published so far; fails after WAIT_MAX tenths of a second.
wait_all() {
	local i t
	for i in $(seq "$WAIT_MAX"); do
		t=$(awk -v s=$((next - 1)) '$1 == "all" && $2 >= s { print $3; exit }' "$tmp/check.out")
		[ -n "$t" ] && { echo "$t"; return 0; }
		kill -0 "$checker" 2>/dev/null || break
		sleep 0.1
	done
	fail "the clients did not all get seq $((next - 1)): $(tail -3 "$tmp/check.out") $(tail -5 "$tmp/check.err")"
}
# wait_resets: prints the time (ms) at which every client had had its
# stream_reset; fails after WAIT_MAX tenths of a second.
wait_resets() {
	local i t
	for i in $(seq "$WAIT_MAX"); do
		t=$(awk '$1 == "resets" && $2 >= 1 { print $3; exit }' "$tmp/check.out")
		[ -n "$t" ] && { echo "$t"; return 0; }
		kill -0 "$checker" 2>/dev/null || break
		sleep 0.1
	done
	fail "the clients did not all get stream_reset: $(tail -3 "$tmp/check.out") $(tail -5 "$tmp/check.err")"
}
# wait_sql HOST_DIR QUERY WHAT: waits until QUERY is t on the server
# whose socket is in HOST_DIR; fails after WAIT_MAX tenths of a second.
wait_sql() {
	local i
	for i in $(seq "$WAIT_MAX"); do
		[ "$(PGHOST=$1 psql -qAt -c "$2" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	fail "$3"
}
# stream_head W SECONDS [ID]: what w's stream answers in SECONDS,
# resuming from ID if given.
stream_head() {
	local h=(-H 'Accept: text/event-stream')
	[ -n "${3:-}" ] && h+=(-H "Last-Event-ID: $3")
	ns cli curl -s -N --max-time "$2" "${h[@]}" "http://${FRONT[$1]}:8080/api/sse/logs"
	return 0
}
# resume_all ID WHAT: resumes from ID on every web host at once; fails,
# saying WHAT, unless each served the stream (an id line) within 3 s.
resume_all() {
	local w rp=()
	for w in w1 w2 w3; do
		stream_head "$w" 3 "$1" >"$tmp/head.$w" &
		rp+=($!)
	done
	wait "${rp[@]}"
	for w in w1 w2 w3; do
		grep -q '^id:' "$tmp/head.$w" ||
			fail "$w $2: $(tr '\r\n' '  ' <"$tmp/head.$w"); $(tail -4 "$tmp/$w/out.log")"
	done
}
declare -A REC
report() { REC[$1]=$2; say "$1: $2"; }

# --- steady ---
t0=$(now_ms); pub "$N_STEADY"; t=$(wait_all) || exit 1
report steady "$N_STEADY events to $CONNS clients in $((t - t0)) ms"

# --- reads and writes ---
# get W PATH: the status of a GET of PATH on W.
get() { ns cli curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://${FRONT[$1]}:8080$2"; }
# action W N: POSTs the install of the Nth demo on W as htmx does; prints
# the status. (A demo's install already queued is answered, not queued.)
action() {
	local base=http://${FRONT[$1]}:8080 tok id
	ns cli curl -s -o /dev/null --max-time 20 -c "$tmp/cookies" "$base/status/content"
	tok=$(awk '$6 == "pgsse_csrf" { print $7 }' "$tmp/cookies")
	id=$(sby_sql "select id from pgsse_demo.demos order by id offset $2 limit 1")
	ns cli curl -s -o "$tmp/action.out" -w '%{http_code}' --max-time 20 -X POST \
		-H 'HX-Request: true' -H "Origin: $base" -H "X-CSRF-Token: $tok" \
		-b "pgsse_csrf=$tok" -d '' "$base/demos/$id/install"
}
jobs_on() { PGHOST=$tmp/$1 psql -qAt -c "select count(*) from pgsse.jobs"; }
before=$(jobs_on pri)
[ "$(action w1 0)" = 200 ] || fail "an action on w1 was refused: $(cat "$tmp/action.out")"
[ "$(jobs_on pri)" = $((before + 1)) ] || fail "w1's action did not reach the primary"
[ "$(get w1 /logs/tail)" = 200 ] || fail "GET on w1"
[ "$(get w2 /logs/tail)" = 200 ] || fail "GET on w2"
report reads "w1's action (POST) wrote on the primary; GET fragments answer on w1 and w2"

# --- link down: w2's back link, 10 s ---
t0=$(now_ms)
ip -n "$P-w2" link set "$P-b" down
pub "$N_LINK" 2
rem=$((10000 - ($(now_ms) - t0)))
[ "$rem" -gt 0 ] && sleep "$((rem / 1000)).$(printf '%03d' $((rem % 1000)))"
t_up=$(now_ms)
ip -n "$P-w2" link set "$P-b" up
t=$(wait_all) || exit 1
report link_down "down $((t_up - t0)) ms; every client had all events $((t - t_up)) ms after the link came back"

# --- half-open: w2's back link drops everything both ways, no RST ---
connects=$(health w2 | sed -n 's/.*"db_connects":\([0-9]*\).*/\1/p')
ns w2 nft -f - <<NFT || fail "nft"
table inet pgsse_g_half {
	chain in { type filter hook input priority 0; iifname "$P-b" drop; }
	chain out { type filter hook output priority 0; oifname "$P-b" drop; }
}
NFT
t0=$(now_ms)
pub "$N_HALF"
bound=$((dead_ms + 5000))
for i in $(seq $((bound / 100))); do
	health w2 | grep -q '"db":"down"' && break
	sleep 0.1
done
t_dead=$(now_ms)
health w2 | grep -q '"db":"down"' ||
	fail "w2's LISTEN connection not noticed dead within $bound ms (PGSSE_DB_DEAD_MS $dead_ms + 5000)"
ns w2 nft delete table inet pgsse_g_half
t_heal=$(now_ms)
t=$(wait_all) || exit 1
[ "$(health w2 | sed -n 's/.*"db_connects":\([0-9]*\).*/\1/p')" -gt "$connects" ] || fail "w2 never reconnected"
report half_open "dead connection noticed after $((t_dead - t0)) ms (bound $bound); every client had all events $((t - t_heal)) ms after the drop was lifted"

# --- loss: LOSS_PCT % of w3's back packets dropped each way ---
ns w3 nft -f - <<NFT || fail "nft"
table inet pgsse_g_loss {
	chain in { type filter hook input priority 0; iifname "$P-b" numgen random mod 100 < $LOSS_PCT drop; }
	chain out { type filter hook output priority 0; oifname "$P-b" numgen random mod 100 < $LOSS_PCT drop; }
}
NFT
t0=$(now_ms)
pub "$N_LOSS" 1
t_pub=$(now_ms)
t=$(wait_all) || exit 1
ns w3 nft delete table inet pgsse_g_loss
report loss "$LOSS_PCT % loss for $((t_pub - t0)) ms of publishing; every client had all events $((t - t_pub)) ms after the last was published"

# --- latency: w3's stream through the delay proxy ---
# Not through ns, a function: $! must be the proxy itself, not a subshell
# whose end would leave the proxy running.
ip netns exec "$P-w3" "$build/tests/cluster/delayproxy" -l 15432 -d "$DELAY_MS" "$PRI:5432" "$SBY:5432" \
	>"$tmp/proxy.out" 2>&1 &
proxy=$!
pids+=("$proxy")
sleep 0.3
t0=$(now_ms)
sql "select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = 'pgsse_stream' and client_addr = '${BACK[w3]}'" >/dev/null
for i in $(seq "$WAIT_MAX"); do
	grep -q '^accepted' "$tmp/proxy.out" && health w3 | grep -q '"db":"up"' && break
	[ "$i" = "$WAIT_MAX" ] && fail "w3's stream never came through the proxy"
	sleep 0.1
done
t_via=$(now_ms)
pub "$N_DELAY"
t=$(wait_all) || exit 1
report latency "w3's stream through +$DELAY_MS ms each way $((t_via - t0)) ms after its connection was cut; all events to every client $((t - t_via)) ms after"
kill "$proxy"; wait "$proxy" 2>/dev/null
ns w3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/15432' 2>/dev/null && fail "the delay proxy still listens"
t0=$(now_ms)
pub "$N_DIRECT"
t=$(wait_all) || exit 1
report latency_end "proxy gone: w3 direct again, all events $((t - t0)) ms after publishing began"

# --- failover: the primary stopped, the standby promoted ---
t0=$(now_ms)
as_pg "$PG_BINDIR/pg_ctl" -D "$tmp/pri/data" -m immediate -w stop >/dev/null || fail "stopping the primary"
t_stop=$(now_ms)
[ "$(get w1 /logs/tail)" = 200 ] || fail "w1 did not serve a GET fragment from the standby"
st=$(get w2 /logs/tail)
[ "$st" != 200 ] || fail "w2 has no read connection, yet served a GET without a primary"
st_post=$(action w1 2)
[ "$st_post" != 200 ] || fail "w1 answered an action without a primary"
t_reads=$(now_ms)
ns sby runuser -u pgsse -- "$PG_BINDIR/pg_ctl" -D "$tmp/sby/data" -w promote >/dev/null || fail "promote"
t_prom=$(now_ms)
pub_retry
t=$(wait_all) || exit 1
report failover "stop $((t_stop - t0)) ms, reads checked $((t_reads - t_stop)) ms (GET: w1 200, w2 $st; POST on w1 $st_post), promoted $((t_prom - t_reads)) ms; every client had the next event $((t - t0)) ms after the stop began"
pub $((N_FAILOVER - 1))
t=$(wait_all) || exit 1
before=$(jobs_on sby)
[ "$(action w1 1)" = 200 ] || fail "an action on w1 after failover"
[ "$(jobs_on sby)" = $((before + 1)) ] || fail "w1's action did not reach the new primary"
[ "$(get w2 /logs/tail)" = 200 ] || fail "w2's GET after failover"

# --- async: the old primary comes back as an asynchronous standby of
# the new one (sby), its link is cut, and what sby commits then is lost
# when sby stops and the old primary is promoted. ---
t0=$(now_ms)
rm -rf "$tmp/pri/data"
ns pri runuser -u pgsse -- env PGPASSFILE="$tmp/sby/pgpass" "$PG_BINDIR/pg_basebackup" \
	-h "$SBY" -p 5432 -U pgsse -D "$tmp/pri/data" -X stream -c fast || fail "pg_basebackup of the new primary"
as_pg touch "$tmp/pri/data/standby.signal"
cat >>"$tmp/pri/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,$PRI'
unix_socket_directories = '$tmp/pri'
primary_conninfo = 'host=$SBY port=5432 user=pgsse passfile=$tmp/sby/pgpass application_name=pgsse_g_pri'
CONF
ns pri "$cluster" start "$tmp/pri" || fail "the rebuilt standby's start"
[ "$(sby_sql "show synchronous_standby_names")" = "" ] || fail "the new primary's replication is synchronous"
wait_sql "$tmp/sby" "select state = 'streaming' and sync_state = 'async' from pg_stat_replication where application_name = 'pgsse_g_pri'" \
	"the rebuilt standby never streamed asynchronously"
lsn=$(sby_sql "select pg_current_wal_lsn()")
wait_sql "$tmp/pri" "select pg_last_wal_replay_lsn() >= '$lsn'" "the rebuilt standby never caught up"
t_sby=$(now_ms)
# A resume on each web host leaves a pooled connection to sby there.
id0=$(stream_head w1 1 | sed -n 's/^id: *//p' | tr -d '\r' | head -1)
[ -n "$id0" ] || fail "no id from w1's stream"
resume_all "$id0" "did not serve a resume"
ns pri nft -f - <<NFT || fail "nft"
table inet pgsse_g_async {
	chain in { type filter hook input priority 0; ip saddr $SBY tcp sport 5432 drop; }
	chain out { type filter hook output priority 0; ip daddr $SBY tcp dport 5432 drop; }
}
NFT
lost_from=$next
pub "$N_LOST"
t=$(wait_all) || exit 1
t_kill=$(now_ms)
as_pg "$PG_BINDIR/pg_ctl" -D "$tmp/sby/data" -m immediate -w stop >/dev/null || fail "stopping the primary"
ns pri nft delete table inet pgsse_g_async
ns pri runuser -u pgsse -- "$PG_BINDIR/pg_ctl" -D "$tmp/pri/data" -w promote >/dev/null || fail "promote"
t_prom=$(now_ms)
# has FROM TO: how many of seq FROM to TO-1 the new primary's log has.
has() { sql "select count(*) from pgsse.log where channel = 'logs' and (payload ->> 'seq')::int >= $1 and (payload ->> 'seq')::int < $2"; }
[ "$(has "$lost_from" "$next")" = 0 ] || fail "the new primary has events published after its link was cut: nothing was lost"
[ "$(has $((lost_from - 1)) "$lost_from")" = 1 ] || fail "the new primary lacks the last event before its link was cut"
t_reset=$(wait_resets) || exit 1
pub "$N_ASYNC"
t=$(wait_all) || exit 1
# The replays' pools still hold their connections to the dead primary.
resume_all "$id0" "turned the first resume after the failover away"
[ "$(has "$((lost_from + N_LOST))" "$next")" = "$N_ASYNC" ] || fail "the new primary lacks events published on it"
[ "$(get w2 /logs/tail)" = 200 ] || fail "w2's GET after the asynchronous failover"
report async "standby rebuilt in $((t_sby - t0)) ms; $N_LOST events lost by the cut; stop and promote $((t_prom - t_kill)) ms; every client had stream_reset $((t_reset - t_kill)) ms after the stop began, and the $N_ASYNC events published then $((t - t_kill)) ms after it; the first resume on each web host served"

# --- the clients' verdict ---
for i in $(seq "$WAIT_MAX"); do
	kill -0 "$checker" 2>/dev/null || break
	sleep 0.1
done
wait "$checker"; rc=$?
result=$(grep '^result' "$tmp/check.out")
say "$result"
[ "$next" = "$TOTAL" ] || fail "published $next events, meant $TOTAL"
[ "$rc" = 0 ] || fail "clients lost, repeated or reordered events: $(head -20 "$tmp/check.err")"
lost=$(echo "$result" | sed -n 's/.*gaps=\([0-9]*\).*/\1/p')
printf '\n| phase | measured |\n| --- | --- |\n'
for k in steady reads link_down half_open loss latency latency_end failover async; do
	printf '| %s | %s |\n' "$k" "${REC[$k]}"
done
say "events lost: $lost (and $N_LOST by asynchronous replication, told by stream_reset), $TOTAL events to $CONNS clients, wall time $(( ($(now_ms) - t_start) / 1000 )) s"
