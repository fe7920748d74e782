// render.js: mustache.js's half of the differential test
// (tests/check-mustache.sh). Usage: node render.js CASES...
// Writes, for each file of cases in order, an array with {"out": text}
// or {"error": message} per case: the template rendered by mustache.js
// from node_modules (PGSSE_NODE_MODULES, else www/node_modules).
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.env.PGSSE_NODE_MODULES ||
	path.join(__dirname, '..', '..', 'www', 'node_modules');
const Mustache = require(path.join(modules, 'mustache'));

const out = process.argv.slice(2).map((file) =>
	JSON.parse(fs.readFileSync(file, 'utf8')).map((c) => {
		try {
			return { out: Mustache.render(c.template, c.data,
				c.partials || {}) };
		} catch (e) {
			return { error: String(e.message) };
		}
	}));
process.stdout.write(JSON.stringify(out));
