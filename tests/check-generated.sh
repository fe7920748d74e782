#!/bin/sh
# Fails when a file generated from sql/registry.json differs from what
# the registry generates now: run `make regen` after editing the registry,
# and never edit the generated files by hand.
set -u
src=${PGSSE_SRCDIR:-.}
build=${PGSSE_BUILDDIR:-.}
tool=$build/bin/pgsse-registry
rc=0
check() {
	what=$1 file=$2
	if ! "$tool" "$what" "$src/sql/registry.json" | diff -u "$src/$file" - >&2; then
		echo "FAIL: $file differs from sql/registry.json; run make regen" >&2
		rc=1
	else
		echo "ok: $file matches sql/registry.json"
	fi
}
"$tool" check "$src/sql/registry.json" || exit 1
check docs docs/SSE_EVENTS.md
check js www/js/channel-events.js
exit $rc
