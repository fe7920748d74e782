#!/bin/sh
# The differential test of the Mustache engine (lib/mustache.c) against
# mustache.js 4.2.0: the cases written in tests/mustache/*.json and those
# tests/mustache/gen.js makes from a fixed seed are rendered by both
# (tests/mustache/render.js, tests/mustache_render.c), which must agree
# to the byte, or both refuse the template. Skipped (77) without node or
# mustache.js (PGSSE_NODE_MODULES, else www/node_modules: npm ci in www/).
set -u
src=${PGSSE_SRCDIR:-.}
build=${PGSSE_BUILDDIR:-.}
PGSSE_NODE_MODULES=${PGSSE_NODE_MODULES:-$src/www/node_modules}
export PGSSE_NODE_MODULES
if ! command -v node >/dev/null 2>&1 ||
	[ ! -f "$PGSSE_NODE_MODULES/mustache/mustache.js" ]; then
	echo "SKIP: needs node and $PGSSE_NODE_MODULES/mustache"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-mustache.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
node "$src/tests/mustache/gen.js" "$tmp" || exit 1
node "$src/tests/mustache/render.js" "$src"/tests/mustache/*.json \
	"$tmp"/gen-*.json >"$tmp/expected.json" || exit 1
"$build/tests/mustache_render" "$tmp/expected.json" \
	"$src"/tests/mustache/*.json "$tmp"/gen-*.json
