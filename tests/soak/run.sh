#!/bin/bash
# make soak: SOAK_SECONDS (600) of 1,000 clients and 500 events/s through
# lighttpd (the shipped config), clients dropping and resuming at random.
# Nothing may be lost; prints the RSS of every pgsse process (and
# lighttpd) in the first and the last minute, which should be flat.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${PGSSE_BUILDDIR:-$src}
secs=${SOAK_SECONDS:-600}
clients=${SOAK_CLIENTS:-1000}
rate=${SOAK_RATE:-500}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-soak.XXXXXX")
chmod 755 "$tmp"
. "$src/tests/lib/stack.sh"
ulimit -n 65536 2>/dev/null || true
lpid=0
cleanup() {
	[ "$lpid" -gt 0 ] && kill "$lpid" 2>/dev/null
	"$cluster" stop "$tmp/pg" immediate >/dev/null 2>&1
	sleep 0.5
	rm -rf "$tmp"
}
trap cleanup EXIT
stack_pg "$src/demo/schema.sql"	# pgsse-app serves the demo folder
stack_lighttpd_conf 16384
PGSSE_MAX_CLIENTS=5000 /usr/sbin/lighttpd -D -f "$tmp/web/lighttpd.conf" &
lpid=$!
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/api/sse-health" && break; sleep 0.1; done
spid=$(curl -fs "http://127.0.0.1:$port/api/sse-health" | sed 's/.*"pid":\([0-9]*\).*/\1/')
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
count=$((rate * secs))
coproc LOAD { "$build/tests/bench/sseload" -X 0.02 -p "$port" -u /api/sse/logs -c "$clients" -d $((secs + 60)) -e "$count"; }
exec {lfd}<&"${LOAD[0]}"
read -r _ <&"$lfd"	# ready
"$build/tests/bench/ssepub" pgsse "$rate" "$count" >/dev/null &
ppid=$!
: >"$tmp/rss"
t=0
while kill -0 "$ppid" 2>/dev/null; do
	echo "$t $(rss "$spid") $(rss "$lpid")" >>"$tmp/rss"
	sleep 10
	t=$((t + 10))
done
read -r res <&"$lfd"
kv() { echo "$res" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
first=$(awk '$1 < 60 {s += $2; l += $3; n++} END {printf "%d %d", s / n, l / n}' "$tmp/rss")
last=$(awk -v e="$t" '$1 >= e - 60 {s += $2; l += $3; n++} END {printf "%d %d", s / n, l / n}' "$tmp/rss")
echo "soak: ${secs}s, $clients clients, $rate events/s, reconnects=$(kv reconnects)"
echo "delivered=$(kv delivered) expected=$((clients * count)) gaps=$(kv gaps) dups=$(kv dups)"
echo "pgsse-stream RSS KiB by minute: $(awk '$1 % 60 == 0 {printf "%s%d", n++ ? " " : "", $2}' "$tmp/rss")"
echo "pgsse-stream RSS KiB: first minute ${first% *}, last minute ${last% *}"
echo "lighttpd RSS KiB: first minute ${first#* }, last minute ${last#* }"
[ "$(kv gaps)" = 0 ] && [ "$(kv dups)" = 0 ] && [ "$(kv delivered)" = $((clients * count)) ]
