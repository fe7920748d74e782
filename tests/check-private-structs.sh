#!/bin/sh
# Private structs stay private: the hub, the pump, the pool and a client
# have their bodies in their own .c file only (lib/hub.c, lib/pump.c,
# lib/pool.c, lib/client.c), so no other module can read their fields,
# and lib/extern.h declares functions, not data: it holds no struct or
# union body at all (shared data types live in small per-module headers
# such as lib/registry.h). Searches the C files under lib/, cgi-bin/,
# bin/ and tests/.
set -u
src=${PGSSE_SRCDIR:-.}
rc=0

# Prints "file:line: text" for each struct or union body whose tag
# matches the extended regex $1 in the files named after it; the brace
# may open on the next line.
bodies() {
	tag=$1
	shift
	awk -v tag="$tag" '
	FNR == 1 { prev = "" }
	{
		line = $0
		sub(/\/\/.*/, "", line)
		re = "(^|[^[:alnum:]_])(struct|union)[[:space:]]+" tag
		if (line ~ (re "[[:space:]]*\\{"))
			print FILENAME ":" FNR ": " $0
		else if (line ~ /^[[:space:]]*\{/ && prev ~ (re "[[:space:]]*$"))
			print FILENAME ":" FNR - 1 ": " prev
		prev = line
	}' "$@"
}

files=$(find "$src/lib" "$src/cgi-bin" "$src/bin" "$src/tests" \
	-type f \( -name '*.c' -o -name '*.h' \) | sort)
for mod in hub pump pool client; do
	own=$src/lib/$mod.c
	# shellcheck disable=SC2086 # one word per file: no spaces in paths
	out=$(bodies "pgsse_$mod" $files | grep -v "^$own:")
	if [ -n "$out" ]; then
		echo "FAIL: struct pgsse_$mod has its body outside lib/$mod.c:"
		printf '%s\n' "$out"
		rc=1
	else
		echo "ok: struct pgsse_$mod has its body in lib/$mod.c only"
	fi
done

out=$(bodies '([[:alpha:]_][[:alnum:]_]*)?' "$src/lib/extern.h")
if [ -n "$out" ]; then
	echo "FAIL: lib/extern.h holds struct bodies (move each to its module's header or .c file):"
	printf '%s\n' "$out"
	rc=1
else
	echo "ok: lib/extern.h holds no struct body"
fi
exit $rc
