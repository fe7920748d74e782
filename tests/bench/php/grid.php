<?php
// W5's peer (tests/bench/w5.sh): /demos/grid in PHP-FPM, the way a user
// would write it without pgsse. It runs the demo's SQL (w5.sh puts
// demo/sql/grid.sql in place of the marker below) with
// pg_query_params on a persistent connection (pg_pconnect, one per
// FPM worker; libpq's PG* variables say where), and writes the markup
// of demo/templates/grid.html, escaped as pgsse's Mustache does, so
// that the bodies are the same bytes.
const GRID_SQL = <<<'SQL'
@GRID_SQL@
SQL;

// pgsse's HTML escape (lib/html.c): & < > " ' / ` and =.
function h(string $s): string
{
	return strtr($s, ['&' => '&amp;', '<' => '&lt;', '>' => '&gt;',
	    '"' => '&quot;', "'" => '&#39;', '/' => '&#x2F;', '`' => '&#x60;',
	    '=' => '&#x3D;']);
}

// A URL part as pgsse's urlpart escape writes it (lib/mustache.c): all
// but A-Z a-z 0-9 - _ . ! ~ * ' ( ) percent-encoded, then HTML-escaped.
function urlpart(string $s): string
{
	return h(preg_replace_callback("/[^A-Za-z0-9\\-_.!~*'()]/",
	    fn($m) => sprintf('%%%02X', ord($m[0])), $s));
}

$db = pg_pconnect('');
$res = $db === false ? false : pg_query_params($db, GRID_SQL, []);
if ($res === false) {
	header('Status: 503 Service Unavailable');
	header('Content-Type: text/plain; charset=utf-8');
	echo "database unavailable\n";
	exit;
}
header('Content-Type: text/html; charset=utf-8');
header('Cache-Control: no-store');
header('X-Content-Type-Options: nosniff');
$out = '';
while (($r = pg_fetch_assoc($res)) !== false) {
	$id = urlpart($r['id']);
	$on = $r['installed'] === 't';
	$out .= '<article class="demo" id="demo-' . $id .
	    '" data-installed="' . ($on ? 'true' : 'false') . '"><h3>' .
	    h($r['name']) . '</h3><p>' . h($r['description']) . '</p>' .
	    ($on ? '<span class="badge on">installed</span><button ' .
	    'class="secondary" hx-post="/demos/' . $id . '/uninstall" ' .
	    'hx-target="#jobs" hx-swap="afterbegin" hx-disabled-elt="this">' .
	    'Uninstall</button>' : '<span class="badge off">not installed' .
	    '</span><button class="" hx-post="/demos/' . $id . '/install" ' .
	    'hx-target="#jobs" hx-swap="afterbegin" hx-disabled-elt="this">' .
	    'Install</button>') . "</article>\n";
}
pg_free_result($res);
echo $out;
