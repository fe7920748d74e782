#!/bin/sh
# Runs the stream program's end-to-end test (tests/check_stream) with
# every pgsse-stream that lighttpd starts running under valgrind's
# memcheck. Each process's report must end with no errors and nothing
# definitely lost. Run from a configured, built tree.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PGSSE_BUILDDIR:-$(pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-vg.XXXXXX")
chmod 755 "$tmp"
mkdir "$tmp/cgi-bin" "$tmp/logs"
chmod 777 "$tmp/logs"
cat >"$tmp/cgi-bin/pgsse-stream" <<WRAP
#!/bin/sh
exec "$build/libtool" --mode=execute valgrind --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --log-file="$tmp/logs/vg.%p" "$build/cgi-bin/pgsse-stream" "\$@"
WRAP
ln -s "$build/cgi-bin/pgsse-app" "$tmp/cgi-bin/pgsse-app"
chmod 755 "$tmp/cgi-bin/pgsse-stream"
rc=0
PGSSE_CGIBIN="$tmp/cgi-bin" make -C "$build" check TESTS=tests/check_stream \
    || { cat "$build/tests/check_stream.log"; rc=1; }
n=0
for f in "$tmp/logs"/vg.*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	echo "$(basename "$f"): $(grep -E "definitely lost|ERROR SUMMARY|in use at exit" "$f" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
	if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
		echo "== $f"; cat "$f"; rc=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "valgrind: no pgsse-stream ran under valgrind"; rc=1
fi
[ $rc -ne 0 ] || echo "valgrind: $n pgsse-stream processes, no errors, nothing definitely lost"
[ $rc -ne 0 ] || rm -rf "$tmp"
exit $rc
