# shellcheck shell=bash disable=SC2154
# stack.sh: sourced by tests/faults/run.sh and tests/soak/run.sh. Needs
# $src, $build and $tmp. Starts a private cluster with the schema and
# the registry, and writes a lighttpd config from the shipped sample
# (adjusted only for port, paths and descriptors) to $tmp/web.
cluster=$src/bin/pgsse-cluster

# stack_pg [EXTRA_SQL...]: start the cluster and export its PG* settings.
# The extra SQL (an app's) runs after the roles, which it grants to.
stack_pg() {
	local args=() f
	for f in "$src/sql/pgsse.sql" "$src/sql/roles.sql" "$@"; do args+=(-f "$f"); done
	"$cluster" init "$tmp/pg" >/dev/null
	"$cluster" start "$tmp/pg"
	eval "$("$cluster" env "$tmp/pg")"
	psql -q -v ON_ERROR_STOP=1 "${args[@]}"
	"$build/bin/pgsse-registry" load "$src/demo/registry.json" >/dev/null
}

# stack_lighttpd_conf MAX_FDS: sets $port and writes the config.
stack_lighttpd_conf() {
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$tmp/web"
	(umask 077 && head -c 32 /dev/urandom >"$tmp/web/secret")
	export PGSSE_SECRET_FILE=$tmp/web/secret
	stack_lighttpd_write "$tmp/web" 127.0.0.1 "$port" "$1"
}

# stack_lighttpd_write DIR BIND PORT MAX_FDS: writes DIR/lighttpd.conf,
# the sample serving the demo on BIND:PORT, its sockets in DIR.
stack_lighttpd_write() {
	cat >"$1/lighttpd.conf" <<CONF
var.pgsse_bind = "$2"
var.pgsse_port = $3
var.pgsse_www = "$src/www"
var.pgsse_cgibin = "$build/cgi-bin"
var.pgsse_app = "$src/demo"
var.pgsse_run = "$1"
include "$src/etc/lighttpd/pgsse.conf"
server.max-fds = $4
CONF
}
