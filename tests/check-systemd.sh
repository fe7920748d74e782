#!/bin/sh
# check-systemd.sh: the systemd units in etc/systemd/, as the build made
# them from their .in files.
#
# Sockets: a unit that gives its program --socket PATH makes PATH's
# folder with RuntimeDirectory=NAME, which systemd creates as /run/NAME,
# so PATH must be /run/NAME/...; and the samples of the web servers that
# connect to those programs (Apache mod_proxy_fcgi, nginx) must name the
# very sockets the units listen on. (lighttpd and mod_fcgid start the
# programs themselves.)
set -u
build=${PGSSE_BUILDDIR:-.}
units=$build/etc/systemd
rc=0

fail() {
	echo "FAIL: $*" >&2
	rc=1
}

# The socket of a unit's ExecStart (--socket PATH), or nothing.
unit_socket() {
	sed -n 's/^ExecStart=.* --socket \([^ ]*\).*/\1/p' "$1"
}

# The sockets the units listen on, one a line, sorted.
socks=
for u in "$units"/*.service; do
	name=$(basename "$u")
	sock=$(unit_socket "$u")
	[ -n "$sock" ] || continue
	rtd=$(sed -n 's/^RuntimeDirectory=//p' "$u")
	if [ -z "$rtd" ]; then
		fail "$name: --socket $sock but no RuntimeDirectory= makes its folder"
	elif [ "$(dirname "$sock")" != "/run/$rtd" ]; then
		fail "$name: --socket $sock is not in RuntimeDirectory=$rtd" \
			"(/run/$rtd): the bind fails"
	else
		echo "ok: $name: $sock is in RuntimeDirectory=$rtd"
	fi
	socks="$socks$sock
"
done
[ -n "$socks" ] || fail "no unit has a --socket"
socks=$(printf %s "$socks" | sort)

# Compares the sockets a sample names (one a line) with the units'.
same_sockets() {
	sample=$1 named=$(printf '%s\n' "$2" | sort -u)
	if [ "$named" = "$socks" ]; then
		echo "ok: $sample names the units' sockets"
	else
		fail "$sample names $(echo "$named" | tr '\n' ' ')but the units" \
			"listen on $(echo "$socks" | tr '\n' ' ')"
	fi
}

run=$(sed -n 's/^ *Define PGSSE_RUN //p' "$build/etc/apache/pgsse-proxy-fcgi.conf" |
	sort -u)
# shellcheck disable=SC2016 # ${PGSSE_RUN} is Apache's, not the shell's
same_sockets pgsse-proxy-fcgi.conf "$(grep -o 'unix:${PGSSE_RUN}/[a-z-]*\.sock' \
	"$build/etc/apache/pgsse-proxy-fcgi.conf" | sed "s|^unix:\${PGSSE_RUN}|$run|")"
same_sockets pgsse-nginx.conf "$(sed -n 's/^ *fastcgi_pass unix:\([^;]*\);/\1/p' \
	"$build/etc/nginx/pgsse-nginx.conf")"
exit $rc
