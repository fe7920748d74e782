#!/bin/bash
# W5 fragments: the demo's /demos/grid served by pgsse-app against the
# same fragment in PHP-FPM (tests/bench/php/grid.php: the same SQL with
# pg_query_params on persistent connections, opcache on, 8 static
# workers, the same markup), each behind a lighttpd of the shipped
# config's shape (etc/lighttpd/pgsse.conf; PHP's differs only in the
# pgsse-app block, which names PHP-FPM's socket), and against the two
# parts of its cost alone: a static file of the same size through
# pgsse-app's lighttpd, and pgbench running the same SQL over the same
# kind of connection as pgsse-app (the Unix socket), -M prepared, with
# as many clients as wrk has connections. On a private cluster.
# The bodies of pgsse-app and PHP must be the same bytes, or it exits 1.
# Prints one line:
#   w5_pgsse=RPS w5_php=RPS w5_static=RPS w5_pgbench=TPS w5_same_bytes=1
# and more keys: w5_bound (1/(1/static + 1/pgbench)), w5_vs_php,
# w5_vs_bound, w5_bytes, w5_seconds; w5_pgsse_t1 (pgsse-app with one
# worker thread per process) and w5_nodb (pgsse-app answering 404 for a
# path with no route: lighttpd's FastCGI and pgsse-app with no database
# work, the ceiling of any fragment behind this lighttpd), each also
# against PHP-FPM (w5_t1_vs_php, w5_nodb_vs_php); w5_pgsse_cookie and
# w5_php_cookie, both with the session's CSRF cookie, as a browser's
# htmx request sends it (w5_cookie_vs_php); w5_nginx, pgsse-app behind
# nginx with the shipped server block (kept FastCGI connections), and
# w5_nginx_static, the static file behind that nginx, whose composed
# bound with pgbench is w5_nginx_bound (w5_nginx_vs_bound; w5_nginx_vs_php
# is against PHP-FPM behind lighttpd).
# W5_SECONDS (or BENCH_SECONDS, else 10) is each system's time, run in
# W5_ROUNDS (4) rounds in the order pgsse, PHP, static, pgbench, then
# the reverse, and so on; each figure is the median of its runs, so that
# a load from elsewhere that rises or falls weighs on all alike.
set -euo pipefail
src=${PGSSE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${PGSSE_BUILDDIR:-$src}
secs=${W5_SECONDS:-${BENCH_SECONDS:-10}}
conns=32
phpfpm=${PHP_FPM:-/usr/sbin/php-fpm8.2}
pgbench=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-w5.XXXXXX")
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	"$src/bin/pgsse-cluster" stop "$tmp/pg" immediate >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
for f in "$phpfpm" "$pgbench" /usr/sbin/lighttpd "$(command -v wrk || echo wrk)"; do
	[ -x "$f" ] || { echo "w5: $f is missing (bin/install-deps)" >&2; exit 1; }
done
free_port() {
	local p=$((20000 + RANDOM % 12000))
	while ss -Htan "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# PostgreSQL with the demo's schema.
# Another bench on this machine may take the port between the check
# and the bind: then again on another, three times at most.
for try in 1 2 3; do
	rm -rf "$tmp/pg"
	"$src/bin/pgsse-cluster" init "$tmp/pg" "$(free_port)" >/dev/null
	"$src/bin/pgsse-cluster" start "$tmp/pg" >/dev/null 2>&1 && break
	[ "$try" = 3 ] && { tail -5 "$tmp/pg/postgres.log" >&2; exit 1; }
done
eval "$("$src/bin/pgsse-cluster" env "$tmp/pg")"
psql -q -v ON_ERROR_STOP=1 -f "$src/sql/pgsse.sql" -f "$src/sql/roles.sql" \
	-f "$src/demo/schema.sql"
(umask 077 && head -c 32 /dev/urandom >"$tmp/secret")
export PGSSE_SECRET_FILE=$tmp/secret

# serve NAME CONF_TAIL: a lighttpd in $tmp/NAME with the shipped config
# (its pgsse-app block replaced by CONF_TAIL's, if given), serving
# $tmp/www; sets port once /demos/grid answers.
mkdir -p "$tmp/www"
tries=0
serve() {
	local dir=$tmp/$1 conf=$src/etc/lighttpd/pgsse.conf
	port=$(free_port)
	mkdir -p "$dir"
	if [ -n "$2" ]; then
		# The shipped file up to its pgsse-app block, then ours.
		sed '/^else \$HTTP\["url"\] =~ "\^\/pgsse-app\/"/,$d' "$conf" >"$dir/pgsse.conf"
		grep -q "pgsse-stream.sock" "$dir/pgsse.conf" ||
			{ echo "w5: etc/lighttpd/pgsse.conf changed shape" >&2; exit 1; }
		printf '%s\n' "$2" >>"$dir/pgsse.conf"
		conf=$dir/pgsse.conf
	fi
	cat >"$dir/lighttpd.conf" <<CONF
var.pgsse_bind = "127.0.0.1"
var.pgsse_port = $port
var.pgsse_www = "$tmp/www"
var.pgsse_app = "$src/demo"
var.pgsse_cgibin = "$build/cgi-bin"
var.pgsse_run = "$dir"
include "$conf"
CONF
	/usr/sbin/lighttpd -D -f "$dir/lighttpd.conf" </dev/null >/dev/null 2>&1 &
	pids+=("$!")
	for _ in $(seq 300); do
		curl -fs -m 2 -o /dev/null "http://127.0.0.1:$port/demos/grid" && return 0
		# It could not bind (another bench took the port): again.
		if ! kill -0 "$!" 2>/dev/null; then
			tries=$((tries + 1))
			[ "$tries" -lt 5 ] || break
			serve "$@"
			return
		fi
		sleep 0.1
	done
	echo "w5: $1's lighttpd does not answer:" >&2
	tail -5 "$dir/lighttpd-error.log" >&2 || true
	exit 1
}

# PHP-FPM: 8 static workers on a socket. The script is a front
# controller, like pgsse-app: the file pgsse-app under the docroot that
# lighttpd names to PHP, which serves /pgsse-app/* as its PATH_INFO.
mkdir -p "$tmp/php/root"
awk -v f="$src/demo/sql/grid.sql" '$0 == "@GRID_SQL@" {
	while ((getline l < f) > 0) print l; next } { print }' \
	"$src/tests/bench/php/grid.php" >"$tmp/php/root/pgsse-app"
cat >"$tmp/php/fpm.conf" <<CONF
[global]
pid = $tmp/php/fpm.pid
error_log = $tmp/php/error.log
daemonize = no
[grid]
listen = $tmp/php/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 8
clear_env = no
env[PGUSER] = pgsse_web
security.limit_extensions = /pgsse-app
php_admin_flag[opcache.enable] = on
php_admin_flag[opcache.validate_timestamps] = off
php_admin_flag[pgsql.allow_persistent] = on
php_admin_flag[display_errors] = off
CONF
rootflag=()
[ "$(id -u)" = 0 ] && rootflag=(-R)
"$phpfpm" "${rootflag[@]}" -y "$tmp/php/fpm.conf" </dev/null >/dev/null 2>&1 &
pids+=("$!")
for _ in $(seq 300); do [ -S "$tmp/php/fpm.sock" ] && break; sleep 0.1; done

serve pgsse ""
pport=$port
# The same with one worker thread per pgsse-app process: its batches
# take every request waiting, so they are bigger (FRAGMENTS.md).
PGSSE_APP_THREADS=1 serve pgsse1 ""
p1port=$port
serve php "else \$HTTP[\"url\"] =~ \"^/pgsse-app/\" {
  fastcgi.server = ( \"/pgsse-app/\" => ((
    \"socket\"      => \"$tmp/php/fpm.sock\",
    \"docroot\"     => \"$tmp/php/root\",
    \"check-local\" => \"disable\",
  )))
}"
hport=$port

# pgsse-app behind nginx with the shipped server block, one worker as
# lighttpd is one process: nginx keeps its FastCGI connections to
# pgsse-app (upstream keepalive, fastcgi_keep_conn), where lighttpd
# opens and closes one a request; sets nport once /demos/grid answers.
nginx_serve() {
	local dir=$tmp/nginx user=
	nport=$(free_port)
	mkdir -p "$dir/tmp"
	PGUSER=pgsse_web "$build/cgi-bin/pgsse-app" --app "$src/demo" \
	    --socket "$dir/pgsse-app.sock" </dev/null >"$dir/app.log" 2>&1 &
	pids+=("$!")
	sed -e "s|listen [^;]*;|listen 127.0.0.1:$nport;|" \
	    -e "s|@rundir@|$dir|g" -e "s|@pgssewww@|$tmp/www|g" \
	    "$src/etc/nginx/pgsse-nginx.conf.in" >"$dir/server.conf"
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$dir/nginx.conf" <<CONF
daemon off;
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  include $dir/server.conf;
}
CONF
	for _ in $(seq 100); do [ -S "$dir/pgsse-app.sock" ] && break; sleep 0.1; done
	/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" </dev/null >/dev/null 2>&1 &
	pids+=("$!")
	for _ in $(seq 100); do
		curl -fs -m 2 -o /dev/null "http://127.0.0.1:$nport/demos/grid" && return 0
		sleep 0.1
	done
	echo "w5: nginx with pgsse-app does not answer:" >&2
	tail -5 "$dir/error.log" "$dir/app.log" >&2 || true
	exit 1
}
nginx_serve

# The same bytes, or no figures.
curl -fsS "http://127.0.0.1:$pport/demos/grid" >"$tmp/pgsse.html"
curl -fsS "http://127.0.0.1:$hport/demos/grid" >"$tmp/php.html"
same=1
curl -fsS "http://127.0.0.1:$nport/demos/grid" >"$tmp/nginx.html"
if ! grep -q '<article class="demo"' "$tmp/pgsse.html" ||
    ! cmp -s "$tmp/pgsse.html" "$tmp/php.html" ||
    ! cmp -s "$tmp/pgsse.html" "$tmp/nginx.html"; then
	same=0
	echo "w5: PHP's /demos/grid, or pgsse-app's behind nginx, is not pgsse-app's bytes:" >&2
	diff "$tmp/pgsse.html" "$tmp/php.html" >&2 || true
	diff "$tmp/pgsse.html" "$tmp/nginx.html" >&2 || true
	cat "$tmp/php/error.log" >&2 2>/dev/null || true
	echo "w5_pgsse=0 w5_php=0 w5_static=0 w5_pgbench=0 w5_same_bytes=0"
	exit 1
fi
cp "$tmp/pgsse.html" "$tmp/www/static.html"
cp "$src/demo/sql/grid.sql" "$tmp/grid.sql"
printf ';\n' >>"$tmp/grid.sql"

# wrkrps SECONDS URL [HEADER]: wrk's requests a second.
wrkrps() {
	wrk -t2 -c"$conns" -d"${1}s" ${3:+-H "$3"} "$2" 2>/dev/null |
		awk '/Requests\/sec/ {print int($2)}'
}
# The session cookie that a page sets (its CSRF token) and that a
# browser's htmx requests then carry: with it pgsse-app checks the
# token instead of issuing one (no Set-Cookie). PHP gets the same header.
cookie="Cookie: pgsse_csrf=$(curl -fsS -D - -o /dev/null \
	"http://127.0.0.1:$pport/demos/grid" | tr -d '\r' |
	sed -n 's/^Set-Cookie: pgsse_csrf=\([^;]*\);.*/\1/p')"
pgbtps() {
	PGUSER=pgsse_web "$pgbench" -n -M prepared -c "$conns" -j 2 -T "$1" \
		-f "$tmp/grid.sql" 2>/dev/null | awk '/^tps/ {print int($3)}'
}
# Warm each up (every worker's connection made, its statement
# prepared), then the two halves.
wrkrps 1 "http://127.0.0.1:$pport/demos/grid" >/dev/null
wrkrps 1 "http://127.0.0.1:$p1port/demos/grid" >/dev/null
wrkrps 1 "http://127.0.0.1:$hport/demos/grid" >/dev/null
wrkrps 1 "http://127.0.0.1:$nport/demos/grid" >/dev/null
# run I SECONDS: system I (0 pgsse, 1 PHP, 2 static, 3 pgbench, 4
# pgsse with one thread per process, 5 pgsse-app answering a path it
# has no route for: FastCGI through lighttpd with no database, the
# ceiling of any fragment behind it; 6 and 7 pgsse and PHP with the
# CSRF cookie; 8 pgsse-app behind nginx, 9 the static file behind that
# nginx) once.
run() {
	case $1 in
	0) wrkrps "$2" "http://127.0.0.1:$pport/demos/grid" ;;
	1) wrkrps "$2" "http://127.0.0.1:$hport/demos/grid" ;;
	2) wrkrps "$2" "http://127.0.0.1:$pport/static.html" ;;
	3) pgbtps "$2" ;;
	4) wrkrps "$2" "http://127.0.0.1:$p1port/demos/grid" ;;
	5) wrkrps "$2" "http://127.0.0.1:$pport/pgsse-app/no-such-route" ;;
	6) wrkrps "$2" "http://127.0.0.1:$pport/demos/grid" "$cookie" ;;
	7) wrkrps "$2" "http://127.0.0.1:$hport/demos/grid" "$cookie" ;;
	8) wrkrps "$2" "http://127.0.0.1:$nport/demos/grid" ;;
	9) wrkrps "$2" "http://127.0.0.1:$nport/static.html" ;;
	esac
}
# median: the median of the numbers on standard input.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	    else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# Rounds of one run each, in the order 0 to 9, then 9 to 0,
# and so on: a load from elsewhere that rises or falls weighs on all
# alike, and the median of each system's runs leaves out a round it
# spoiled.
rounds=${W5_ROUNDS:-4}
len=$(((secs + rounds - 1) / rounds))
for ((r = 0; r < rounds; r++)); do
	for i in 0 1 2 3 4 5 6 7 8 9; do
		[ $((r % 2)) = 1 ] && i=$((9 - i))
		run "$i" "$len" >>"$tmp/runs.$i"
	done
done
pg=$(median <"$tmp/runs.0") php=$(median <"$tmp/runs.1")
st=$(median <"$tmp/runs.2") pb=$(median <"$tmp/runs.3")
p1=$(median <"$tmp/runs.4") nodb=$(median <"$tmp/runs.5")
pc=$(median <"$tmp/runs.6") hc=$(median <"$tmp/runs.7")
ng=$(median <"$tmp/runs.8") ns=$(median <"$tmp/runs.9")
awk -v a="$pg" -v b="$php" -v c="$st" -v d="$pb" -v s="$same" \
    -v n="$(wc -c <"$tmp/pgsse.html")" -v t="$secs" 'BEGIN {
	bound = (c > 0 && d > 0) ? 1 / (1 / c + 1 / d) : 0
	printf "w5_pgsse=%d w5_php=%d w5_static=%d w5_pgbench=%d " \
	    "w5_same_bytes=%d w5_bound=%d w5_vs_php=%.2f w5_vs_bound=%.2f " \
	    "w5_bytes=%d w5_seconds=%d\n", a, b, c, d, s, bound,
	    (b > 0 ? a / b : 0), (bound > 0 ? a / bound : 0), n, t
}' | tr -d '\n'
awk -v a="$p1" -v b="$nodb" -v c="$php" 'BEGIN {
	printf " w5_pgsse_t1=%d w5_nodb=%d w5_t1_vs_php=%.2f w5_nodb_vs_php=%.2f",
	    a, b, (c > 0 ? a / c : 0), (c > 0 ? b / c : 0) }'
awk -v a="$pc" -v b="$hc" 'BEGIN {
	printf " w5_pgsse_cookie=%d w5_php_cookie=%d w5_cookie_vs_php=%.2f",
	    a, b, (b > 0 ? a / b : 0) }'
awk -v a="$ng" -v c="$ns" -v d="$pb" -v h="$php" 'BEGIN {
	bound = (c > 0 && d > 0) ? 1 / (1 / c + 1 / d) : 0
	printf " w5_nginx=%d w5_nginx_static=%d w5_nginx_bound=%d" \
	    " w5_nginx_vs_bound=%.2f w5_nginx_vs_php=%.2f", a, c, bound,
	    (bound > 0 ? a / bound : 0), (h > 0 ? a / h : 0) }'
# Every run's figure, in the order they ran within each system.
for i in 0 1 2 3 4 5 6 7 8 9; do
	printf ' w5_runs_%s=%s' "$(echo pgsse php static pgbench pgsse_t1 nodb \
		pgsse_cookie php_cookie nginx nginx_static |
		cut -d' ' -f$((i + 1)))" "$(paste -sd, "$tmp/runs.$i")"
done
echo
