#!/bin/sh
# Builds the libFuzzer targets with clang (ASan and UBSan) and runs each
# for SECONDS (60 by default) from its committed corpus. New inputs go to
# a scratch corpus; a crash leaves crash-* files and fails the run: copy
# the reproducer into tests/fuzz/corpus/<target>/ as a regression test.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/pgsse-fuzz.XXXXXX")}
cc=${CLANG:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$src/lib -I$src/tests $(pkg-config --cflags libpq json-c libcrypto)"
libs="$(pkg-config --libs libpq json-c libcrypto)"
common="$src/lib/buf.c $src/lib/name.c $src/lib/log.c"
build() {
	name=$1; shift
	# shellcheck disable=SC2086
	$cc $flags -o "$out/fuzz_$name" "$src/tests/fuzz/fuzz_$name.c" $common "$@" $libs
}
build query "$src/lib/query.c"
build sse "$src/lib/sse.c" "$src/tests/sseparse.c"
build notify "$src/lib/notify.c" "$src/lib/registry.c" "$src/lib/utf8.c"
build html "$src/lib/html.c"
build cursor "$src/lib/cursor.c"
build fcgi "$src/lib/fcgi.c" "$src/tests/fcgiparse.c"
build cookie "$src/lib/cookie.c"
build route "$src/lib/route.c"
build csrf "$src/lib/csrf.c" "$src/lib/cookie.c"
build mustache "$src/lib/mustache.c" "$src/lib/htmlctx.c" "$src/lib/html.c"
build redact "$src/lib/redact.c"
build fcgi_in "$src/lib/fcgi.c"
build fcgi_req "$src/lib/fcgi.c"
# The loader serves through app.c, which needs the rest of the library.
libs="$libs -lfcgi"
# shellcheck disable=SC2046
build appdef $(for f in "$src"/lib/*.c; do
	case $f in */buf.c|*/name.c|*/log.c) ;; *) echo "$f" ;; esac
done)
rc=0
for t in query sse notify html cursor fcgi cookie route csrf mustache appdef redact fcgi_in fcgi_req; do
	mkdir -p "$out/corpus-$t"
	echo "== fuzz_$t for ${secs}s"
	if ! (cd "$out" && ./fuzz_$t -max_total_time="$secs" -max_len=8192 \
		-print_final_stats=1 "corpus-$t" "$src/tests/fuzz/corpus/$t" 2>&1 |
		tail -n 12); then
		rc=1
	fi
	for f in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
		[ -e "$f" ] || continue
		echo "fuzz_$t found a failure: $f"
		mv "$f" "$out/$t-$(basename "$f")"
		rc=1
	done
done
exit $rc
