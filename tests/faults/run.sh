#!/bin/bash
# make check-faults: 500 streaming clients behind lighttpd (the shipped
# config) and a publisher at 200 events/s; one fault at a time, and every
# client must receive every durable event exactly once, in order. Prints
# the recovery time (longest silence seen by the clients) and the events
# lost for each fault; exits non-zero if any was lost or duplicated.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PGSSE_BUILDDIR:-$src}
clients=${FAULT_CLIENTS:-500}
rate=${FAULT_RATE:-200}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-faults.XXXXXX")
chmod 755 "$tmp"
load=$build/tests/bench/sseload
pub=$build/tests/bench/ssepub
. "$src/tests/lib/stack.sh"
ulimit -n 65536 2>/dev/null || true
lpid=0 rpid=0
cleanup() {
	[ "$lpid" -gt 0 ] && kill "$lpid" 2>/dev/null
	[ "$rpid" -gt 0 ] && kill "$rpid" 2>/dev/null
	pkill -CONT -f "postgres -D $tmp/pg/data" 2>/dev/null
	"$cluster" stop "$tmp/pg" immediate >/dev/null 2>&1
	sleep 0.5
	rm -rf "$tmp"
}
trap cleanup EXIT
stack_pg "$src/demo/schema.sql"
stack_lighttpd_conf 16384
web_start() {
	/usr/sbin/lighttpd -D -f "$tmp/web/lighttpd.conf" &
	lpid=$!
	for i in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/api/sse-health" && return
		sleep 0.1
	done
	echo "lighttpd did not start"; exit 1
}
web_start
postmaster() { head -1 "$tmp/pg/data/postmaster.pid"; }
stream_pid() { curl -fs "http://127.0.0.1:$port/api/sse-health" | sed 's/.*"pid":\([0-9]*\).*/\1/'; }

fault_pg_restart() { "$cluster" stop "$tmp/pg" fast; "$cluster" start "$tmp/pg"; }
fault_pg_kill() {
	local pm kids; pm=$(postmaster); kids=$(pgrep -P "$pm")
	kill -KILL "$pm"
	# The backends notice their postmaster died and exit by themselves.
	for i in $(seq 100); do
		alive=0
		for k in $kids; do kill -0 "$k" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	"$cluster" start "$tmp/pg"
}
fault_stream_kill() { kill -KILL "$(stream_pid)"; }
fault_lighttpd_restart() { kill "$lpid"; wait "$lpid" 2>/dev/null; web_start; }
fault_pg_stall() { local pm; pm=$(postmaster); kill -STOP "$pm"; sleep 10; kill -CONT "$pm"; }
fault_runner_kill() {
	# A job publishing progress, its runner killed, a new runner retrying it.
	PATH="$build/bin:$PATH" "$build/bin/pgsse-runner" --jobs "$src/tests/data/jobs" >/dev/null 2>&1 &
	rpid=$!
	psql -qAt -c "select pgsse.enqueue('slow', '{}')" >/dev/null
	sleep 1
	kill -KILL "$rpid"; pkill -KILL -f 'tests/data/jobs/slo[w]'
	PATH="$build/bin:$PATH" "$build/bin/pgsse-runner" --jobs "$src/tests/data/jobs" >/dev/null 2>&1 &
	rpid=$!
	for i in $(seq 100); do
		[ "$(psql -qAt -c "select count(*) from pgsse.jobs where state = 'succeeded'")" = 1 ] && break
		sleep 0.2
	done
	kill "$rpid"; rpid=0
}

rc=0
printf '| fault | events | delivered / expected | lost | duplicated | recovery (ms) |\n| --- | --- | --- | --- | --- | --- |\n' >"$tmp/table"
for fault in ${FAULTS:-pg_restart pg_kill stream_kill lighttpd_restart runner_kill pg_stall}; do
	psql -q -c "truncate pgsse.log" >/dev/null
	count=$((rate * 20))
	coproc LOAD { "$load" -R -p "$port" -u /api/sse/logs -c "$clients" -d 60 -e "$count"; }
	loadpid=$LOAD_PID
	exec {lfd}<&"${LOAD[0]}"	# keep it: bash unsets LOAD when it ends
	read -r ready <&"$lfd"
	"$pub" pgsse "$rate" "$count" >/dev/null 2>&1 &
	ppid=$!
	sleep 5
	"fault_$fault" >/dev/null 2>&1
	wait "$ppid"
	read -r res <&"$lfd"
	exec {lfd}<&-
	wait "$loadpid" 2>/dev/null
	kv() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	delivered=$(kv delivered); gaps=$(kv gaps); dups=$(kv dups); silence=$(kv silence_ms)
	expected=$((clients * count))
	lost=$((expected - delivered + dups))
	[ "$lost" -lt 0 ] && lost=0
	printf '| %s | %d | %d / %d | %d | %d | %d |\n' "$fault" "$count" "$delivered" "$expected" "$gaps" "$dups" "$silence" >>"$tmp/table"
	echo "fault $fault: $(kv first_seq_max) $(kv late_starts) $(kv last_seq_min) delivered=$delivered expected=$expected gaps=$gaps dups=$dups recovery_ms=$silence reconnects=$(kv reconnects)"
	if [ "$delivered" != "$expected" ] || [ "$gaps" != 0 ] || [ "$dups" != 0 ]; then rc=1; fi
done
cat "$tmp/table"
exit $rc
