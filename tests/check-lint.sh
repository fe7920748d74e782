#!/bin/sh
# The consistency check (bin/pgsse-lint): the real pages, scripts and
# publishers pass, and every small bad file in tests/data/lint fails at
# the line its first lines name ("expect: N").
set -u
src=${PGSSE_SRCDIR:-.}
build=${PGSSE_BUILDDIR:-.}
lint=$build/bin/pgsse-lint
reg=$src/sql/registry.json
rc=0
if "$lint" "$reg" "$src"/www/*.html "$src"/www/js/*.js "$src"/sql/*.sql \
	"$src"/bin/*.c "$src"/cgi-bin/*.c "$src"/demo/schema.sql \
	"$src"/demo/jobs/* "$src"/demo/bin/*; then
	echo "ok: www, sql, bin, cgi-bin and demo agree with the registry"
else
	echo "FAIL: the tree does not agree with the registry"
	rc=1
fi
for f in "$src"/tests/data/lint/*; do
	line=$(head -n 2 "$f" | sed -n 's/.*expect: \([0-9]*\).*/\1/p')
	out=$("$lint" "$reg" "$f" 2>&1)
	status=$?
	if [ $status -eq 1 ] && printf '%s\n' "$out" | grep -q "^$f:$line: "; then
		echo "ok: $(basename "$f") fails at line $line"
	else
		echo "FAIL: $(basename "$f") (status $status), expected an error at line $line:"
		printf '%s\n' "$out"
		rc=1
	fi
done
exit $rc
