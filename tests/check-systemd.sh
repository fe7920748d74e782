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
#
# Verify: `systemd-analyze verify` finds nothing to say about any unit,
# with the programs installed (make install DESTDIR=...) and the units'
# paths under the prefix pointed there, as its ExecStart= checks need;
# it exits 0 after most warnings ("Unknown key ..., ignoring"), so any
# output fails. Two broken copies of a unit (a misspelt key, a program
# that is not there) must fail, or the check proves nothing.
#
# Hardening: `systemd-analyze security --offline=true` rates each unit's
# exposure at most EXPOSURE_MAX (1.5, "OK"; a unit with no hardening
# is 9.2, "UNSAFE").
set -u
build=${PGSSE_BUILDDIR:-.}
prefix=${PGSSE_PREFIX:-/usr/local}
units=$build/etc/systemd
# The most exposure allowed, in tenths (systemd-analyze --threshold).
EXPOSURE_MAX=15
rc=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-systemd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

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
same_sockets pgsse-nginx.conf "$(sed -n -e 's/^ *fastcgi_pass unix:\([^;]*\);/\1/p' \
	-e 's/^ *server unix:\([^;]*\);/\1/p' \
	"$build/etc/nginx/pgsse-nginx.conf")"

# Runs systemd-analyze verify on unit; returns 0 if it said nothing.
verify() {
	if (cd "$(dirname "$1")" && systemd-analyze verify --man=no \
	    "./$(basename "$1")") >"$tmp/verify.out" 2>&1 &&
	    [ ! -s "$tmp/verify.out" ]; then
		return 0
	fi
	sed 's/^/  /' "$tmp/verify.out" >&2
	return 1
}

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: verify: no systemd-analyze"
	exit $rc
fi
if ! make -s -C "$build" install DESTDIR="$tmp/dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	fail "make install DESTDIR=$tmp/dest"
	exit $rc
fi
mkdir "$tmp/units"
for u in "$units"/*.service; do
	sed "s|$prefix/|$tmp/dest$prefix/|g" "$u" >"$tmp/units/$(basename "$u")"
	if verify "$tmp/units/$(basename "$u")"; then
		echo "ok: systemd-analyze verify $(basename "$u")"
	else
		fail "systemd-analyze verify $(basename "$u")"
	fi
	level=$(systemd-analyze security --offline=true "$u" 2>&1 |
		sed -n 's/.*Overall exposure level for \(.*\) [^ ]*$/\1/p')
	if systemd-analyze security --offline=true --threshold=$EXPOSURE_MAX \
	    "$u" >/dev/null 2>&1; then
		echo "ok: exposure $level"
	else
		fail "exposure $level, above $EXPOSURE_MAX/10"
	fi
done
one=$tmp/units/pgsse-stream.service
sed 's/^User=/Usr=/' "$one" >"$tmp/broken-key.service"
sed 's|/pgsse-stream |/pgsse-no-such-program |' "$one" >"$tmp/broken-exec.service"
for b in broken-key broken-exec; do
	if cmp -s "$one" "$tmp/$b.service"; then
		fail "$b: the unit did not change"
	elif verify "$tmp/$b.service" 2>/dev/null; then
		fail "systemd-analyze verify passed $b.service"
	else
		echo "ok: systemd-analyze verify fails $b.service:" \
			"$(head -n 1 "$tmp/verify.out")"
	fi
done
exit $rc
