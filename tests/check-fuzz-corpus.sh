#!/bin/sh
# Runs every fuzz target over its committed corpus (tests/fuzz/corpus/),
# which also holds every crash a fuzzer ever found: regression tests for
# the parsers, built without libFuzzer. `make fuzz` does the fuzzing.
set -u
src=${PGSSE_SRCDIR:-.}
build=${PGSSE_BUILDDIR:-.}
rc=0
for t in query sse notify html cursor fcgi cookie route csrf mustache appdef redact fcgi_in fcgi_req; do
	if "$build/tests/fuzz_$t" "$src"/tests/fuzz/corpus/$t/*; then
		echo "ok: fuzz_$t corpus"
	else
		echo "FAIL: fuzz_$t on its corpus"
		rc=1
	fi
done
exit $rc
