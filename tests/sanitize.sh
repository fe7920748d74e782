#!/bin/sh
# Builds a second copy of the committed tree with --enable-sanitizers
# (ASan and UBSan) and runs the whole suite. Every report from every
# process, the FastCGI programs that the web servers spawn included,
# goes to one folder, which must stay empty.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-san.XXXXXX")
chmod 755 "$tmp"
mkdir "$tmp/src" "$tmp/logs"
chmod 777 "$tmp/logs"
git -C "$src" archive HEAD | tar -x -C "$tmp/src"
cp -r "$src/www/vendor" "$tmp/src/www/"
cd "$tmp/src"
./autogen.sh >/dev/null 2>&1
./configure -q --enable-sanitizers
make -j"$(nproc)" >/dev/null
export ASAN_OPTIONS="log_path=$tmp/logs/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$tmp/logs/ubsan:print_stacktrace=1"
rc=0
make check PGSSE_NODE_MODULES="$src/www/node_modules" || { cat test-suite.log; rc=1; }
if [ -n "$(ls "$tmp/logs")" ]; then
	echo "sanitizer reports:"
	for f in "$tmp/logs"/*; do echo "== $f"; cat "$f"; done
	rc=1
else
	echo "sanitizers: no reports"
fi
[ $rc -ne 0 ] || rm -rf "$tmp"
exit $rc
