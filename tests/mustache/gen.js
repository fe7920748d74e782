// gen.js: random Mustache cases for the differential test against
// mustache.js (tests/check-mustache.sh), from a small grammar and a
// fixed seed, so every run makes the same cases. Usage:
//	node gen.js DIR [COUNT]
// writes DIR/gen-SECTION.json, COUNT cases (300 by default) for each of
// interpolation, sections, inverted, comments, partials and delimiters:
// [{"name", "template", "data", "partials"}]. Partials that mustache.js
// cannot parse are made again: it parses them only when it renders them,
// we parse them with the template.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.env.PGSSE_NODE_MODULES ||
	path.join(__dirname, '..', '..', 'www', 'node_modules');
const Mustache = require(path.join(modules, 'mustache'));

// mulberry32: a small PRNG with a 32-bit state.
let state = 0x5eed1234;
function rand() {
	state = (state + 0x6d2b79f5) | 0;
	let t = state;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rand() < p;

const KEYS = ['a', 'b', 'c', 'list', 'obj', 's', 'n', 't', 'f', 'z', 'e',
	'nil', 'length'];
const NAMES = KEYS.concat(['.', 'missing', 'obj.a', 'obj.b', 'obj.list',
	'list.0', 'list.1', 'list.length', 'a.b', 's.length', 'obj.obj.a',
	'list.0.a', 'obj.missing', 'missing.a']);
const STRINGS = ['', '0', 'x', 'hello world', '<b>bold</b>', 'a & b',
	'"quoted"', "it's", 'a/b', 'k=v', '`tick`', 'caf\u00e9', '\u4e2d\u6587',
	'ab\ud83d\ude00', 'line\nbreak', 'tab\there', ' padded ', '{{x}}',
	'\u2028'];
const NUMBERS = [0, 1, -1, 42, 2147483648, 9007199254740991, 1.5, -0.25,
	0.1, 3.14159, 1e21, 1e-7, 123456.789, 1e300, 6.02e23, 2.5e-5, 100];
const TEXTS = ['x', 'hello', ' ', '  ', '\n', '\r\n', '\t', ' \n', '<b>',
	'&', '"q"', "'", '/', '=', '`', '\u00e9', '\u4e2d', '\ud83d\ude00',
	'\u00a0', '{ ', ' }', ' } { ', 'a b\nc', '\n\n', ' - ', '\n  ', '\n\t'];
const SPACES = ['', '', '', ' ', '  ', '\t'];
const INDENTS = ['', ' ', '  ', '\t', ' \t', '\u00a0'];
const DELIMS = [['<%', '%>'], ['|', '|'], ['[[', ']]'], ['(', ')'],
	['<<', '>>'], ['{{', '}}'], ['@', '#'], ['{%', '%}']];

function scalar() {
	switch (int(4)) {
	case 0: return pick(STRINGS);
	case 1: return pick(NUMBERS);
	case 2: return chance(0.5);
	default: return null;
	}
}

// No null in arrays: mustache.js fails on a name looked up in a null
// view ("Cannot read properties of null"), where we look further up.
function value(depth) {
	const k = depth > 0 ? int(6) : 0;
	if (k === 4) {
		const a = [];
		for (let i = int(4); i > 0; i--) {
			const v = value(depth - 1);
			a.push(v === null ? 0 : v);
		}
		return a;
	}
	if (k === 5)
		return object(depth - 1);
	return scalar();
}

function object(depth) {
	const o = {};
	for (const k of KEYS)
		if (chance(0.5))
			o[k] = value(depth);
	return o;
}

function data() {
	const o = object(3);
	if (chance(0.5))
		o.list = [object(1), object(1), scalar() ?? 1];
	return o;
}

// The generator's state for one template: delimiters in force, and
// what each section may hold.
let open = '{{';
let close = '}}';
let kinds = [];
let texts = TEXTS;

function tag(body) {
	return open + body + close;
}

function name() {
	return pick(SPACES) + pick(NAMES) + pick(SPACES);
}

// Maybe puts a tag alone on a line, for the standalone rules.
function line(t) {
	if (!chance(0.35))
		return t;
	return pick(['\n', '\r\n', '']) + pick(INDENTS) + t +
	    pick(INDENTS) + pick(['\n', '\r\n', '']);
}

function item(depth, partials) {
	const k = pick(kinds);
	switch (k) {
	case 'var':
		return tag(name());
	case 'raw':
		if (chance(0.5) && open === '{{' && close === '}}')
			return '{{{' + name() + '}}}';
		return tag('&' + name());
	case 'section':
	case 'inverted': {
		if (depth >= 3)
			return tag(name());
		const n = pick(NAMES);
		return line(tag((k === 'section' ? '#' : '^') + pick(SPACES) +
		    n + pick(SPACES))) + body(depth + 1, partials) +
		    line(tag('/' + pick(SPACES) + n));
	}
	case 'comment':
		return line(tag('!' + pick(['', ' c ', ' a\nb ', ' { ',
		    ' } ', '!'])));
	case 'partial':
		if (partials.length === 0)
			return pick(texts);
		return line(tag('>' + pick(SPACES) + pick(partials) +
		    pick(SPACES)));
	case 'delims': {
		const d = pick(DELIMS);
		const t = tag('=' + pick(['', ' ']) + d[0] + pick([' ', '  ']) +
		    d[1] + pick(['', ' ']) + '=');
		open = d[0];
		close = d[1];
		return line(t);
	}
	default:
		return pick(texts);
	}
}

function body(depth, partials) {
	let s = '';
	for (let i = 1 + int(5); i > 0; i--)
		s += item(depth, partials);
	return s;
}

// A template, and the partials it may use; partial i may include only
// those after it, so that inclusion ends.
function template(partials) {
	open = '{{';
	close = '}}';
	return body(0, partials);
}

function partial(names) {
	for (;;) {
		const t = template(names);
		try {
			Mustache.parse(t);
			return t;
		} catch (e) {
			continue;
		}
	}
}

const SECTIONS = {
	interpolation: ['var', 'var', 'raw', 'text', 'text'],
	sections: ['var', 'section', 'section', 'text', 'text', 'comment'],
	inverted: ['var', 'inverted', 'inverted', 'section', 'text', 'text'],
	comments: ['comment', 'comment', 'var', 'text', 'text', 'section'],
	partials: ['partial', 'partial', 'var', 'section', 'text', 'text'],
	delimiters: ['delims', 'var', 'raw', 'section', 'text', 'comment'],
};

function cases(section, count) {
	const out = [];
	kinds = SECTIONS[section];
	texts = section === 'delimiters' ?
	    TEXTS.filter((t) => !/[{}<>|[\]()@#%]/.test(t)) : TEXTS;
	for (let i = 0; i < count; i++) {
		const c = { name: section + ' ' + i };
		if (section === 'partials') {
			const names = ['p', 'q', 'r'];
			c.partials = {};
			for (let j = names.length - 1; j >= 0; j--)
				c.partials[names[j]] = partial(names.slice(j + 1));
			c.template = template(names.concat(['none']));
		} else
			c.template = template([]);
		// A character less now and then: malformed templates, which
		// both must refuse.
		if (chance(0.1)) {
			const i = int(c.template.length);
			c.template = c.template.slice(0, i) +
			    c.template.slice(i + 1);
		}
		c.data = data();
		out.push(c);
	}
	return out;
}

const dir = process.argv[2];
const count = Number(process.argv[3] || 300);
for (const s of Object.keys(SECTIONS))
	fs.writeFileSync(path.join(dir, 'gen-' + s + '.json'),
	    JSON.stringify(cases(s, count), null, 0) + '\n');
