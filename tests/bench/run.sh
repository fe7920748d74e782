#!/bin/bash
# make bench: pgsse behind lighttpd (the shipped config) against
# nginx+nchan, and against PostgreSQL's own limits, in one run on
# loopback. Every headline figure is a ratio of two things measured here,
# now. Writes docs/BENCHMARKS.md and docs/benchmarks.svg.
#
# BENCH_ONLY=NAME runs one workload alone and prints its figures (for
# profiling); it writes no document. The names: w1 (fan-out CPU and
# latency at 10, 100 and 400 events/s, W2 included), w3 (idle memory),
# scale, w4, w5, w6, w7, storm (9,000 streams open at once on a new
# server, then 9,000 more right after they left; the heartbeat's CPU
# too), resume (9,000 resuming after a crash), memory
# (memory returned after 5,000 streams close) and heartbeat (CPU of
# 9,000 idle streams). BENCH_SECONDS sets the length of each run (10);
# BENCH_RUNS the runs of each W1 point, whose median is reported (3).
# A full run takes about 19 minutes on 2 cores.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PGSSE_BUILDDIR:-$src}
out=${BENCH_OUT:-$src/docs}
secs=${BENCH_SECONDS:-10}
runs=${BENCH_RUNS:-3}
only=${BENCH_ONLY:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-bench.XXXXXX")
chmod 755 "$tmp"
load=$build/tests/bench/sseload
pub=$build/tests/bench/ssepub
hz=$(getconf CLK_TCK)
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The storms' size, and the window of the heartbeat's CPU (at least one
# heartbeat of the default 15 s).
storm=9000
hb_secs=$((secs * 3 < 16 ? 16 : secs * 3))

# Descriptors: 9,000 streams that linger while 9,000 new ones arrive
# take about 36,000 in lighttpd (client and backend side each). Raise
# the hard limit where allowed (root with CAP_SYS_RESOURCE); else the
# bench runs under the one it has, and the document says so.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
# lighttpd's own limit: the bench sets it (:= replaces a sample's).
maxfds=$((hard < 40000 ? hard : 40000))

pids=()
# cleanup: stops every server this script started, and the cluster.
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	"$src/bin/pgsse-cluster" stop "$tmp/pg" immediate >/dev/null 2>&1 || true
	sleep 0.5
	rm -rf "$tmp"
}
trap cleanup EXIT

# free_port: prints a TCP port no socket uses, below the kernel's
# ephemeral range (32768 up): the storms' thousands of client sockets
# take ports there, and a listener cannot bind one a client holds.
free_port() {
	local p=$((20000 + RANDOM % 12000))
	while ss -Htan "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# wait_gone PID: waits (5 s at most) until PID has exited, then kills it.
wait_gone() {
	local i
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
}

# health PORT: prints pgsse-stream's health answer on PORT, or nothing.
health() { curl -fs -m 5 "http://127.0.0.1:$1/api/sse-health" || true; }

# health_field PORT KEY: prints KEY's number in the health answer.
health_field() { health "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }

# pg_start: a private cluster with the schema, roles and the demo; sets
# the PG* environment and pgpid (the postmaster).
pg_start() {
	"$src/bin/pgsse-cluster" init "$tmp/pg" >/dev/null
	"$src/bin/pgsse-cluster" start "$tmp/pg"
	eval "$("$src/bin/pgsse-cluster" env "$tmp/pg")"
	psql -q -v ON_ERROR_STOP=1 -f "$src/sql/pgsse.sql" -f "$src/sql/roles.sql" \
		-f "$src/demo/schema.sql"
	"$build/bin/pgsse-registry" load "$src/demo/registry.json" >/dev/null
	pgpid=$(head -1 "$tmp/pg/data/postmaster.pid")
	mkdir -p "$tmp/web"
	(umask 077 && head -c 32 /dev/urandom >"$tmp/web/secret")
	export PGSSE_SECRET_FILE=$tmp/web/secret
}

# lighttpd_start: pgsse behind lighttpd with the shipped config (room
# for 30,000 streams, descriptors as above), on lport (chosen once);
# waits until it answers; sets lpid and spid (its pgsse-stream).
lighttpd_start() {
	lport=${lport:-$(free_port)}
	cat >"$tmp/web/lighttpd.conf" <<CONF
var.pgsse_bind = "127.0.0.1"
var.pgsse_port = $lport
var.pgsse_www = "$src/www"
var.pgsse_cgibin = "$build/cgi-bin"
var.pgsse_app = "$src/demo"
var.pgsse_run = "$tmp/web"
include "$src/etc/lighttpd/pgsse.conf"
server.max-fds := $maxfds
server.max-connections := $((maxfds * 3 / 4))
CONF
	PGSSE_MAX_CLIENTS=30000 /usr/sbin/lighttpd -D -f "$tmp/web/lighttpd.conf" </dev/null &
	lpid=$!
	pids+=("$lpid")
	for _ in $(seq 100); do
		[ -n "$(health_field "$lport" pid)" ] && break
		sleep 0.1
	done
	spid=$(health_field "$lport" pid)
	[ -n "$spid" ] || { echo "bench: lighttpd did not start" >&2; exit 1; }
}

# lighttpd_stop: stops lighttpd and its pgsse-stream.
lighttpd_stop() {
	kill "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	wait_gone "$spid"
}

# nchan_start: nginx with nchan, one worker, EventSource on loopback, on
# nport (chosen once); sets npid.
nchan_start() {
	nport=${nport:-$(free_port)}
	mkdir -p "$tmp/nginx/tmp"
	cat >"$tmp/nginx/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
daemon off;
worker_processes 1;
worker_rlimit_nofile $hard;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections $((hard - 1000)); }
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
	/usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" </dev/null &
	npid=$!
	pids+=("$npid")
	for _ in $(seq 100); do
		curl -s -m 1 -o /dev/null "http://127.0.0.1:$nport/" && break
		sleep 0.05
	done
}

# nchan_stop: stops nginx (fast shutdown: its streams are cut), and
# waits until its worker too has gone.
nchan_stop() {
	local w p
	w=$(pgrep -P "$npid" | tr '\n' ' ')
	kill "$npid" 2>/dev/null || true
	wait "$npid" 2>/dev/null || true
	for p in $w; do wait_gone "$p"; done
}

# pgnx_start: pgsse-stream as a FastCGI server of its own behind nginx,
# one worker like nchan's (each stream two of its connections: the
# client's and pgsse-stream's), with the shipped server block
# (etc/nginx/pgsse-nginx.conf.in) for its port and paths; waits until it
# answers; sets xport, xpid (nginx) and xspid (pgsse-stream).
pgnx_start() {
	xport=${xport:-$(free_port)}
	mkdir -p "$tmp/pgnx/tmp"
	PGUSER=pgsse_stream PGSSE_MAX_CLIENTS=30000 "$build/cgi-bin/pgsse-stream" \
	    --socket "$tmp/pgnx/pgsse-stream.sock" </dev/null >"$tmp/pgnx/stream.log" 2>&1 &
	xspid=$!
	pids+=("$xspid")
	sed -e "s|listen [^;]*;|listen 127.0.0.1:$xport;|" \
	    -e "s|@rundir@|$tmp/pgnx|g" -e "s|@pgssewww@|$src/www|g" \
	    "$src/etc/nginx/pgsse-nginx.conf.in" >"$tmp/pgnx/server.conf"
	cat >"$tmp/pgnx/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
worker_rlimit_nofile $hard;
pid $tmp/pgnx/nginx.pid;
error_log $tmp/pgnx/error.log warn;
events { worker_connections $((hard - 500)); }
http {
  access_log off;
  client_body_temp_path $tmp/pgnx/tmp;
  include $tmp/pgnx/server.conf;
}
CONF
	for _ in $(seq 100); do
		[ -S "$tmp/pgnx/pgsse-stream.sock" ] && break
		sleep 0.1
	done
	/usr/sbin/nginx -p "$tmp/pgnx" -c "$tmp/pgnx/nginx.conf" </dev/null &
	xpid=$!
	pids+=("$xpid")
	for _ in $(seq 100); do
		[ -n "$(health_field "$xport" pid)" ] && return
		sleep 0.1
	done
	echo "bench: pgsse-stream behind nginx did not start" >&2
	exit 1
}

# pgnx_stop: stops that nginx and its pgsse-stream.
pgnx_stop() {
	kill "$xpid" "$xspid" 2>/dev/null || true
	wait "$xpid" 2>/dev/null || true
	wait_gone "$xspid"
}

# The processes of each system, as pids: the web server's (web_SYS)
# and pgsse's own, the stream program and PostgreSQL (own_SYS). Systems:
# pgsse (behind lighttpd), pgnx (pgsse behind nginx), nchan.
web_pgsse() { echo "$lpid"; }
own_pgsse() { echo "$spid $pgpid $(pgrep -P "$pgpid" | tr '\n' ' ')"; }
web_pgnx() { echo "$xpid $(pgrep -P "$xpid" | tr '\n' ' ')"; }
own_pgnx() { echo "$xspid $pgpid $(pgrep -P "$pgpid" | tr '\n' ' ')"; }
web_nchan() { echo "$npid $(pgrep -P "$npid" | tr '\n' ' ')"; }
own_nchan() { :; }

# cpu PID...: their CPU time so far, in ticks (user and system).
cpu() {
	local t=0 p u s
	for p in "$@"; do
		read -r u s < <(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo "0 0")
		t=$((t + u + s))
	done
	echo "$t"
}

# rss PID...: their resident memory, in KiB.
rss() {
	local t=0 p v
	for p in "$@"; do
		v=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# kv LINE KEY: KEY's value in a line of key=value pairs.
kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tail -1; }
# ratio A B: A / B to two places, or n/a.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0 || a == "" || b == "") print "n/a"; else printf "%.2f", a / b }'; }
# per1k CPU_S DELIVERIES: CPU seconds per 1,000 deliveries.
per1k() { awk -v c="$1" -v d="$2" 'BEGIN{ if (d == 0) print "n/a"; else printf "%.4f", c * 1000 / d }'; }
# us_per CPU_S DELIVERIES: CPU microseconds per delivery.
us_per() { awk -v c="$1" -v d="$2" 'BEGIN{ if (d == 0) print "n/a"; else printf "%.2f", c * 1000000 / d }'; }
# ms US: microseconds as milliseconds.
ms() { awk -v u="$1" 'BEGIN{printf "%.1f", u / 1000}'; }
# secs_of TICKS: ticks as seconds.
secs_of() { awk -v t="$1" -v h="$hz" 'BEGIN{printf "%.2f", t / h}'; }
# median N...: the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
	    END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# goal A B LIMIT le|ge: met, not met, or ? (no figure), for A / B
# itself: not the ratio to two places that the table shows, which
# rounds 1.004 down to a "1.00" that would pass "≤ 1.0".
goal() { awk -v a="$1" -v b="$2" -v g="$3" -v dir="$4" 'BEGIN{ if (a == "" || b == "" || a == "n/a" || b == "n/a" || b == 0) print "?"; else if ((dir == "le" && a / b <= g) || (dir == "ge" && a / b >= g)) print "met"; else print "not met" }'; }

# port_of SYS / path_of SYS: where its streams are.
port_of() { case $1 in pgsse) echo "$lport" ;; pgnx) echo "$xport" ;; *) echo "$nport" ;; esac; }
path_of() { if [ "$1" = nchan ]; then echo /sub; else echo /api/sse/logs; fi; }

# publish SYS RATE COUNT: publishes to SYS; prints ssepub's line.
publish() {
	if [ "$1" = nchan ]; then "$pub" nchan "$2" "$3" "$nport" /pub
	else "$pub" pgsse "$2" "$3"; fi
}

# run_fanout SYSTEM CLIENTS RATE SECONDS ->
#   "delivered expected p50 p99 max cpu_s gaps dups published_per_s
#    web_cpu_s own_cpu_s"
# CPU is counted from a second after all streams are open until every
# client has the last event (or 30 s after the window), so lagging work
# counts too; cpu_s is the web server's and pgsse's own together.
run_fanout() {
	local sys=$1 n=$2 rate=$3 s=$4 count w0 w1 o0 o1 res got lfd loadpid
	count=$((rate * s))
	coproc LOAD { "$load" -p "$(port_of "$sys")" -u "$(path_of "$sys")" \
	    -c "$n" -d $((s + 30)) -e "$count"; }
	loadpid=$LOAD_PID
	exec {lfd}<&"${LOAD[0]}"	# keep it: bash unsets LOAD when it ends
	read -r _ <&"$lfd"
	sleep 1
	# shellcheck disable=SC2046 # the pid lists split on purpose
	{ w0=$(cpu $(web_"$sys")); o0=$(cpu $(own_"$sys")); }
	got=$(publish "$sys" "$rate" "$count")
	read -r res <&"$lfd"
	# shellcheck disable=SC2046
	{ w1=$(cpu $(web_"$sys")); o1=$(cpu $(own_"$sys")); }
	exec {lfd}<&-
	wait "$loadpid" 2>/dev/null || true
	echo "$(kv "$res" delivered) $((n * count)) $(kv "$res" p50_us) $(kv "$res" p99_us) $(kv "$res" max_us) $(secs_of $((w1 - w0 + o1 - o0))) $(kv "$res" gaps) $(kv "$res" dups) $(kv "$got" rate) $(secs_of $((w1 - w0))) $(secs_of $((o1 - o0)))"
}

# W1 and W2: 1,000 clients at 10, 100 and 400 events/s (10 is W2), on
# pgsse behind lighttpd, on nchan, and on pgsse behind nginx; each point
# BENCH_RUNS times, the runs of the three rates, and of pgsse behind
# lighttpd and nchan, interleaved so that a load on the machine weighs
# on all alike. pgsse behind nginx runs with
# lighttpd's pgsse-stream stopped (a second stream program would also
# read every event, on PostgreSQL's side). Sets w1[SYS,RATE,KEY] to the
# median of own, web and total µs per delivery, p50 and p99 (µs), and
# the sums delivered, expected, gaps and dups.
w1_rates="10 100 400"
declare -A w1
run_w1() {
	local r rate sys s d e p50 p99 tot g dup web own k
	declare -A acc=()
	echo "W1/W2 fan-out: 1000 clients, $w1_rates events/s, ${secs}s, $runs runs" >&2
	for sys in "pgsse nchan" pgnx; do
		if [ "$sys" = pgnx ]; then lighttpd_stop; pgnx_start; fi
		for ((r = 1; r <= runs; r++)); do
			for rate in $w1_rates; do
				for s in $sys; do
					w1_point "$s" "$rate"
				done
			done
		done
		if [ "$sys" = pgnx ]; then pgnx_stop; lighttpd_start; fi
	done
	for k in "${!acc[@]}"; do
		# shellcheck disable=SC2086 # the runs' figures, one word each
		w1[$k]=$(median ${acc[$k]})
	done
}

# w1_point SYS RATE: one run of W1 on SYS at RATE, added to run_w1's acc
# and w1's sums.
w1_point() {
	local k=$1,$2
	read -r d e p50 p99 _ tot g dup _ web own <<<"$(run_fanout "$1" 1000 "$2" "$secs")"
	acc[$k,own]+=" $(us_per "$own" "$d")"
	acc[$k,web]+=" $(us_per "$web" "$d")"
	acc[$k,tot]+=" $(us_per "$tot" "$d")"
	acc[$k,p50]+=" $p50"
	acc[$k,p99]+=" $p99"
	w1[$k,d]=$((${w1[$k,d]:-0} + d))
	w1[$k,e]=$((${w1[$k,e]:-0} + e))
	w1[$k,gaps]=$((${w1[$k,gaps]:-0} + g))
	w1[$k,dups]=$((${w1[$k,dups]:-0} + dup))
}

# print_w1: W1's figures, one line a system and rate.
print_w1() {
	local sys rate k
	for rate in $w1_rates; do
		for sys in pgsse pgnx nchan; do
			k=$sys,$rate
			echo "$sys $rate/s: own ${w1[$k,own]} web ${w1[$k,web]} total ${w1[$k,tot]} us/delivery p50 $(ms "${w1[$k,p50]}") p99 $(ms "${w1[$k,p99]}") ms delivered ${w1[$k,d]}/${w1[$k,e]} gaps ${w1[$k,gaps]} dups ${w1[$k,dups]}"
		done
	done
}

# run_idle SYSTEM CLIENTS -> "kib_per_stream connect_ms open"
# (W3: all of the system's processes, web server included).
run_idle() {
	local sys=$1 n=$2 m0 m1 res ifd loadpid
	# shellcheck disable=SC2046
	m0=$(rss $(web_"$sys") $(own_"$sys"))
	coproc IDLE { "$load" -p "$(port_of "$sys")" -u "$(path_of "$sys")" -c "$n" -d 6 -W 60; }
	loadpid=$IDLE_PID
	exec {ifd}<&"${IDLE[0]}"
	read -r _ <&"$ifd"
	sleep 3
	# shellcheck disable=SC2046
	m1=$(rss $(web_"$sys") $(own_"$sys"))
	read -r res <&"$ifd"
	exec {ifd}<&-
	wait "$loadpid" 2>/dev/null || true
	echo "$(awk -v a="$m0" -v b="$m1" -v n="$n" 'BEGIN{printf "%.1f", (b-a)/n}') $(kv "$res" connect_ms) $(( $(kv "$res" connected) - $(kv "$res" closed) ))"
	sleep 2
}

# W3: memory per idle stream at 100, 1,000 and 9,000 streams, each on a
# new lighttpd and pgsse-stream (streams of an earlier point would
# linger until the next heartbeat); sets mem, conn and open[SYS N].
declare -A mem conn open
run_w3() {
	local n
	echo "W3 capacity: idle streams" >&2
	for n in 100 1000 $storm; do
		lighttpd_stop; lighttpd_start
		read -r "mem[p$n]" "conn[p$n]" "open[p$n]" <<<"$(run_idle pgsse "$n")"
		nchan_stop; nchan_start
		read -r "mem[n$n]" "conn[n$n]" "open[n$n]" <<<"$(run_idle nchan "$n")"
	done
}

# print_w3: W3's figures.
print_w3() {
	local n
	for n in 100 1000 $storm; do
		echo "$n streams: KiB/stream pgsse ${mem[p$n]} nchan ${mem[n$n]}; open in ms pgsse ${conn[p$n]} nchan ${conn[n$n]}; open pgsse ${open[p$n]} nchan ${open[n$n]}"
	done
}

# W1 scale: 100 and 9,000 clients at 100 events/s, 5 s; sets
# sc[SYS N] to "cpu_s_per_1000 p99_ms delivered/expected".
declare -A sc
run_scale() {
	local n d e p99 c
	echo "W1 scale" >&2
	for n in 100 $storm; do
		lighttpd_stop; lighttpd_start
		read -r d e _ p99 _ c _ <<<"$(run_fanout pgsse "$n" 100 5)"
		sc[p$n]="$(per1k "$c" "$d") $(ms "$p99") $d/$e"
		read -r d e _ p99 _ c _ <<<"$(run_fanout nchan "$n" 100 5)"
		sc[n$n]="$(per1k "$c" "$d") $(ms "$p99") $d/$e"
	done
}

# print_scale: the scale figures.
print_scale() {
	local n
	for n in 100 $storm; do echo "$n clients at 100/s: pgsse ${sc[p$n]} nchan ${sc[n$n]}"; done
}

# ceil SYS: W4's ceiling for 200 clients: the rate climbs until delivery
# lags (p99 over 1 s or under 99% delivered), or until the publisher
# itself cannot keep the rate (one connection: publish() for pgsse, one
# POST per event for nchan), which is then the bound. Prints
# "deliveries_per_s bound".
ceil() {
	local sys=$1 best=0 bound=lag rate d e p99 got
	for rate in 1000 2000 4000 8000 16000; do
		read -r d e _ p99 _ _ _ _ got _ <<<"$(run_fanout "$sys" 200 "$rate" 5)"
		if [ "$p99" -gt 1000000 ] || [ "$d" -lt $((e * 99 / 100)) ]; then break; fi
		best=$((${got%.*} * 200))
		if [ "${got%.*}" -lt $((rate * 95 / 100)) ]; then bound=publisher; break; fi
		bound=top
	done
	echo "$best $bound"
}

# run_w4: sets pceil/pbound and nceil/nbound.
run_w4() {
	echo "W4 ceiling: 200 clients, rising rate" >&2
	read -r pceil pbound <<<"$(ceil pgsse)"
	read -r nceil nbound <<<"$(ceil nchan)"
}

# print_w4: W4's figures.
print_w4() { echo "ceiling deliveries/s: pgsse $pceil ($pbound) nchan $nceil ($nbound) ratio $(ratio "$pceil" "$nceil")"; }
# wrkrps URL: requests/s of wrk on URL (2 threads, 32 connections).
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

# W5: the declared /demos/grid against the same fragment in C (above);
# then, where tests/bench/w5.sh exists, its run of pgsse-app against
# PHP-FPM, a static file and pgbench (sets w5line, its key=value line);
# else /demos/grid against a static file and pgbench here.
run_w5() {
	echo "W5 fragments" >&2
	run_w5_decl
	w5line=
	if [ -x "$src/tests/bench/w5.sh" ]; then
		w5line=$(PGSSE_SRCDIR=$src PGSSE_BUILDDIR=$build BENCH_SECONDS=$secs \
		    W5_SECONDS=$secs "$src/tests/bench/w5.sh" | grep 'w5_pgsse=' | tail -1)
		return
	fi
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

# w5_rows: W5's rows of the goals table.
w5_rows() {
	local p php st pgb same bound r
	r=$(ratio "$gd_rps" "$gc_rps")
	echo "| W5 declared /demos/grid vs the same fragment in C (req/s) | $gd_rps | $gc_rps | $r | ≥ 0.9 | $(goal "$gd_rps" "$gc_rps" 0.9 ge) |"
	if [ -n "$w5line" ]; then
		p=$(kv "$w5line" w5_pgsse); php=$(kv "$w5line" w5_php)
		st=$(kv "$w5line" w5_static); pgb=$(kv "$w5line" w5_pgbench)
		same=$(kv "$w5line" w5_same_bytes)
		bound=$(awk -v s="$st" -v b="$pgb" 'BEGIN{ if (s > 0 && b > 0) printf "%.0f", 1 / (1 / s + 1 / b); else print 0 }')
		r=$(ratio "$p" "$php")
		echo "| W5 fragments req/s, pgsse-app vs PHP-FPM (same SQL, same lighttpd; same bytes: $([ "$same" = 1 ] && echo yes || echo NO)) | $p | $php | $r | ≥ 3 | $(goal "$p" "$php" 3 ge) |"
		r=$(ratio "$p" "$bound")
		echo "| W5 fragments req/s vs the composed bound 1/(1/static + 1/pgbench) = 1/(1/$st + 1/$pgb) | $p | $bound | $r | ≥ 0.7 | $(goal "$p" "$bound" 0.7 ge) |"
		p=$(kv "$w5line" w5_pgsse_t1)
		r=$(ratio "$p" "$php")
		echo "| W5 the same, pgsse-app with one worker thread per process (bigger batches), vs PHP-FPM | $p | $php | $r | (≥ 3) | $(goal "$p" "$php" 3 ge) |"
		p=$(kv "$w5line" w5_pgsse_cookie)
		r=$(ratio "$p" "$(kv "$w5line" w5_php_cookie)")
		echo "| W5 the same, each request with the session's CSRF cookie, as a browser's htmx request sends it (pgsse-app checks the token instead of issuing one) | $p | $(kv "$w5line" w5_php_cookie) | $r | (≥ 3) | $(goal "$p" "$(kv "$w5line" w5_php_cookie)" 3 ge) |"
		p=$(kv "$w5line" w5_nginx)
		r=$(kv "$w5line" w5_nginx_vs_bound)
		echo "| W5 pgsse-app behind nginx (the shipped server block, one worker, FastCGI connections kept) vs the composed bound with that nginx's static file = 1/(1/$(kv "$w5line" w5_nginx_static) + 1/$pgb) | $p | $(kv "$w5line" w5_nginx_bound) | $r | (≥ 0.7) | $(goal "$p" "$(kv "$w5line" w5_nginx_bound)" 0.7 ge) |"
		p=$(kv "$w5line" w5_nodb)
		r=$(ratio "$p" "$php")
		echo "| W5 ceiling: pgsse-app answering a path with no route (FastCGI through lighttpd, no database), vs PHP-FPM's fragment | $p | $php | $r | (none) | the most any fragment gets behind this lighttpd |"
		return
	fi
	r=$(ratio "$gr_rps" "$pgb_rps")
	echo "| W5 /demos/grid req/s vs pgbench same SQL | $gr_rps | $pgb_rps | $r | ≥ 0.7 | $(goal "$gr_rps" "$pgb_rps" 0.7 ge) |"
	r=$(ratio "$gr_rps" "$static_rps")
	echo "| W5 /demos/grid req/s vs static file | $gr_rps | $static_rps | $r | ≥ 0.5 | $(goal "$gr_rps" "$static_rps" 0.5 ge) |"
}

# print_w5: W5's rows, and w5.sh's line.
print_w5() { w5_rows; [ -z "$w5line" ] || echo "w5.sh: $w5line"; }

# W6: tests/bench/w6-publish.sh on a cluster of its own; sets w6out,
# its lines.
run_w6() {
	echo "W6 publish" >&2
	w6out=$(W6_SECONDS=$secs PGSSE_SRCDIR=$src PGSSE_BUILDDIR=$build "$src/tests/bench/w6-publish.sh")
}

# w6_rows: one goals row for each of w6-publish.sh's lines with a
# ratio (publish() against pg_notify, goal 0.5), and one without a
# ratio for each other line (the batch form's events/s).
w6_rows() {
	local line r label pub
	while read -r line; do
		[ -n "$line" ] || continue
		r=$(kv "$line" ratio)
		label=${line/ ratio=$r/}
		pub=$(kv "$line" publish)
		pub=${pub:-$(kv "$line" publish_batch)}
		if [ -n "$r" ]; then
			echo "| \`$label\` | | | $r | ≥ 0.5 | $(goal "${pub%/s}" "$(kv "$line" pg_notify | sed 's,/s$,,')" 0.5 ge) |"
		else
			echo "| \`$label\` | | | | | |"
		fi
	done <<<"$w6out"
}

# print_w6: w6-publish.sh's lines.
print_w6() { echo "$w6out"; }

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

# print_w7: W7's figures, one line a point.
print_w7() {
	local n s p50 p99 cpe d e r x cms
	for n in 10 100 1000 1000L; do
		read -r s p50 p99 cpe d e r x cms <<<"${w7[$n]}"
		echo "users $n streams $s p50 $p50 p99 $p99 us cpu $cpe us/event delivered $d/$e receivers $r refused $x connect $cms ms"
	done
}

# Storms of 9,000 streams. Sets st[SYS,KEY]: fresh_ms and fresh_n (all
# open on a new server, and how many were), left_ms and left_n (9,000
# new clients right after 9,000 others left), back_ms, back_n, lost,
# dups, delivered and expected (resuming after a crash); fresh_web,
# fresh_own and fresh_load: CPU µs a stream of the web server, of pgsse
# (the stream program and PostgreSQL) and of the load client while the
# fresh ones opened; and, for pgsse,
# hb_stream and hb_web: CPU ms a second of pgsse-stream and of lighttpd
# while the fresh 9,000 sit idle at the default heartbeat.
declare -A st

# per_stream TICKS: CPU ticks over the storm's streams, in µs each.
per_stream() { awk -v t="$1" -v h="$hz" -v n="$storm" 'BEGIN{printf "%.1f", t * 1000000 / h / n}'; }

# storm_open SYS HOLD: on a new server of SYS (pgsse behind lighttpd,
# pgnx: pgsse behind nginx, or nchan), 9,000 clients open streams at
# once and hold them HOLD s (the heartbeat's CPU measured meanwhile on
# pgsse), then leave.
storm_open() {
	local sys=$1 hold=$2 fd loadpid res s0 w0 s1 w1 ready cw0 co0 cw1 co1
	case $sys in
	pgsse) lighttpd_stop; lighttpd_start ;;
	pgnx) lighttpd_stop; [ -z "${xpid:-}" ] || pgnx_stop; pgnx_start ;;
	*) nchan_stop; nchan_start ;;
	esac
	# shellcheck disable=SC2046	# pids, one word each
	cw0=$(cpu $(web_"$sys")) co0=$(cpu $(own_"$sys"))
	coproc OPEN { "$load" -p "$(port_of "$sys")" -u "$(path_of "$sys")" -c "$storm" -d "$hold" -W 60; }
	loadpid=$OPEN_PID
	exec {fd}<&"${OPEN[0]}"
	read -r ready <&"$fd"
	# shellcheck disable=SC2046
	cw1=$(cpu $(web_"$sys")) co1=$(cpu $(own_"$sys"))
	st[$sys,fresh_web]=$(per_stream $((cw1 - cw0)))
	st[$sys,fresh_own]=$(per_stream $((co1 - co0)))
	st[$sys,fresh_load]=$(awk -v m="$(kv "$ready" cpu_ms)" -v n="$storm" 'BEGIN{printf "%.1f", m * 1000 / n}')
	if [ "$sys" = pgsse ] && [ "$hold" -gt 2 ]; then
		sleep 1
		s0=$(cpu "$spid"); w0=$(cpu "$lpid")
		sleep $((hold - 2))
		s1=$(cpu "$spid"); w1=$(cpu "$lpid")
		st[pgsse,hb_stream]=$(awk -v t=$((s1 - s0)) -v h="$hz" -v s=$((hold - 2)) 'BEGIN{printf "%.1f", t * 1000 / h / s}')
		st[pgsse,hb_web]=$(awk -v t=$((w1 - w0)) -v h="$hz" -v s=$((hold - 2)) 'BEGIN{printf "%.1f", t * 1000 / h / s}')
	fi
	read -r res <&"$fd"
	exec {fd}<&-
	wait "$loadpid" 2>/dev/null || true
	st[$sys,fresh_ms]=$(kv "$res" connect_ms)
	st[$sys,fresh_n]=$(kv "$res" subscribed)
}

# storm_arrive SYS: right after storm_open's clients left, 9,000 new
# ones arrive at once; they wait 60 s at most for all to be open.
storm_arrive() {
	local sys=$1 res
	res=$("$load" -p "$(port_of "$sys")" -u "$(path_of "$sys")" -c "$storm" -d 1 -W 60 | tail -1)
	st[$sys,left_ms]=$(kv "$res" connect_ms)
	st[$sys,left_n]=$(kv "$res" subscribed)
}

# storm_resume SYS KEY [FLAG]: on a new server, 9,000 clients that
# reconnect as EventSource does (after 0.5 to 1 s), with Last-Event-ID
# unless FLAG is -N. pgsse: events at 10 a second for 6 s, and
# pgsse-stream is killed (SIGKILL) as soon as every client has had one
# (an id to resume from); lighttpd starts a new one; every client
# must come back and have every event once. nchan: a few events, then
# nginx is restarted; aborts counts its workers that died meanwhile.
# back_ms runs from the first stream cut to the last one back. Sets
# st[KEY,...].
storm_resume() {
	local sys=$1 key=$2 fd loadpid res count=60 pubpid a0
	if [ "$sys" = pgsse ]; then
		lighttpd_stop; lighttpd_start
		coproc RES { "$load" -R -P -p "$lport" -u /api/sse/logs -c "$storm" -d 90 -W 60 -e "$count"; }
	else
		nchan_stop; nchan_start
		a0=$(grep -c 'exited on signal' "$tmp/nginx/error.log" || true)
		coproc RES { "$load" -B ${3:+"$3"} -p "$nport" -u /sub -c "$storm" -d 40 -W 60; }
	fi
	loadpid=$RES_PID
	exec {fd}<&"${RES[0]}"
	read -r _ <&"$fd"
	if [ "$sys" = pgsse ]; then
		publish pgsse 10 "$count" >/dev/null &
		pubpid=$!
		read -r -t 30 _ <&"$fd" || true	# primed: each has an id
		kill -KILL "$spid"
		wait "$pubpid" || true
	else
		publish nchan 10 5 >/dev/null
		nchan_stop; nchan_start
		count=5
	fi
	read -r res <&"$fd" || res=
	exec {fd}<&-
	wait "$loadpid" 2>/dev/null || true
	if [ "$sys" = pgsse ]; then spid=$(health_field "$lport" pid)
	else st[$key,aborts]=$(($(grep -c 'exited on signal' "$tmp/nginx/error.log" || true) - a0)); fi
	st[$key,back_ms]=$(kv "$res" back_ms)
	st[$key,back_n]=$(kv "$res" back)
	st[$key,dropped]=$(kv "$res" dropped)
	st[$key,gaps]=$(kv "$res" gaps)
	st[$key,late]=$(kv "$res" late_starts)
	st[$key,lastmin]=$(kv "$res" last_seq_min)
	st[$key,dups]=$(kv "$res" dups)
	st[$key,delivered]=$(kv "$res" delivered)
	st[$key,expected]=$((storm * count))
	st[$key,lost]=$((storm * count - ${st[$key,delivered]:-0} + ${st[$key,dups]:-0}))
}

# run_storm: the fresh storm and the one after others left, on both
# systems (the heartbeat's CPU taken in pgsse's fresh one).
run_storm() {
	local sys
	echo "Storms: $storm streams fresh, then $storm more once they left" >&2
	for sys in pgsse pgnx nchan; do
		if [ "$sys" = pgsse ]; then storm_open pgsse "$hb_secs"; else storm_open "$sys" 1; fi
		storm_arrive "$sys"
		if [ "$sys" = pgnx ]; then pgnx_stop; lighttpd_start; fi
	done
}

# print_storm: those storms' figures.
print_storm() {
	local sys
	for sys in pgsse pgnx nchan; do
		echo "$sys: fresh ${st[$sys,fresh_n]} open in ${st[$sys,fresh_ms]} ms (CPU µs a stream: web server ${st[$sys,fresh_web]}, pgsse ${st[$sys,fresh_own]}, load client ${st[$sys,fresh_load]}); after others left ${st[$sys,left_n]} open in ${st[$sys,left_ms]} ms"
	done
	print_heartbeat
}

# storm_cpu_rows: the rows of the fresh storm's CPU table.
storm_cpu_rows() {
	local sys label
	for sys in pgsse pgnx nchan; do
		case $sys in
		pgsse) label="pgsse behind lighttpd" ;;
		pgnx) label="pgsse behind nginx" ;;
		*) label="nchan (nginx)" ;;
		esac
		echo "| $label | ${st[$sys,fresh_web]:-?} | ${st[$sys,fresh_own]:-?} | ${st[$sys,fresh_load]:-?} | $(awk -v a="${st[$sys,fresh_web]:-0}" -v b="${st[$sys,fresh_own]:-0}" -v c="${st[$sys,fresh_load]:-0}" 'BEGIN{printf "%.1f", a + b + c}') |"
	done
}

# run_resume: the resume storm on both systems.
run_resume() {
	echo "Storm: $storm streams resuming" >&2
	storm_resume pgsse pgsse
	# nchan resuming with Last-Event-ID, and (its baseline, where its
	# workers abort on those) without.
	storm_resume nchan nchanid
	storm_resume nchan nchan -N
	lighttpd_stop; lighttpd_start
}

# print_resume: the resume storm's figures.
print_resume() {
	local sys
	for sys in pgsse nchanid nchan; do
		echo "$sys: resume ${st[$sys,back_n]} of ${st[$sys,dropped]} cut back in ${st[$sys,back_ms]} ms, delivered ${st[$sys,delivered]}/${st[$sys,expected]} lost ${st[$sys,lost]} (gaps ${st[$sys,gaps]}, late starts ${st[$sys,late]}, lowest last seq ${st[$sys,lastmin]} of $((${st[$sys,expected]:-0} / storm - 1))) dups ${st[$sys,dups]}${st[$sys,aborts]:+ nginx workers aborted ${st[$sys,aborts]}}"
	done
}

# run_heartbeat: pgsse's fresh storm alone, for the heartbeat's CPU.
run_heartbeat() {
	echo "Heartbeat: $storm idle streams, ${hb_secs}s" >&2
	storm_open pgsse "$hb_secs"
}

# print_heartbeat: the heartbeat's CPU.
print_heartbeat() { echo "heartbeat at $storm idle streams: pgsse-stream ${st[pgsse,hb_stream]:-?} ms/s, lighttpd ${st[pgsse,hb_web]:-?} ms/s"; }

# Memory returned: 5,000 streams open and close on a new server; sets
# mr[SYS,KEY]: before, peak and after (KiB: pgsse-stream's RSS alone,
# nginx's for nchan), and for pgsse gone_s, the seconds until it held
# no client (45 s at most; released within 2 heartbeats is the goal).
declare -A mr
mem_returned() {
	local sys=$1 n=5000 fd loadpid procs t0 i
	if [ "$sys" = pgsse ]; then lighttpd_stop; lighttpd_start; procs=$spid
	else nchan_stop; nchan_start; procs=$(web_nchan); fi
	sleep 1
	# shellcheck disable=SC2086 # a pid list
	mr[$sys,before]=$(rss $procs)
	coproc MEM { "$load" -p "$(port_of "$sys")" -u "$(path_of "$sys")" -c "$n" -d 2 -W 60; }
	loadpid=$MEM_PID
	exec {fd}<&"${MEM[0]}"
	read -r _ <&"$fd"
	# shellcheck disable=SC2086
	mr[$sys,peak]=$(rss $procs)
	read -r _ <&"$fd"
	exec {fd}<&-
	wait "$loadpid" 2>/dev/null || true
	t0=$(date +%s)
	if [ "$sys" = pgsse ]; then
		for i in $(seq 450); do
			[ "$(health_field "$lport" clients)" = 0 ] && break
			sleep 0.1
		done
		mr[$sys,gone_s]=$(($(date +%s) - t0))
	fi
	sleep 2
	# shellcheck disable=SC2086
	mr[$sys,after]=$(rss $procs)
}

# run_memory: memory returned, both systems.
run_memory() {
	echo "Memory returned: 5000 streams" >&2
	mem_returned pgsse
	mem_returned nchan
	lighttpd_stop; lighttpd_start
}

# print_memory: memory returned.
print_memory() {
	local sys
	for sys in pgsse nchan; do
		echo "$sys: RSS KiB before ${mr[$sys,before]} with 5000 ${mr[$sys,peak]} after ${mr[$sys,after]} ratio $(ratio "${mr[$sys,after]}" "${mr[$sys,before]}")${mr[$sys,gone_s]:+ all released in ${mr[$sys,gone_s]} s}"
	done
}

# w1_rows: the goals table's W1 and W2 rows.
w1_rows() {
	local rate r k l n
	for rate in $w1_rates; do
		k=pgsse,$rate n=nchan,$rate
		r=$(ratio "${w1[$k,own]}" "${w1[$n,tot]}")
		echo "| W1 pgsse's own CPU (stream + PostgreSQL) vs nchan's total, µs per delivery, $rate events/s | ${w1[$k,own]} | ${w1[$n,tot]} | $r | ≤ 0.3 | $(goal "${w1[$k,own]}" "${w1[$n,tot]}" 0.3 le) |"
	done
	for rate in $w1_rates; do
		k=pgsse,$rate n=nchan,$rate
		r=$(ratio "${w1[$k,tot]}" "${w1[$n,tot]}")
		if [ "$rate" = 400 ]; then l="≤ 1.0"; else l="(reported)"; fi
		echo "| W1 total CPU, lighttpd included, µs per delivery, $rate events/s | ${w1[$k,tot]} | ${w1[$n,tot]} | $r | $l | $([ "$rate" = 400 ] && goal "${w1[$k,tot]}" "${w1[$n,tot]}" 1.0 le) |"
	done
	r=$(ratio "${w1[pgsse,400,p99]}" "${w1[nchan,400,p99]}")
	echo "| W1 latency p99 at 400 events/s (ms) | $(ms "${w1[pgsse,400,p99]}") | $(ms "${w1[nchan,400,p99]}") | $r | ≤ 1.0 | $(goal "${w1[pgsse,400,p99]}" "${w1[nchan,400,p99]}" 1.0 le) |"
	r=$(ratio "${w1[pgsse,10,p99]}" "${w1[nchan,10,p99]}")
	echo "| W2 latency p99 at 10 events/s (ms) | $(ms "${w1[pgsse,10,p99]}") | $(ms "${w1[nchan,10,p99]}") | $r | ≤ 1.0 | $(goal "${w1[pgsse,10,p99]}" "${w1[nchan,10,p99]}" 1.0 le) |"
	l=met
	for rate in $w1_rates; do
		[ "${w1[pgsse,$rate,d]}" = "${w1[pgsse,$rate,e]}" ] || l="not met"
	done
	echo "| W1 delivered / expected, all rates and runs | ${w1[pgsse,400,d]} / ${w1[pgsse,400,e]} at 400/s (gaps ${w1[pgsse,400,gaps]}, dups ${w1[pgsse,400,dups]}) | ${w1[nchan,400,d]} / ${w1[nchan,400,e]} | | no loss | $l |"
}

# storm_rows: the goals table's storm and memory rows.
storm_rows() {
	local r ok
	r=$(ratio "${st[pgsse,fresh_ms]}" "${st[nchan,fresh_ms]}")
	echo "| Storm: time to open $storm streams on a new server (ms) | ${st[pgsse,fresh_ms]} (${st[pgsse,fresh_n]} open) | ${st[nchan,fresh_ms]} (${st[nchan,fresh_n]} open) | $r | ≤ 1.0 | $(goal "${st[pgsse,fresh_ms]}" "${st[nchan,fresh_ms]}" 1.0 le) |"
	r=$(ratio "${st[pgnx,fresh_ms]}" "${st[nchan,fresh_ms]}")
	echo "| Storm: the same, pgsse behind nginx (one worker, like nchan's) | ${st[pgnx,fresh_ms]} (${st[pgnx,fresh_n]} open) | ${st[nchan,fresh_ms]} (${st[nchan,fresh_n]} open) | $r | ≤ 1.0 | $(goal "${st[pgnx,fresh_ms]}" "${st[nchan,fresh_ms]}" 1.0 le) |"
	r=$(ratio "${st[pgsse,left_ms]}" "${st[nchan,left_ms]}")
	ok=$([ "${st[pgsse,left_n]}" = "$storm" ] && echo met || echo "not met")
	echo "| Storm: $storm new clients right after $storm others left: open, and the time (ms) | ${st[pgsse,left_n]} in ${st[pgsse,left_ms]} | ${st[nchan,left_n]} in ${st[nchan,left_ms]} | $r | all $storm open | $ok |"
	r=$(ratio "${st[pgnx,left_ms]}" "${st[nchan,left_ms]}")
	ok=$([ "${st[pgnx,left_n]}" = "$storm" ] && echo met || echo "not met")
	echo "| Storm: the same, pgsse behind nginx (nginx closes a departed client's FastCGI connection at once) | ${st[pgnx,left_n]} in ${st[pgnx,left_ms]} | ${st[nchan,left_n]} in ${st[nchan,left_ms]} | $r | all $storm open | $ok |"
	r=$(ratio "${st[pgsse,back_ms]}" "${st[nchan,back_ms]}")
	ok=$([ "${st[pgsse,back_n]}" = "$storm" ] && [ "${st[pgsse,lost]}" = 0 ] && [ "${st[pgsse,dups]}" = 0 ] && goal "${st[pgsse,back_ms]}" "${st[nchan,back_ms]}" 1.0 le || echo "not met")
	echo "| Storm: $storm clients resuming with Last-Event-ID, all back (ms): pgsse-stream killed vs nginx restarted | ${st[pgsse,back_ms]} (${st[pgsse,back_n]} back, lost ${st[pgsse,lost]}, dups ${st[pgsse,dups]}) | ${st[nchan,back_ms]} (${st[nchan,back_n]} back; with Last-Event-ID ${st[nchanid,back_n]} back, workers aborted ${st[nchanid,aborts]}) | $r | ≤ 1.0, all back, 0 lost | $ok |"
	r=$(ratio "${mem[p$storm]}" "${mem[n$storm]}")
	echo "| W3 memory per idle stream at $storm (KiB) | ${mem[p$storm]} | ${mem[n$storm]} | $r | ≤ 0.6 | $(goal "${mem[p$storm]}" "${mem[n$storm]}" 0.6 le) |"
	r=$(ratio "${mr[pgsse,after]}" "${mr[pgsse,before]}")
	echo "| Memory returned: pgsse-stream RSS after 5,000 streams closed vs before (KiB) | ${mr[pgsse,after]} | ${mr[pgsse,before]} | $r | ≤ 1.1 | $(goal "${mr[pgsse,after]}" "${mr[pgsse,before]}" 1.1 le) |"
	r=$(ratio "${mr[nchan,after]}" "${mr[nchan,before]}")
	echo "| Memory returned: nginx+nchan RSS after 5,000 streams closed vs before (KiB) | ${mr[nchan,after]} | ${mr[nchan,before]} | $r | (baseline) | |"
}

# cpu_table: every W1 CPU figure, split into the web server's share and
# pgsse's own, against nchan's total (medians of the runs).
cpu_table() {
	local rate sys k n
	echo "| events/s | server | pgsse own µs/delivery | web server µs/delivery | total | nchan total | own ÷ nchan total (goal ≤ 0.3) | total ÷ nchan (goal ≤ 1.0 at 400) |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
	for rate in $w1_rates; do
		n=nchan,$rate
		for sys in pgsse pgnx; do
			k=$sys,$rate
			echo "| $rate | $([ "$sys" = pgsse ] && echo lighttpd || echo nginx) | ${w1[$k,own]} | ${w1[$k,web]} | ${w1[$k,tot]} | ${w1[$n,tot]} | $(ratio "${w1[$k,own]}" "${w1[$n,tot]}") | $(ratio "${w1[$k,tot]}" "${w1[$n,tot]}") |"
		done
	done
}

# latency_table: p50/p99 of pgsse behind lighttpd, behind nginx, and
# nchan, at each rate.
latency_table() {
	local rate
	echo "| events/s | pgsse + lighttpd p50 / p99 (ms) | pgsse + nginx p50 / p99 | nchan p50 / p99 | p99 lighttpd ÷ nchan | p99 nginx ÷ nchan |"
	echo "| --- | --- | --- | --- | --- | --- |"
	for rate in $w1_rates; do
		echo "| $rate | $(ms "${w1[pgsse,$rate,p50]}") / $(ms "${w1[pgsse,$rate,p99]}") | $(ms "${w1[pgnx,$rate,p50]}") / $(ms "${w1[pgnx,$rate,p99]}") | $(ms "${w1[nchan,$rate,p50]}") / $(ms "${w1[nchan,$rate,p99]}") | $(ratio "${w1[pgsse,$rate,p99]}" "${w1[nchan,$rate,p99]}") | $(ratio "${w1[pgnx,$rate,p99]}" "${w1[nchan,$rate,p99]}") |"
	done
}

# w7_rows: the goals table's W7 rows; sets w7rows, W7's own table.
w7_rows() {
	local r7a r7b r7c w7p10 w7c10 w7p1k w7c1k w7d w7e w7r w7x w7p1kl w7ok n st p50 p99 c d e r x cms
	read -r _ w7p10 _ w7c10 _ _ _ _ _ <<<"${w7[10]}"
	read -r _ w7p1k _ w7c1k w7d w7e w7r w7x _ <<<"${w7[1000]}"
	read -r _ w7p1kl _ _ _ _ _ _ _ <<<"${w7[1000L]}"
	r7a=$(ratio "$w7p1k" "$w7p10"); r7b=$(ratio "$w7c1k" "$w7c10")
	r7c=$(ratio "$w7p1kl" "$w7p1k")
	w7ok=met w7rows=
	for n in 10 100 1000 1000L; do
		read -r st p50 p99 c d e r x cms <<<"${w7[$n]}"
		[ "$d" = "$e" ] && [ "$r" = 2 ] && [ "$x" = 0 ] || w7ok="not met"
		w7rows+="| $n | $st | $cms | $(ms "$p50") | $(ms "$p99") | $c | $d / $e | $r | $x |"$'\n'
	done
	w7rows=${w7rows%$'\n'}
	echo "| W7 delivery to one user, p50 (ms): 1,000 users vs 10 | $(ms "$w7p1k") | $(ms "$w7p10") | $r7a | ≤ 1.5 | $(goal "$w7p1k" "$w7p10" 1.5 le) |"
	echo "| W7 stream CPU per event to one user (µs): 1,000 users vs 10 | $w7c1k | $w7c10 | $r7b | ≤ 1.5 | $(goal "$w7c1k" "$w7c10" 1.5 le) |"
	echo "| W7 delivery to one user at 1,000 users, p50 (ms): log of 100,000 other events vs empty | $(ms "$w7p1kl") | $(ms "$w7p1k") | $r7c | ≤ 1.5 | $(goal "$w7p1kl" "$w7p1k" 1.5 le) |"
	echo "| W7 delivered / expected at 1,000 users, to that user's streams only | $w7d / $w7e (streams with events $w7r, refused or cut $w7x) | | | no loss, no other user's stream | $w7ok |"
}

# write_doc: docs/BENCHMARKS.md from every workload's figures.
write_doc() {
	local minutes w7tab
	minutes=$(( ($(date +%s) - t_start + 59) / 60 ))
	w7_rows >"$tmp/w7rows"
	w7tab=$w7rows
	cat <<HEAD
# Benchmarks

Made by \`make bench\` (\`tests/bench/run.sh\`, $minutes minutes) on $(date -u +%Y-%m-%d), on
$(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),
$(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r). Everything runs on loopback
on this one machine: the load client (\`tests/bench/sseload.c\`, epoll),
the publisher (\`tests/bench/ssepub.c\`), PostgreSQL 15, pgsse-stream
behind lighttpd $(/usr/sbin/lighttpd -v 2>&1 | sed -n 's/lighttpd\/\([0-9.]*\).*/\1/p') with the shipped config, and nginx $(nginx -v 2>&1 | sed 's/.*\///') with
nchan (one worker, EventSource); for latency and CPU also pgsse-stream
behind nginx (FastCGI, one worker, the shipped server block
\`etc/nginx/pgsse-nginx.conf.in\`). Load average at the start
$load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg) (1, 5 and 15 minutes; more
than the cores means other work shared the machine). It may be noisy:
read the ratios, which compare figures taken minutes apart in the same
run. pgsse's own CPU is pgsse-stream's and PostgreSQL's (every backend,
the publisher's too); the web server's is lighttpd's or nginx's; nchan's
total is nginx's.

## Goals

| workload | pgsse | nchan (or baseline) | ratio | goal | |
| --- | --- | --- | --- | --- | --- |
$(w1_rows)
$(storm_rows)
| W4 ceiling, deliveries/s (200 clients) | $pceil ($pbound) | $nceil ($nbound) | $(ratio "$pceil" "$nceil") | ≥ 1.0 | $(goal "$pceil" "$nceil" 1.0 ge) |
$(w5_rows)
$(w6_rows)
$(cat "$tmp/w7rows")

$(cat "$src/tests/bench/gaps.md")

## CPU per delivery (W1 and W2)

1,000 clients; each figure the median of $runs runs of ${secs} s.
pgsse behind nginx runs with the same worker count as nchan (one).

$(cpu_table)

## Latency (W1 and W2)

From just before the publisher's commit (pgsse) or POST (nchan) to
arrival; medians of $runs runs. pgsse behind nginx against nchan shows
pgsse's part, with the web server the same; pgsse behind lighttpd
against pgsse behind nginx shows the web server's.

$(latency_table)

## Storms, heartbeat and memory returned

- $storm streams open at once on a new server; then, as soon as they
  have left, $storm new clients arrive (60 s at most for all to be
  open). lighttpd notices a departed client only when it next writes
  to it, so the ones that left still hold descriptors; lighttpd's
  \`server.max-fds\` is set by the bench to $maxfds (the machine's
  hard limit is $hard$( [ "$hard" -lt 40000 ] && echo ", under the 36,000 that 2 × $storm streams would need; a root without CAP_SYS_RESOURCE cannot raise it"))
  and the same for nginx's \`worker_rlimit_nofile\`.
- CPU while the fresh storm opened, µs a stream (from the start until
  every stream had its headers; the web server's, pgsse's own and the
  load client's, which is the same program for both):

| server | web server | pgsse (stream + PostgreSQL) | load client | all |
| --- | --- | --- | --- | --- |
$(storm_cpu_rows)

- Resume: $storm clients that reconnect with Last-Event-ID after 0.5 to
  1 s, as EventSource does. pgsse: events at 10 a second for 6 s,
  pgsse-stream killed with SIGKILL once every client has had one,
  lighttpd starting a new one; the events
  published meanwhile must reach every client once. nchan: nginx
  restarted (its memory store forgets the events); its clients resume
  without Last-Event-ID, because with it nginx's workers died ${st[nchanid,aborts]}
  times (signal 6, an assertion in nchan's spool.c) and ${st[nchanid,back_n]} of $storm
  came back within 40 s. The time runs from the first stream cut to the
  last one answered 200 again.
- Heartbeat: with the fresh $storm idle at the default heartbeat (15 s),
  pgsse-stream used ${st[pgsse,hb_stream]} ms of CPU a second and
  lighttpd ${st[pgsse,hb_web]} ms (over $((hb_secs - 2)) s).
- Memory returned: pgsse-stream's RSS ${mr[pgsse,before]} KiB before
  5,000 streams opened, ${mr[pgsse,peak]} KiB with them, ${mr[pgsse,after]} KiB
  after they closed (all released by pgsse-stream ${mr[pgsse,gone_s]} s after
  they left); nginx+nchan ${mr[nchan,before]}, ${mr[nchan,peak]} and ${mr[nchan,after]} KiB.

## Details

- W4: the rate climbs 1,000, 2,000, 4,000, 8,000, 16,000 events/s (5 s
  each) until delivery lags (lag), the publisher cannot keep the rate
  (publisher: the figure is then what the clients sustained at the
  rate it reached), or the last step passes (top).
- W5: the declared /demos/grid is the demo folder's (\`demo/app.json\`,
  SQL and a Mustache template) served by the generic \`pgsse-app\`;
  the C one is \`tests/bench/gridc.c\`, the same fragment on the public
  API. Each is behind its own lighttpd with the shipped config, and
  both answer the same bytes; each runs twice for half the time, in the
  order C, declared, declared, C. $(if [ -n "$w5line" ]; then echo "The rest is \`tests/bench/w5.sh\`: \`$w5line\`."; else echo "/status/content $st_rps req/s; wrk -t2 -c32; pgbench -c 32 -M prepared."; fi)
- W6 (\`tests/bench/w6-publish.sh\`, pgbench on a cluster of its own):

\`\`\`
$w6out
\`\`\`

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
  \`retention_count\`).

| W7 users | streams | all open in (ms) | p50 ms | p99 ms | stream CPU µs per event | delivered / expected | streams with events | refused or cut |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
$w7tab

## Scale

Each W3 point on a new server; memory is all of the system's processes.

| clients | pgsse KiB/stream | nchan KiB/stream | pgsse connect ms | nchan connect ms | pgsse open | nchan open |
| --- | --- | --- | --- | --- | --- | --- |
| 100 | ${mem[p100]} | ${mem[n100]} | ${conn[p100]} | ${conn[n100]} | ${open[p100]} | ${open[n100]} |
| 1000 | ${mem[p1000]} | ${mem[n1000]} | ${conn[p1000]} | ${conn[n1000]} | ${open[p1000]} | ${open[n1000]} |
| $storm | ${mem[p$storm]} | ${mem[n$storm]} | ${conn[p$storm]} | ${conn[n$storm]} | ${open[p$storm]} | ${open[n$storm]} |

| W1 at 100 events/s | pgsse CPU s/1000, p99 ms, delivered | nchan CPU s/1000, p99 ms, delivered |
| --- | --- | --- |
| 100 clients | ${sc[p100]} | ${sc[n100]} |
| $storm clients | ${sc[p$storm]} | ${sc[n$storm]} |

![Memory per idle stream against clients](benchmarks.svg)
HEAD
}

# write_svg: the chart, KiB per idle stream against clients, both
# systems.
write_svg() {
awk -v p1="${mem[p100]}" -v p2="${mem[p1000]}" -v p3="${mem[p$storm]}" \
    -v n1="${mem[n100]}" -v n2="${mem[n1000]}" -v n3="${mem[n$storm]}" -v big="$storm" 'BEGIN {
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
}

# main: the servers, then one workload (BENCH_ONLY) and its figures, or
# all of them and the document.
pg_start
lighttpd_start
nchan_start
sleep 0.5
case $only in
w1 | w3 | scale | w4 | w5 | w6 | w7 | storm | resume | memory | heartbeat)
	"run_$only"
	"print_$only"
	echo "($only: $(($(date +%s) - t_start)) s)"
	exit 0
	;;
'') ;;
*)
	echo "bench: BENCH_ONLY is one of w1 w3 scale w4 w5 w6 w7 storm resume memory heartbeat" >&2
	exit 2
	;;
esac
run_w1
run_w3
run_scale
run_w4
run_storm
run_resume
run_memory
run_w5
run_w6
run_w7
write_doc >"$out/BENCHMARKS.md"
write_svg
cat "$out/BENCHMARKS.md"
echo "(bench: $(($(date +%s) - t_start)) s)" >&2
