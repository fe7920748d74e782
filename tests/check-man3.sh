#!/bin/sh
# Fails when a function that lib/pgsse.h or lib/pgsse-app.h declares has
# no section-3 page: every one needs a ".Fn name" (or ".Fo name") line in
# some docs/man/*.3. When mandoc is installed (or MANDOC names it), every
# page in docs/man must also pass `mandoc -Tlint -W warning` without a
# word.
set -u
here=$(dirname "$0")
src=${PGSSE_SRCDIR:-$here/..}
mandoc=${MANDOC:-mandoc}
rc=0

# The declared functions: a name followed by "(" but not "(*", which is
# a function-pointer typedef such as pgsse_route_fn. Comments go first,
# so that page names in them ("pgsse_buf(3)") are not taken for functions.
funcs=$(awk '
	{
		line = $0
		out = ""
		while (line != "") {
			if (incomment) {
				i = index(line, "*/")
				if (i == 0) { line = ""; break }
				line = substr(line, i + 2)
				incomment = 0
			} else {
				i = index(line, "/*")
				if (i == 0) { out = out line; line = ""; break }
				out = out substr(line, 1, i - 1) " "
				line = substr(line, i + 2)
				incomment = 1
			}
		}
		print out
	}' "$src/lib/pgsse.h" "$src/lib/pgsse-app.h" |
	grep -oE 'pgsse_[a-z0-9_]+[[:space:]]*\(([^*]|$)' |
	sed 's/[[:space:]]*(.*//' | sort -u)
if [ -z "$funcs" ]; then
	echo "FAIL: no functions found in $src/lib/pgsse.h and pgsse-app.h" >&2
	exit 1
fi

pages=
for f in "$src"/docs/man/*.3; do
	[ -f "$f" ] && pages="$pages $f"
done

missing=
n=0
for fn in $funcs; do
	n=$((n + 1))
	found=0
	for f in $pages; do
		if grep -qE "^\.F[no][[:space:]]+$fn([[:space:]]|\$)" "$f"; then
			found=1
			break
		fi
	done
	[ $found -eq 1 ] || missing="$missing $fn"
done
if [ -n "$missing" ]; then
	echo "FAIL: functions of the public headers without a .Fn line in docs/man/*.3:" >&2
	for fn in $missing; do
		echo "  $fn" >&2
	done
	rc=1
else
	echo "ok: all $n functions of pgsse.h and pgsse-app.h have a section-3 page"
fi

if command -v "$mandoc" >/dev/null 2>&1; then
	for f in "$src"/docs/man/*.[0-9]; do
		out=$("$mandoc" -Tlint -W warning "$f" 2>&1)
		status=$?
		if [ -n "$out" ] || [ $status -ne 0 ]; then
			echo "FAIL: mandoc -Tlint -W warning $f (status $status):" >&2
			printf '%s\n' "$out" >&2
			rc=1
		else
			echo "ok: $(basename "$f") passes mandoc -Tlint -W warning"
		fi
	done
else
	echo "skip: mandoc not found; the pages were not linted"
fi
exit $rc
