#!/bin/bash
# make bench: pgsse behind lighttpd (the shipped config) against
# nginx+nchan, and against PostgreSQL's own limits, in one run on
# loopback. Every headline figure is a ratio of two things measured here,
# now. Writes docs/BENCHMARKS.md and docs/benchmarks.svg.
# BENCH_ONLY=w1, w5 or w7 runs just that workload and prints its figures,
# for profiling; BENCH_SECONDS sets the length of each run (10).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PGSSE_BUILDDIR:-$src}
out=${BENCH_OUT:-$src/docs}
secs=${BENCH_SECONDS:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-bench.XXXXXX")
chmod 755 "$tmp"
load=$build/tests/bench/sseload
pub=$build/tests/bench/ssepub
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	"$src/bin/pgsse-cluster" stop "$tmp/pg" immediate >/dev/null 2>&1 || true
	sleep 0.5
	rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { local p=$((20000 + RANDOM % 20000)); while ss -Hltn "sport = :$p" | grep -q .; do p=$((p + 1)); done; echo $p; }

# PostgreSQL.
"$src/bin/pgsse-cluster" init "$tmp/pg" >/dev/null
"$src/bin/pgsse-cluster" start "$tmp/pg"
eval "$("$src/bin/pgsse-cluster" env "$tmp/pg")"
psql -q -v ON_ERROR_STOP=1 -f "$src/sql/pgsse.sql" -f "$src/sql/roles.sql" \
	-f "$src/demo/schema.sql"
"$build/bin/pgsse-registry" load "$src/demo/registry.json" >/dev/null
pgpid=$(head -1 "$tmp/pg/data/postmaster.pid")

# pgsse behind lighttpd, with the shipped config; room for 10,000 streams.
lport=$(free_port)
mkdir -p "$tmp/web"
(umask 077 && head -c 32 /dev/urandom >"$tmp/web/secret")
export PGSSE_SECRET_FILE=$tmp/web/secret
cat >"$tmp/web/lighttpd.conf" <<CONF
var.pgsse_bind = "127.0.0.1"
var.pgsse_port = $lport
var.pgsse_www = "$src/www"
var.pgsse_cgibin = "$build/cgi-bin"
var.pgsse_app = "$src/demo"
var.pgsse_run = "$tmp/web"
include "$src/etc/lighttpd/pgsse.conf"
server.max-fds = 20000
server.max-connections = 30000
CONF
PGSSE_MAX_CLIENTS=30000 /usr/sbin/lighttpd -D -f "$tmp/web/lighttpd.conf" &
lpid=$!; pids+=($lpid)

# nginx with nchan, set up the same way: one worker, EventSource on loopback.
nport=$(free_port)
mkdir -p "$tmp/nginx/tmp"
cat >"$tmp/nginx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
daemon off;
worker_processes 1;
worker_rlimit_nofile 65000;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 30000; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/tmp;
  server {
    listen 127.0.0.1:$nport;
    location = /pub { nchan_publisher; nchan_channel_id bench; nchan_message_buffer_length 1000; }
    location = /sub { nchan_subscriber eventsource; nchan_channel_id bench; nchan_subscriber_first_message newest; }
  }
}
CONF
/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
npid=$!; pids+=($npid)
for i in $(seq 100); do
	curl -fs -m 2 -o /dev/null "http://127.0.0.1:$lport/api/sse-health" && break
	sleep 0.1
done
spid=$(curl -fs -m 5 "http://127.0.0.1:$lport/api/sse-health" | sed 's/.*"pid":\([0-9]*\).*/\1/')
sleep 0.5

# The processes of each system, and their CPU time (ticks) and RSS (KiB).
procs_pgsse() { echo $lpid $spid $pgpid $(pgrep -P $pgpid); }
procs_nchan() { echo $npid $(pgrep -P $npid); }
cpu() { local t=0; for p in "$@"; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo "0 0"); t=$((t + $1 + $2)); done; echo $t; }
rss() { local t=0 v; for p in "$@"; do v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0); t=$((t + ${v:-0})); done; echo $t; }
hz=$(getconf CLK_TCK)
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tail -1; }

# run_fanout SYSTEM CLIENTS RATE SECONDS ->
#   "delivered expected p50 p99 max cpu_s gaps dups published_per_s"
run_fanout() {
	local sys=$1 n=$2 rate=$3 s=$4 port path count c0 c1 res got
	if [ "$sys" = pgsse ]; then port=$lport; path=/api/sse/logs; else port=$nport; path=/sub; fi
	count=$((rate * s))
	# The clients stop once each has the last event (or 30 s after the
	# window); CPU is counted until then, so lagging work counts too.
	coproc LOAD { "$load" -p "$port" -u "$path" -c "$n" -d $((s + 30)) -e "$count"; }
	loadpid=$LOAD_PID
	exec {lfd}<&"${LOAD[0]}"	# keep it: bash unsets LOAD when it ends
	read -r ready <&"$lfd"
	sleep 1
	c0=$(cpu $(procs_$sys))
	if [ "$sys" = pgsse ]; then got=$("$pub" pgsse "$rate" "$count")
	else got=$("$pub" nchan "$rate" "$count" "$nport" /pub); fi
	read -r res <&"$lfd"
	c1=$(cpu $(procs_$sys))
	exec {lfd}<&-
	wait "$loadpid" 2>/dev/null || true
	echo "$(kv "$res" delivered) $((n * count)) $(kv "$res" p50_us) $(kv "$res" p99_us) $(kv "$res" max_us) $(awk -v a=$c0 -v b=$c1 -v h=$hz 'BEGIN{printf "%.2f", (b-a)/h}') $(kv "$res" gaps) $(kv "$res" dups) $(kv "$got" rate)"
}

# run_idle SYSTEM CLIENTS -> "kib_per_stream connect_ms open"
run_idle() {
	local sys=$1 n=$2 port path m0 m1 res
	if [ "$sys" = pgsse ]; then port=$lport; path=/api/sse/logs; else port=$nport; path=/sub; fi
	m0=$(rss $(procs_$sys))
	coproc IDLE { "$load" -p "$port" -u "$path" -c "$n" -d 6; }
	loadpid=$IDLE_PID
	exec {ifd}<&"${IDLE[0]}"
	read -r ready <&"$ifd"
	sleep 3
	m1=$(rss $(procs_$sys))
	read -r res <&"$ifd"
	exec {ifd}<&-
	wait "$loadpid" 2>/dev/null || true
	echo "$(awk -v a=$m0 -v b=$m1 -v n=$n 'BEGIN{printf "%.1f", (b-a)/n}') $(kv "$res" connect_ms) $(( $(kv "$res" connected) - $(kv "$res" closed) ))"
	sleep 2
}

# 10,000 streams need about 20,000 descriptors in lighttpd (client and
# backend side); this machine's hard limit is 20,000, so the top point
# is the largest that fits under it.
hard=$(ulimit -Hn)
big=10000
[ "$hard" != unlimited ] && [ "$hard" -lt 21000 ] && big=$(( (hard - 1500) / 2 / 1000 * 1000 ))

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
per1k() { awk -v c="$1" -v d="$2" 'BEGIN{ if (d == 0) print "n/a"; else printf "%.4f", c * 1000 / d }'; }
ms() { awk -v u="$1" 'BEGIN{printf "%.1f", u / 1000}'; }

wrkrps() { wrk -t2 -c32 -d"${secs}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {print int($2)}'; }

# grid_serve PROGRAM: PROGRAM as pgsse-app behind a lighttpd of its own
# with the shipped config, serving the demo folder; sets grid_port.
grid_serve() {
	local prog=$1 dir port
	dir=$(mktemp -d "$tmp/grid.XXXXXX")
	port=$(free_port)
	mkdir -p "$dir/cgi-bin"
	ln -s "$prog" "$dir/cgi-bin/pgsse-app"
	ln -s "$build/cgi-bin/pgsse-stream" "$dir/cgi-bin/pgsse-stream"
	cat >"$dir/lighttpd.conf" <<CONF
var.pgsse_bind = "127.0.0.1"
var.pgsse_port = $port
var.pgsse_www = "$src/www"
var.pgsse_app = "$src/demo"
var.pgsse_cgibin = "$dir/cgi-bin"
var.pgsse_run = "$dir"
include "$src/etc/lighttpd/pgsse.conf"
CONF
	/usr/sbin/lighttpd -D -f "$dir/lighttpd.conf" </dev/null &
	pids+=("$!")
	for _ in $(seq 100); do
		curl -fs -m 2 -o /dev/null "http://127.0.0.1:$port/demos/grid" && break
		sleep 0.1
	done
	grid_port=$port
}

# W5's declared /demos/grid (the demo folder's, served by the generic
# cgi-bin/pgsse-app) against the same fragment in C (tests/bench/gridc),
# each behind its own lighttpd; the two bodies must be the same bytes.
run_w5_decl() {
	local cport dport
	grid_serve "$build/tests/bench/gridc"
	cport=$grid_port
	grid_serve "$build/cgi-bin/pgsse-app"
	dport=$grid_port
	curl -fsS "http://127.0.0.1:$cport/demos/grid" >"$tmp/grid-c.html"
	curl -fsS "http://127.0.0.1:$dport/demos/grid" >"$tmp/grid-decl.html"
	if ! grep -q '<article class="demo"' "$tmp/grid-c.html" ||
	    ! cmp -s "$tmp/grid-c.html" "$tmp/grid-decl.html"; then
		echo "W5: the declared /demos/grid is not the C one's bytes:" >&2
		diff "$tmp/grid-c.html" "$tmp/grid-decl.html" >&2 || true
		exit 1
	fi
	# Warm both (every worker's connection made, its statement prepared),
	# then run each for two halves, C, declared, declared, C, so that a
	# load on the machine that rises or falls weighs on both alike.
	secs=1 wrkrps "http://127.0.0.1:$cport/demos/grid" >/dev/null
	secs=1 wrkrps "http://127.0.0.1:$dport/demos/grid" >/dev/null
	local half=$(((secs + 1) / 2)) c1 c2 d1 d2
	c1=$(secs=$half wrkrps "http://127.0.0.1:$cport/demos/grid")
	d1=$(secs=$half wrkrps "http://127.0.0.1:$dport/demos/grid")
	d2=$(secs=$half wrkrps "http://127.0.0.1:$dport/demos/grid")
	c2=$(secs=$half wrkrps "http://127.0.0.1:$cport/demos/grid")
	gc_rps=$(((c1 + c2) / 2))
	gd_rps=$(((d1 + d2) / 2))
}

run_w5() {
	echo "W5 fragments" >&2
	run_w5_decl
	st_rps=$(wrkrps "http://127.0.0.1:$lport/status/content")
	gr_rps=$(wrkrps "http://127.0.0.1:$lport/demos/grid")
	curl -s "http://127.0.0.1:$lport/demos/grid" >"$src/www/.bench-static.html"
	static_rps=$(wrkrps "http://127.0.0.1:$lport/.bench-static.html")
	rm -f "$src/www/.bench-static.html"
	cat >"$tmp/grid.sql" <<'SQL'
select id, name, description, installed from pgsse_demo.demos order by name;
SQL
	pgb_rps=$(/usr/lib/postgresql/15/bin/pgbench -n -M prepared -c 32 -j 2 -T "$secs" -f "$tmp/grid.sql" 2>/dev/null | awk '/^tps/ {print int($3)}')
}
# W7: events to one user among many users, each with personal streams
# open, behind lighttpd's basic authentication (a plain user file, on
# every path), each point on a new lighttpd and pgsse-stream. For N = 10, 100 and 1,000
# users (u0001.., password pw), every user opens one stream of the
# personal channel notices and every odd one a second (so u0001, the
# target, has two); then w7_events go to u0001 alone at w7_rate a
# second. Latency runs from just before publish() to arrival; CPU is
# the stream process's alone (perf's task-clock where perf can attach,
# else /proc's ticks), over the publishing time and a second more. Its heartbeat is 60 s, so that no heartbeat (a cost per
# stream, not per event) falls in a window. Sets w7[N] to
# "streams p50_us p99_us cpu_us_per_event delivered expected receivers
# refused".
w7_events=200
w7_rate=50
declare -A w7

# w7_cpu PID SECONDS: prints the milliseconds of CPU that PID uses in
# the next SECONDS (perf's task-clock, to the microsecond, where perf
# can attach; else /proc's ticks).
w7_cpu() {
	local t0
	if perf stat -e task-clock -x, -o /dev/null true 2>/dev/null; then
		perf stat -e task-clock -x, -o "$tmp/w7/perf" -p "$1" -- \
		    sleep "$2" 2>/dev/null || true
		awk -F, '/task-clock/ {print $1 + 0}' "$tmp/w7/perf"
	else
		t0=$(cpu "$1")
		sleep "$2"
		awk -v a="$t0" -v b="$(cpu "$1")" -v h="$hz" \
		    'BEGIN{printf "%.1f", (b - a) * 1000 / h}'
	fi
}

# w7_clients PORT: the clients the stream process holds now.
w7_clients() {
	curl -fs -m 2 -u u0001:pw "http://127.0.0.1:$1/api/sse-health" |
	    sed -n 's/.*"clients":\([0-9]*\).*/\1/p'
}

# w7_serve: starts a lighttpd of W7's own, with a new pgsse-stream
# behind it (PGSSE_MAX_CLIENTS raised, as for the main one); sets
# w7_port, w7_lpid (lighttpd) and w7_spid (pgsse-stream).
w7_serve() {
	w7_port=$(free_port)
	cat >"$tmp/w7/lighttpd.conf" <<CONF
var.pgsse_bind = "127.0.0.1"
var.pgsse_port = $w7_port
var.pgsse_www = "$src/www"
var.pgsse_cgibin = "$build/cgi-bin"
var.pgsse_app = "$src/demo"
var.pgsse_run = "$tmp/w7"
include "$src/etc/lighttpd/pgsse.conf"
server.max-fds = 8192
server.max-connections = 4000
auth.backend = "plain"
auth.backend.plain.userfile = "$tmp/w7/users"
\$HTTP["url"] =~ "^/" {
  auth.require = ( "" => ( "method" => "basic", "realm" => "pgsse", "require" => "valid-user" ) )
}
CONF
	PGSSE_MAX_CLIENTS=30000 PGSSE_HEARTBEAT=60 \
	    /usr/sbin/lighttpd -D -f "$tmp/w7/lighttpd.conf" </dev/null &
	w7_lpid=$!
	pids+=("$w7_lpid")
	for _ in $(seq 100); do
		[ -n "$(w7_clients "$w7_port")" ] && break
		sleep 0.1
	done
	w7_spid=$(curl -fs -m 5 -u u0001:pw "http://127.0.0.1:$w7_port/api/sse-health" |
	    sed 's/.*"pid":\([0-9]*\).*/\1/')
	pids+=("$w7_spid")
}

# w7_unserve: stops that lighttpd and its pgsse-stream, and waits (5 s
# at most) until both are gone.
w7_unserve() {
	kill "$w7_lpid" 2>/dev/null || true
	wait "$w7_lpid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$w7_spid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$w7_spid" 2>/dev/null || true
}

# w7_point N KEY: one N, on a lighttpd and pgsse-stream of its own (an
# idle stream's hang-up reaches lighttpd only when it next writes to it,
# so streams of an earlier N would linger); sets w7[KEY].
w7_point() {
	local n=$1 key=$2 i streams res ms want fd loadpid cpupid
	for ((i = 1; i <= n; i++)); do
		printf 'u%04d:pw\n' "$i"
		if [ $((i % 2)) = 1 ]; then printf 'u%04d:pw\n' "$i"; fi
	done >"$tmp/w7/conns"
	streams=$(wc -l <"$tmp/w7/conns")
	want=$((2 * w7_events))
	w7_serve
	# It stops once the target's streams have every event (or 60 s
	# after all are open), and holds its streams 1 s more.
	coproc W7LOAD { "$load" -p "$w7_port" -u /api/sse/notices \
	    -c "$streams" -a "$tmp/w7/conns" -d 60 -E "$want" -H 1; }
	loadpid=$W7LOAD_PID
	exec {fd}<&"${W7LOAD[0]}"
	read -r -t 90 _ <&"$fd" || true
	sleep 1
	# CPU over the publishing time and a second more.
	w7_cpu "$w7_spid" $((w7_events / w7_rate + 1)) >"$tmp/w7/cpu" &
	cpupid=$!
	"$pub" user "$w7_rate" "$w7_events" u0001 >/dev/null
	read -r -t 90 res <&"$fd" || res=
	wait "$cpupid" || true
	ms=$(cat "$tmp/w7/cpu")
	exec {fd}<&-
	wait "$loadpid" 2>/dev/null || true
	w7_unserve
	w7[$key]="$streams $(kv "$res" p50_us) $(kv "$res" p99_us) $(awk -v m="$ms" -v e="$w7_events" 'BEGIN{printf "%.0f", m * 1000 / e}') $(kv "$res" delivered) $want $(kv "$res" receivers) $(( $(kv "$res" refused) + $(kv "$res" closed) )) $(kv "$res" connect_ms)"
}

run_w7() {
	local i n
	echo "W7 one user among many: 10, 100, 1000 users" >&2
	mkdir -p "$tmp/w7"
	# The earlier workloads' events go: W7 starts on an empty log.
	psql -q -c "truncate pgsse.log"
	# The demo's channels and a personal one, notices.
	psql -q -v ON_ERROR_STOP=1 -v reg="$(cat "$src/demo/registry.json")" >/dev/null <<'SQL'
select pgsse.load_registry(jsonb_set(:'reg'::jsonb, '{channels}',
    (:'reg'::jsonb -> 'channels') || jsonb_build_array(jsonb_build_object(
	'name', 'notices', 'personal', true,
	'description', 'Messages for one user (the W7 benchmark).',
	'events', jsonb_build_array(jsonb_build_object('name', 'notice',
	    'description', 'A message for the user',
	    'fields', jsonb_build_object('text', 'string')))))));
SQL
	for ((i = 1; i <= 1000; i++)); do printf 'u%04d:pw\n' "$i"; done >"$tmp/w7/users"
	for n in 10 100 1000; do
		w7_point "$n" "$n"
	done
	# Once more at 1,000 users, with the log holding 100,000 events of
	# another channel (one busy channel at the default retention_count).
	psql -q -c "insert into pgsse.log (id, channel, event, payload)
	    select nextval('pgsse.log_id_seq'), 'logs', 'log',
	    '{\"source\": \"w7\", \"line\": \"x\"}' from generate_series(1, 100000)" \
	    -c "analyze pgsse.log"
	w7_point 1000 1000L
}
if [ "${BENCH_ONLY:-}" = w7 ]; then	# quick loop while profiling: W7 only
	run_w7
	for n in 10 100 1000 1000L; do
		read -r s p50 p99 cpe d e r x cms <<<"${w7[$n]}"
		echo "users $n streams $s p50 $p50 p99 $p99 us cpu $cpe us/event delivered $d/$e receivers $r refused $x connect $cms ms"
	done
	exit 0
fi

if [ "${BENCH_ONLY:-}" = w5 ]; then	# quick loop while profiling: W5 only
	run_w5
	echo "status $st_rps grid $gr_rps static $static_rps pgbench $pgb_rps req/s"
	echo "grid declared $gd_rps C $gc_rps req/s ratio $(ratio "$gd_rps" "$gc_rps")"
	exit 0
fi
echo "W1 fan-out: 1000 clients, 400 events/s, ${secs}s" >&2
read -r pd pe pp50 pp99 pmax pcpu pg pdup _ <<<"$(run_fanout pgsse 1000 400 "$secs")"
read -r nd ne np50 np99 nmax ncpu ng ndup _ <<<"$(run_fanout nchan 1000 400 "$secs")"
if [ "${BENCH_ONLY:-}" = w1 ]; then	# quick loop while profiling: W1 only
	echo "pgsse: delivered $pd/$pe p50 $pp50 p99 $pp99 us cpu $pcpu s gaps $pg dups $pdup"
	echo "nchan: delivered $nd/$ne p50 $np50 p99 $np99 us cpu $ncpu s gaps $ng dups $ndup"
	exit 0
fi
echo "W2 latency: 1000 clients, 10 events/s" >&2
read -r p2d p2e p2p50 p2p99 p2max _ _ _ _ <<<"$(run_fanout pgsse 1000 10 "$secs")"
read -r n2d n2e n2p50 n2p99 n2max _ _ _ _ <<<"$(run_fanout nchan 1000 10 "$secs")"
echo "W3 capacity: idle streams" >&2
declare -A mem conn open
for n in 100 1000 $big; do
	read -r mem[p$n] conn[p$n] open[p$n] <<<"$(run_idle pgsse $n)"
	read -r mem[n$n] conn[n$n] open[n$n] <<<"$(run_idle nchan $n)"
done
echo "W1 scale" >&2
declare -A sc
for n in 100 $big; do
	read -r d e _ p99 _ c _ _ _ <<<"$(run_fanout pgsse $n 100 5)"
	sc[p$n]="$(per1k "$c" "$d") $(ms "$p99") $d/$e"
	read -r d e _ p99 _ c _ _ _ <<<"$(run_fanout nchan $n 100 5)"
	sc[n$n]="$(per1k "$c" "$d") $(ms "$p99") $d/$e"
done
echo "W4 ceiling: 200 clients, rising rate" >&2
# The rate climbs until delivery lags (p99 over 1 s or under 99%
# delivered), or until the publisher itself cannot keep the rate (one
# connection: publish() for pgsse, one POST per event for nchan), which
# is then the bound. Prints "deliveries_per_s bound".
ceil() {
	local sys=$1 best=0 bound=lag rate d e p99 got
	for rate in 1000 2000 4000 8000 16000; do
		read -r d e _ p99 _ _ _ _ got <<<"$(run_fanout "$sys" 200 "$rate" 5)"
		if [ "$p99" -gt 1000000 ] || [ "$d" -lt $((e * 99 / 100)) ]; then break; fi
		best=$((${got%.*} * 200))
		if [ "${got%.*}" -lt $((rate * 95 / 100)) ]; then bound=publisher; break; fi
		bound=top
	done
	echo "$best $bound"
}
read -r pceil pbound <<<"$(ceil pgsse)"; read -r nceil nbound <<<"$(ceil nchan)"

run_w5

echo "W6 publish" >&2
w6=$(W6_SECONDS=$secs PGSSE_SRCDIR=$src "$src/tests/bench/w6-publish.sh")
w6p1=$(echo "$w6" | awk '/clients=1 / {print $4}' | sed 's/publish=//;s/\/s//')
w6n1=$(echo "$w6" | awk '/clients=1 / {print $3}' | sed 's/pg_notify=//;s/\/s//')
w6p8=$(echo "$w6" | awk '/clients=8 / {print $4}' | sed 's/publish=//;s/\/s//')
w6n8=$(echo "$w6" | awk '/clients=8 / {print $3}' | sed 's/pg_notify=//;s/\/s//')

run_w7
read -r _ w7p10 _ w7c10 _ _ _ _ _ <<<"${w7[10]}"
read -r _ w7p1k _ w7c1k w7d w7e w7r w7x _ <<<"${w7[1000]}"
r7a=$(ratio "$w7p1k" "$w7p10"); r7b=$(ratio "$w7c1k" "$w7c10")
read -r _ w7p1kl _ _ _ _ _ _ _ <<<"${w7[1000L]}"
r7c=$(ratio "$w7p1kl" "$w7p1k")
w7ok=met w7rows=
for n in 10 100 1000 1000L; do
	read -r st p50 p99 c d e r x cms <<<"${w7[$n]}"
	[ "$d" = "$e" ] && [ "$r" = 2 ] && [ "$x" = 0 ] || w7ok="not met"
	w7rows+="| $n | $st | $cms | $(ms "$p50") | $(ms "$p99") | $c | $d / $e | $r | $x |"$'\n'
done
w7rows=${w7rows%$'\n'}

goal() { awk -v r="$1" -v g="$2" -v dir="$3" 'BEGIN{ if (r == "n/a") print "?"; else if ((dir == "le" && r <= g) || (dir == "ge" && r >= g)) print "met"; else print "not met" }'; }
r1=$(ratio "$(per1k "$pcpu" "$pd")" "$(per1k "$ncpu" "$nd")")
r2=$(ratio "$p2p99" "$n2p99")
r3=$(ratio "${mem[p$big]}" "${mem[n$big]}")
r4=$(ratio "$pceil" "$nceil")
r5a=$(ratio "$gr_rps" "$pgb_rps"); r5b=$(ratio "$gr_rps" "$static_rps")
r5c=$(ratio "$gd_rps" "$gc_rps")
r6=$(ratio "$w6p1" "$w6n1")

{
cat <<HEAD
# Benchmarks

Made by \`make bench\` (\`tests/bench/run.sh\`) on $(date -u +%Y-%m-%d), on
$(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),
$(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r). Everything runs on loopback
on this one machine: the load client (\`tests/bench/sseload.c\`, epoll),
the publisher (\`tests/bench/ssepub.c\`), PostgreSQL 15, pgsse-stream
behind lighttpd $(/usr/sbin/lighttpd -v 2>&1 | sed -n 's/lighttpd\/\([0-9.]*\).*/\1/p') with the shipped config, and nginx $(nginx -v 2>&1 | sed 's/.*\///') with
nchan (one worker, EventSource). The machine is shared and noisy: read
the ratios, which compare figures taken minutes apart in the same run.
Server CPU is all server processes: lighttpd, pgsse-stream and
PostgreSQL for pgsse; nginx for nchan.

## Goals

| workload | pgsse | nchan (or baseline) | ratio | goal | |
| --- | --- | --- | --- | --- | --- |
| W1 fan-out, CPU s per 1000 deliveries | $(per1k "$pcpu" "$pd") | $(per1k "$ncpu" "$nd") | $r1 | ≤ 1.0 | $(goal "$r1" 1.0 le) |
| W1 delivered / expected | $pd / $pe (gaps $pg, dups $pdup) | $nd / $ne (gaps $ng, dups $ndup) | | no loss | $([ "$pd" = "$pe" ] && echo met || echo "not met") |
| W2 latency p99 (ms) | $(ms "$p2p99") | $(ms "$n2p99") | $r2 | ≤ 1.0 | $(goal "$r2" 1.0 le) |
| W3 memory per idle stream at $big (KiB) | ${mem[p$big]} | ${mem[n$big]} | $r3 | ≤ 1.0 | $(goal "$r3" 1.0 le) |
| W4 ceiling, deliveries/s (200 clients) | $pceil ($pbound) | $nceil ($nbound) | $r4 | ≥ 1.0 | $(goal "$r4" 1.0 ge) |
| W5 /demos/grid req/s vs pgbench same SQL | $gr_rps | $pgb_rps | $r5a | ≥ 0.7 | $(goal "$r5a" 0.7 ge) |
| W5 /demos/grid req/s vs static file | $gr_rps | $static_rps | $r5b | ≥ 0.5 | $(goal "$r5b" 0.5 ge) |
| W5 declared /demos/grid vs the same fragment in C (req/s) | $gd_rps | $gc_rps | $r5c | ≥ 0.9 | $(goal "$r5c" 0.9 ge) |
| W6 publish() vs pg_notify, 1 connection (events/s) | $w6p1 | $w6n1 | $r6 | ≥ 0.5 | $(goal "$r6" 0.5 ge) |
| W6 publish() vs pg_notify, 8 connections (events/s) | $w6p8 | $w6n8 | $(ratio "$w6p8" "$w6n8") | ≥ 0.5 | $(goal "$(ratio "$w6p8" "$w6n8")" 0.5 ge) |
| W7 delivery to one user, p50 (ms): 1,000 users vs 10 | $(ms "$w7p1k") | $(ms "$w7p10") | $r7a | ≤ 1.5 | $(goal "$r7a" 1.5 le) |
| W7 stream CPU per event to one user (µs): 1,000 users vs 10 | $w7c1k | $w7c10 | $r7b | ≤ 1.5 | $(goal "$r7b" 1.5 le) |
| W7 delivery to one user at 1,000 users, p50 (ms): log of 100,000 other events vs empty | $(ms "$w7p1kl") | $(ms "$w7p1k") | $r7c | ≤ 1.5 | $(goal "$r7c" 1.5 le) |
| W7 delivered / expected at 1,000 users, to that user's streams only | $w7d / $w7e (streams with events $w7r, refused or cut $w7x) | | | no loss, no other user's stream | $w7ok |

## Details

- W1: 1000 clients, 400 events/s for ${secs} s. Latency p50/p99: pgsse
  $(ms "$pp50")/$(ms "$pp99") ms, nchan $(ms "$np50")/$(ms "$np99") ms.
  CPU: pgsse ${pcpu} s, nchan ${ncpu} s.
- W2: 1000 clients, 10 events/s. p50/p99/max: pgsse $(ms "$p2p50")/$(ms "$p2p99")/$(ms "$p2max") ms,
  nchan $(ms "$n2p50")/$(ms "$n2p99")/$(ms "$n2max") ms.
- W4: the rate climbs 1,000, 2,000, 4,000, 8,000, 16,000 events/s (5 s
  each) until delivery lags (lag), the publisher cannot keep the rate
  (publisher: the figure is then what the clients sustained at the
  rate it reached), or the last step passes (top).
- W5: /status/content $st_rps req/s; wrk -t2 -c32; pgbench -c 32 -M prepared.
  The declared /demos/grid is the demo folder's (\`demo/app.json\`, SQL
  and a Mustache template) served by the generic \`pgsse-app\`;
  the C one is \`tests/bench/gridc.c\`, the same fragment on the public
  API. Each is behind its own lighttpd with the shipped config, and
  both answer the same bytes; each runs twice for half the time, in the
  order C, declared, declared, C.
- W7: for each point a new lighttpd of its own, with basic
  authentication on every path (a plain user file of 1,000 users), in
  front of a new pgsse-stream, and a personal channel, \`notices\`.
  For each number of users, every user opens one stream of it and
  every other user a second (the streams below), each with its own
  \`Authorization\` header; then $w7_events events go to one user (u0001,
  two streams) at $w7_rate a second with
  \`pgsse.publish('notices', 'notice', payload, 'u0001')\`. Latency
  runs from just before \`publish()\` (so it includes its commit) to
  arrival; CPU is pgsse-stream's alone, per event, over the publishing
  time and a second more. Its heartbeat is set to 60 s, so
  that none (a cost per stream, not per event; see W3) falls inside the
  window. W7 starts on an empty log (the earlier workloads' events
  are truncated); 1000L is 1,000 users again once the log also holds
  100,000 events of \`logs\` (one busy channel at the default
  \`retention_count\`). That time goes to PostgreSQL, not to the
  stream's CPU: the stream's read of the log (\`lib/feed.c\`) is
  planned as a walk of every row above its cursor in id order, the
  other channels' too.

| W7 users | streams | all open in (ms) | p50 ms | p99 ms | stream CPU µs per event | delivered / expected | streams with events | refused or cut |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
$w7rows

## Scale

| clients | pgsse KiB/stream | nchan KiB/stream | pgsse connect ms | nchan connect ms | pgsse open | nchan open |
| --- | --- | --- | --- | --- | --- | --- |
| 100 | ${mem[p100]} | ${mem[n100]} | ${conn[p100]} | ${conn[n100]} | ${open[p100]} | ${open[n100]} |
| 1000 | ${mem[p1000]} | ${mem[n1000]} | ${conn[p1000]} | ${conn[n1000]} | ${open[p1000]} | ${open[n1000]} |
| $big | ${mem[p$big]} | ${mem[n$big]} | ${conn[p$big]} | ${conn[n$big]} | ${open[p$big]} | ${open[n$big]} |

| W1 at 100 events/s | pgsse CPU s/1000, p99 ms, delivered | nchan CPU s/1000, p99 ms, delivered |
| --- | --- | --- |
| 100 clients | ${sc[p100]} | ${sc[n100]} |
| 1000 clients | $(per1k "$pcpu" "$pd") (at 400/s) | $(per1k "$ncpu" "$nd") (at 400/s) |
| $big clients | ${sc[p$big]} | ${sc[n$big]} |

![Memory per idle stream against clients](benchmarks.svg)
HEAD
} >"$out/BENCHMARKS.md"

# The chart: KiB per idle stream against clients, both systems.
awk -v p1="${mem[p100]}" -v p2="${mem[p1000]}" -v p3="${mem[p$big]}" \
    -v n1="${mem[n100]}" -v n2="${mem[n1000]}" -v n3="${mem[n$big]}" -v big="$big" 'BEGIN {
	max = p1; split(p1" "p2" "p3" "n1" "n2" "n3, v, " ");
	for (i in v) if (v[i] + 0 > max) max = v[i] + 0;
	if (max <= 0) max = 1;
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"300\" font-family=\"sans-serif\" font-size=\"12\">\n";
	printf "<rect width=\"480\" height=\"300\" fill=\"white\"/>\n";
	printf "<text x=\"240\" y=\"20\" text-anchor=\"middle\">KiB of server memory per idle stream</text>\n";
	printf "<line x1=\"60\" y1=\"260\" x2=\"460\" y2=\"260\" stroke=\"black\"/><line x1=\"60\" y1=\"40\" x2=\"60\" y2=\"260\" stroke=\"black\"/>\n";
	split("100 1000 " big, lab, " ");
	for (i = 1; i <= 3; i++) printf "<text x=\"%d\" y=\"278\" text-anchor=\"middle\">%s clients</text>\n", 60 + (i - 0.5) * 133, lab[i];
	printf "<text x=\"55\" y=\"45\" text-anchor=\"end\">%.0f</text><text x=\"55\" y=\"260\" text-anchor=\"end\">0</text>\n", max;
	split(p1" "p2" "p3, P, " "); split(n1" "n2" "n3, N, " ");
	for (i = 1; i <= 3; i++) {
		x = 60 + (i - 1) * 133 + 30;
		h = P[i] / max * 210; if (h < 0) h = 0;
		printf "<rect x=\"%d\" y=\"%.0f\" width=\"32\" height=\"%.0f\" fill=\"#2457c5\"/>\n", x, 260 - h, h;
		h = N[i] / max * 210; if (h < 0) h = 0;
		printf "<rect x=\"%d\" y=\"%.0f\" width=\"32\" height=\"%.0f\" fill=\"#b3261e\"/>\n", x + 36, 260 - h, h;
	}
	printf "<rect x=\"330\" y=\"35\" width=\"10\" height=\"10\" fill=\"#2457c5\"/><text x=\"345\" y=\"44\">pgsse + lighttpd</text>\n";
	printf "<rect x=\"330\" y=\"52\" width=\"10\" height=\"10\" fill=\"#b3261e\"/><text x=\"345\" y=\"61\">nginx + nchan</text>\n";
	printf "</svg>\n";
}' >"$out/benchmarks.svg"
cat "$out/BENCHMARKS.md"
