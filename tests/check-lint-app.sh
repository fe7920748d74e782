#!/bin/sh
# pgsse-lint --app: the demo and the small app folder tests/lint/app
# pass, and each copy of tests/lint/app with one mistake (made here with
# sed) fails with the finding that names the mistake's file and line.
set -u
src=${PGSSE_SRCDIR:-.}
build=${PGSSE_BUILDDIR:-.}
lint=$build/bin/pgsse-lint
app=$src/tests/lint/app
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
if out=$("$lint" --app "$app" 2>&1); then
	echo "ok: tests/lint/app passes"
else
	echo "FAIL: tests/lint/app does not pass:"
	printf '%s\n' "$out"
	rc=1
fi

# The demo is an app folder like any other.
if out=$("$lint" --app "$src/demo" 2>&1); then
	echo "ok: demo passes"
else
	echo "FAIL: demo does not pass:"
	printf '%s\n' "$out"
	rc=1
fi

# fails NAME COMMAND FINDING: a copy of the app changed by COMMAND (run
# in it) fails with the line FINDING, its file relative to the copy.
fails() {
	d=$tmp/$1
	cp -R "$app" "$d"
	chmod -R u+w "$d"	# distcheck's source tree is read-only
	(cd "$d" && eval "$2")
	out=$("$lint" --app "$d" 2>&1)
	status=$?
	if [ $status -eq 1 ] && printf '%s\n' "$out" | grep -qxF "$d/$3"; then
		echo "ok: $1"
	else
		echo "FAIL: $1 (status $status), expected $3:"
		printf '%s\n' "$out"
		rc=1
	fi
}

fails sse-trigger "sed -i 's/sse:created/sse:creatd/' templates/list.html" \
	'templates/list.html:1: sse event "creatd" is not documented for the channels of its sse-connect'
fails sse-template-any "sed -i 's/sse:orders.shipped/sse:orders.sent/' templates/order.html" \
	'templates/order.html:8: sse event "orders.sent" is not documented on any channel'
fails sse-connect "sed -i 's/channel=stock/channel=stocks/' www/index.html" \
	'www/index.html:8: sse-connect to unknown channel "stocks"'
fails sse-core-job "sed -i 's/sse-swap=\"progress\"/sse-swap=\"progres\"/' templates/order.html" \
	'templates/order.html:5: sse event "progres" is not documented for the channels of its sse-connect'
fails sse-multi "sed -i 's/sse:orders.created/sse:created/' www/index.html" \
	'www/index.html:9: sse event "created" is not documented for the channels of its sse-connect; a stream of several channels names it <channel>.<event>'
fails hx-get-route "sed -i 's|hx-get=\"/orders/{{id}}\" hx-target|hx-get=\"/order/{{id}}\" hx-target|' templates/row.html" \
	'templates/row.html:1: hx-get target "/order/{{id}}" matches no route of app.json'
fails hx-get-page "sed -i 's|/stock.html|/stocks.html|' www/index.html" \
	'www/index.html:10: hx-get target "/stocks.html" matches no route of app.json'
fails hx-post-method "sed -i 's|hx-post=\"/orders/add\"|hx-post=\"/orders/list\"|' www/index.html" \
	'www/index.html:11: hx-post target "/orders/list" is a route of app.json for GET, not POST'
fails hx-delete "sed -i 's|hx-post=\"/orders/{{id}}/restock\"|hx-delete=\"/orders/{{id}}/restock\"|' templates/row.html" \
	'templates/row.html:2: hx-delete target "/orders/{{id}}/restock" is a route of app.json for POST, not DELETE'
fails htmx-trigger "sed -i 's/ordersChanged/orderChanged/' www/js/board.js" \
	'www/js/board.js:3: htmx.trigger of "orderChanged", which no hx-trigger listens for'
fails htmx-trigger-inline "sed -i 's/listStale\"/listStal\"/' www/index.html" \
	"www/index.html:14: htmx.trigger of \"listStale\", which no hx-trigger listens for"
fails kind-no-script "sed -i \"s/('restock'/('restack'/\" schema.sql" \
	'schema.sql:6: job kind "restack" has no script jobs/restack'
fails kind-not-inserted "sed -i \"s/web_enqueue('ship'/web_enqueue('shipp'/\" app.json" \
	'app.json:12: enqueues job kind "shipp", which schema.sql does not insert into pgsse.job_kinds'
fails script-no-kind "cp jobs/ship jobs/extra" \
	'jobs/extra:1: job script of no kind: schema.sql inserts no job kind "extra" into pgsse.job_kinds, and nothing enqueues it'
fails script-not-executable "chmod a-x jobs/restock" \
	'jobs/restock:1: job script is not executable'
fails publish-option-type "sed -i 's/-n percent=50/-s percent=50/' jobs/ship" \
	'jobs/ship:4: field "percent" of job.progress is integer, not string'
fails publish-field "sed -i 's/-s title=/-s titel=/' jobs/ship" \
	'jobs/ship:6: publishes field "titel", which orders.created does not document'
fails publish-missing "sed -i 's/-s title=\"\$PGSSE_ARG_title\" //' jobs/ship" \
	'jobs/ship:6: publishes orders.created without its field "title"'
fails publish-event "sed -i 's/orders created/orders create/' jobs/ship" \
	'jobs/ship:6: publishes undocumented event "create" on channel "orders"'
fails publish-channel "sed -i 's/stock changed >/stocks changed >/' jobs/restock" \
	'jobs/restock:4: publishes on unknown channel "stocks"'
fails publish-json-arg "sed -i 's/\"count\": 3/\"count\": 3.5/' jobs/restock" \
	'jobs/restock:5: field "count" of stock.changed is integer, not number'
fails publish-sql-type "sed -i 's/\"late\": false/\"late\": \"no\"/' jobs/ship" \
	'jobs/ship:8: field "late" of orders.shipped is boolean, not string'
fails engine-escaper "sed -i 's/<li id=/<li onclick=\"pick({{id}})\" id=/' templates/row.html" \
	"templates/row.html:1: \"id\" in the script attribute \"onclick\" needs an escaper: declare it json (the template of GET /orders/list at $tmp/engine-escaper/app.json:3) (column 19)"
fails registry "sed -i 's/{\"sku\"/{\"s-ku\"/' registry.json" \
	'registry.json:1: bad field "s-ku" in "changed"'
exit $rc
