#!/bin/sh
# check-guide.sh: docs/GUIDE.md, done as a reader would. Installs pgsse
# with `make install DESTDIR=...`, then runs every ```sh block of the
# guide in order, in a folder outside the tree, with the installed
# programs first on PATH. At each <!-- check: NAME --> it drives the
# page in headless Chromium (tests/browser/guide.mjs NAME). The
# processes that serve the app must be the same ones before the guide
# adds its channel and after the browser saw that channel's events.
set -eu
src=${PGSSE_SRCDIR:?}
build=${PGSSE_BUILDDIR:?}
node=${NODE:-node}
command -v "$node" >/dev/null || { echo "no node: skipped"; exit 77; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no chromium: skipped"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-guide.XXXXXX")
chmod 755 "$tmp"	# the cluster's owner (root's "pgsse" user) goes through
work=$tmp/work
mkdir "$work"
cleanup() {
	rc=$?
	if [ -d "$work/shop/.run" ]; then
		(cd "$work" && pgsse-serve shop stop >/dev/null 2>&1) || true
	fi
	if [ $rc -ne 0 ] && [ -f "$work/shop/.run/web/lighttpd-error.log" ]; then
		tail -n 30 "$work/shop/.run/web/lighttpd-error.log" "$work/shop/.run/runner.log"
	fi
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT INT TERM

make -s -C "$build" install DESTDIR="$tmp/dest" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
new=$(find "$tmp/dest" -path '*/bin/pgsse-new' | head -n 1)
prefix=$(dirname "$(dirname "$new")")
PGSSE_BINDIR=$prefix/bin PGSSE_CGIBIN=$prefix/libexec/pgsse
PGSSE_DATADIR=$prefix/share/pgsse PGSSE_EXAMPLES=$prefix/share/pgsse/examples
LD_LIBRARY_PATH=$prefix/lib PATH=$prefix/bin:$PATH
export PGSSE_BINDIR PGSSE_CGIBIN PGSSE_DATADIR PGSSE_EXAMPLES LD_LIBRARY_PATH PATH
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGSSE_URL=http://127.0.0.1:$PORT
export PORT PGSSE_URL

# The serving processes: lighttpd, the programs it spawned, the runner.
pids() {
	l=$(cat "$work/shop/.run/web/lighttpd.pid")
	echo "$l $(pgrep -P "$l" | sort -n | tr '\n' ' ')$(cat "$work/shop/.run/runner.pid")"
}

# The guide as steps: "sh FILE" for a block, "check NAME" for a check.
awk -v dir="$tmp" '
	/^<!-- check: [a-z]+ -->$/ { print "check " $3; next }
	/^```sh$/ { n++; f = sprintf("%s/step%02d.sh", dir, n); print "sh " f; inblock = 1; next }
	inblock && /^```$/ { inblock = 0; close(f); next }
	inblock { print > f }
' "$src/docs/GUIDE.md" >"$tmp/steps"
[ "$(grep -c '^sh ' "$tmp/steps")" -ge 8 ] || { echo "GUIDE.md: too few sh blocks"; exit 1; }
grep -q '^check orders$' "$tmp/steps" || { echo "GUIDE.md: no orders check"; exit 1; }

before=
while read -r kind arg; do
	case $kind in
	sh)
		if grep -q 'cat >shop/registry.json' "$arg"; then
			before=$(pids)
		fi
		echo "== $(head -n 1 "$arg")"
		(cd "$work" && sh -eu "$arg") || { echo "FAIL: guide step $arg:"; cat "$arg"; exit 1; }
		;;
	check)
		PGSSE_SRCDIR=$src "$node" "$src/tests/browser/guide.mjs" "$arg"
		if [ "$arg" = orders ]; then
			after=$(pids)
			[ -n "$before" ] || { echo "FAIL: the guide never wrote registry.json"; exit 1; }
			if [ "$before" != "$after" ]; then
				echo "FAIL: processes changed: before [$before] after [$after]"
				exit 1
			fi
			echo "ok: the same processes served the app throughout: $after"
		fi
		;;
	esac
done <"$tmp/steps"
