#!/bin/sh
# check-clone.sh: the README's build line, `./autogen.sh && ./configure
# && make`, on a clean clone. A clone has no www/vendor/ (htmx,
# htmx-ext-sse and Alpine.js, copied from npm packages) and no
# www/node_modules/:
#  1. without npm on PATH, configure stops and names the missing step;
#  2. with npm, the line works: make runs `npm ci` in www/ (from npm's
#     cache when it holds the packages) and fills www/vendor/;
#  3. with www/vendor/ there and no node_modules, as in the release
#     tarball, configure and make need no npm.
# The clone is the checkout's tracked files as they are now (git
# ls-files), edits included. Skipped outside a git checkout (distcheck)
# or without npm. About 15 s.
set -u
src=${PGSSE_SRCDIR:?}
# (distcheck's tree lies inside the checkout, but is not its top.)
if ! command -v git >/dev/null ||
    [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" != \
    "$(cd "$src" && pwd -P)" ]; then
	echo "not the top of a git checkout: skipped"
	exit 77
fi
command -v npm >/dev/null || { echo "no npm: skipped"; exit 77; }
# The nested builds are not part of the calling make's job server.
unset MAKEFLAGS MFLAGS MAKELEVEL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgsse-clone.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
clone=$tmp/clone
mkdir "$clone" "$tmp/nonpm"
git -C "$src" ls-files -z |
	(cd "$src" && tar --null --ignore-failed-read -T - -cf -) |
	(cd "$clone" && tar -xf -) || { echo "FAIL: cannot copy the checkout"; exit 1; }
# PATH without npm: every command on it but npm and npx, linked.
IFS=:
for d in $PATH; do
	for f in "$d"/*; do
		b=${f##*/}
		case $b in npm | npx) continue ;; esac
		[ -e "$tmp/nonpm/$b" ] || ln -s "$f" "$tmp/nonpm/$b"
	done
done
unset IFS
nonpm=$tmp/nonpm
rc=0
fail() { echo "FAIL: $*"; rc=1; }
vendor="htmx.min.js sse.js alpine.min.js"

cd "$clone" || exit 1
./autogen.sh >"$tmp/autogen.log" 2>&1 || { cat "$tmp/autogen.log"; exit 1; }

# 1. No npm, no www/vendor/: configure stops, naming npm and www/vendor/.
if PATH=$nonpm ./configure >"$tmp/configure1.log" 2>&1; then
	fail "configure went through without npm and without www/vendor/"
elif ! grep -q 'error:.*www/vendor/.*npm' "$tmp/configure1.log"; then
	fail "configure stopped without naming www/vendor/ and npm:"
	tail -n 3 "$tmp/configure1.log"
else
	grep 'error:' "$tmp/configure1.log"
fi

# 2. With npm: the README's line as it stands.
export npm_config_prefer_offline=true npm_config_audit=false npm_config_fund=false
if ! ./configure >"$tmp/configure2.log" 2>&1; then
	fail "configure with npm failed:"
	tail -n 3 "$tmp/configure2.log"
elif ! make -j2 >"$tmp/make2.log" 2>&1; then
	fail "make with npm failed:"
	grep -E 'Error|error|No rule' "$tmp/make2.log" | head -n 5
else
	for f in $vendor; do
		[ -s "www/vendor/$f" ] || fail "make left no www/vendor/$f"
	done
	cmp -s www/node_modules/htmx.org/dist/htmx.min.js www/vendor/htmx.min.js ||
		fail "www/vendor/htmx.min.js is not the npm package's"
fi

# 3. www/vendor/ there, no node_modules, no npm: the release tarball's
# case. configure goes through and make has nothing to get from npm.
if [ $rc -eq 0 ]; then
	rm -rf www/node_modules
	if ! PATH=$nonpm ./configure >"$tmp/configure3.log" 2>&1; then
		fail "configure without npm failed though www/vendor/ is there:"
		tail -n 3 "$tmp/configure3.log"
	elif ! PATH=$nonpm make -j2 >"$tmp/make3.log" 2>&1; then
		fail "make without npm failed though www/vendor/ is there:"
		tail -n 5 "$tmp/make3.log"
	fi
fi
exit $rc
