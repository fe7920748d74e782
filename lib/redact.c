/*
 * redact.c: passwords out of everything pgsse prints.
 *
 * A conninfo is libpq's key=value pairs or a postgresql:// (or
 * postgres://) URI. Its secrets are the values of password and
 * sslpassword, and a URI's password: "user:SECRET@host", or a
 * "password=SECRET" parameter. The scanner here is careful rather than
 * exact: it also reads malformed strings, which libpq refuses while
 * quoting pieces of them in its error, and takes too much rather than
 * too little (a password key with no '=' hides the rest of the
 * string; a URI's password runs from the first ':' of its user
 * information to the last '@' before the path or the parameters, and,
 * in messages, to the first '@' too, as libpq reads it).
 *
 * pgsse_redact_conninfo prints a conninfo with each secret replaced
 * by PGSSE_REDACTED. pgsse_redact_message copies a message (libpq's
 * error about that conninfo) with every appearance of a secret, as
 * written or decoded, and of PGPASSWORD's value, replaced the same way;
 * secrets shorter than REDACT_MIN bytes are left, or every message
 * would lose its letters, and a conninfo with REDACT_SPANS secrets or
 * more hides the whole message.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgsse.h"
#include "extern.h"

/* Shortest secret masked in messages. */
#define REDACT_MIN 4
/* Most secrets looked for in one conninfo. */
#define REDACT_SPANS 16

/* A secret: bytes [off, off + len) of the conninfo. */
struct span {
	size_t	 off;
	size_t	 len;
};

/* Says if the key of klen bytes at k names a secret. */
static int
redact_key(const char *k, size_t klen)
{
	return (klen == 8 && strncasecmp(k, "password", 8) == 0) ||
	    (klen == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

/*
 * Says if the URI parameter name of klen bytes at k names a secret once
 * its %XX escapes are decoded, as libpq decodes it. A name that does
 * not decode is taken for a secret: its value is hidden either way.
 */
static int
redact_uri_key(const char *k, size_t klen)
{
	char		 name[sizeof("sslpassword")];
	size_t		 i, n = 0;
	unsigned int	 c;

	for (i = 0; i < klen; i++, n++) {
		if (n == sizeof(name) - 1)
			return 0;	/* longer than any secret's name */
		if (k[i] != '%') {
			name[n] = k[i];
			continue;
		}
		if (i + 2 >= klen || !isxdigit((unsigned char)k[i + 1]) ||
		    !isxdigit((unsigned char)k[i + 2]) ||
		    sscanf(k + i + 1, "%2x", &c) != 1)
			return 1;
		name[n] = (char)c;
		i += 2;
	}
	return redact_key(name, n);
}

/*
 * Adds [off, off + len) of z to sp (of *n). Past REDACT_SPANS the last
 * one runs to the end of z instead, which hides the rest.
 */
static void
redact_add(const char *z, struct span *sp, size_t *n, size_t off,
    size_t len)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (sp[i].off == off && sp[i].len == len)
			return;
	if (len == 0)
		return;
	if (*n == REDACT_SPANS) {
		sp[*n - 1].len = strlen(z) - sp[*n - 1].off;
		return;
	}
	sp[*n].off = off;
	sp[*n].len = len;
	(*n)++;
}

/* Finds the secrets of a key=value conninfo z. Returns how many. */
static size_t
redact_kv(const char *z, struct span *sp)
{
	const char	*p = z, *k, *v;
	size_t		 n = 0, klen;
	int		 secret;

	for (;;) {
		p += strspn(p, " \t\n\r\f\v");
		if (*p == '\0')
			break;
		k = p;
		p += strcspn(p, "= \t\n\r\f\v");
		klen = (size_t)(p - k);
		secret = redact_key(k, klen);
		p += strspn(p, " \t\n\r\f\v");
		if (*p != '=') {
			if (secret)	/* malformed: hide the rest */
				redact_add(z, sp, &n, (size_t)(p - z), strlen(p));
			if (secret || *p == '\0')
				break;
			continue;
		}
		p++;
		p += strspn(p, " \t\n\r\f\v");
		v = p;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\'')
				p++;
		} else
			for (; *p != '\0' && strchr(" \t\n\r\f\v", *p) == NULL;
			    p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
		if (secret)
			redact_add(z, sp, &n, (size_t)(v - z), (size_t)(p - v));
	}
	return n;
}

/* Finds the secrets of a URI z, past its scheme at z + s. */
static size_t
redact_uri(const char *z, size_t s, struct span *sp)
{
	const char	*p = z + s, *end, *at = NULL, *colon, *q, *k;
	size_t		 n = 0;

	end = p + strcspn(p, "/");	/* libpq looks that far for '@' */
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL) {	/* "u:p/w@h/db": '/' in the password */
		q = strrchr(p, '@');
		if (q != NULL && q > end && strchr(q, '/') != NULL)
			at = q;
	}
	if (at != NULL && (colon = memchr(p, ':', (size_t)(at - p))) != NULL) {
		redact_add(z, sp, &n, (size_t)(colon + 1 - z),
		    (size_t)(at - colon - 1));
		/* libpq's reading: up to the first '@'. */
		if ((q = memchr(colon, '@', (size_t)(at - colon))) != NULL &&
		    q < at)
			redact_add(z, sp, &n, (size_t)(colon + 1 - z),
			    (size_t)(q - colon - 1));
	}
	/* Parameters, from each '?' in case it is the one libpq takes. */
	for (p = strchr(p, '?'); p != NULL; p = strchr(p + 1, '?'))
		for (k = p + 1; ; k = end + 1) {
			end = k + strcspn(k, "&");
			q = k + strcspn(k, "=&");
			if (redact_uri_key(k, (size_t)(q - k)))
				redact_add(z, sp, &n, (size_t)(q - z) + (*q == '='),
				    (size_t)(end - q) - (*q == '='));
			if (*end == '\0')
				break;
		}
	return n;
}

/* Returns the length of z's URI scheme, or 0 if z is key=value. */
static size_t
redact_scheme(const char *z)
{
	if (strncmp(z, "postgresql://", 13) == 0)
		return 13;
	return strncmp(z, "postgres://", 11) == 0 ? 11 : 0;
}

/*
 * Finds the secrets of conninfo z into sp, in the order they start
 * (they may overlap). Returns how many.
 */
static size_t
redact_spans(const char *z, struct span *sp)
{
	struct span	 t;
	size_t		 s = redact_scheme(z), n, i, j;

	n = s > 0 ? redact_uri(z, s, sp) : redact_kv(z, sp);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && sp[j - 1].off > sp[j].off; j--) {
			t = sp[j];
			sp[j] = sp[j - 1];
			sp[j - 1] = t;
		}
	return n;
}

/*
 * Appends conninfo (NULL: "") to out with every password replaced by
 * PGSSE_REDACTED. Returns PGSSE_ERR_NOMEM if memory ran out.
 */
enum pgsse_err
pgsse_redact_conninfo(struct pgsse_buf *out, const char *conninfo)
{
	struct span	 sp[REDACT_SPANS];
	size_t		 n, i, at = 0;
	enum pgsse_err	 er = PGSSE_OK;

	if (conninfo == NULL)
		conninfo = "";
	n = redact_spans(conninfo, sp);
	for (i = 0; i < n && er == PGSSE_OK; i++) {
		if (sp[i].off < at) {	/* overlaps the one before */
			if (sp[i].off + sp[i].len > at)
				at = sp[i].off + sp[i].len;
			continue;
		}
		if ((er = pgsse_buf_put(out, conninfo + at, sp[i].off - at)) ==
		    PGSSE_OK)
			er = pgsse_buf_puts(out, PGSSE_REDACTED);
		at = sp[i].off + sp[i].len;
	}
	if (er == PGSSE_OK)
		er = pgsse_buf_puts(out, conninfo + at);
	return er;
}

/*
 * Writes the secret of len bytes at z as libpq reads it into out (of
 * len + 1 bytes): in a URI %XX decoded, else quotes and backslashes
 * gone. Can't fail.
 */
static void
redact_decode(const char *z, size_t len, int uri, char *out)
{
	size_t		 i = 0, k = 0;
	unsigned int	 c;
	char		 hex[3] = { 0, 0, 0 };

	if (!uri && len >= 2 && z[0] == '\'' && z[len - 1] == '\'') {
		z++;
		len -= 2;
	}
	while (i < len) {
		if (!uri && z[i] == '\\') {	/* a last one is dropped */
			if (i + 1 < len)
				out[k++] = z[i + 1];
			i += 2;
		} else if (uri && z[i] == '%' && i + 2 < len &&
		    strspn(z + i + 1, "0123456789abcdefABCDEF") >= 2) {
			memcpy(hex, z + i + 1, 2);
			c = (unsigned int)strtoul(hex, NULL, 16);
			out[k++] = (char)c;
			i += 3;
		} else
			out[k++] = z[i++];
	}
	out[k] = '\0';
}

/* Replaces each appearance of secret in buf (of size bytes) in place. */
static void
redact_mask(char *buf, size_t size, const char *secret)
{
	size_t	 slen = strlen(secret), rlen = strlen(PGSSE_REDACTED);
	size_t	 tail;
	char	*p = buf;

	if (slen < REDACT_MIN)
		return;
	while ((p = strstr(p, secret)) != NULL) {
		if ((size_t)(p - buf) + rlen >= size) {
			*p = '\0';	/* no room for the mask: cut here */
			break;
		}
		tail = strlen(p + slen) + 1;
		if ((size_t)(p - buf) + rlen + tail > size)
			tail = size - (size_t)(p - buf) - rlen;
		memmove(p + rlen, p + slen, tail);
		memcpy(p, PGSSE_REDACTED, rlen);
		buf[size - 1] = '\0';
		p += rlen;
	}
}

/* Orders secrets longest first, for qsort. */
static int
redact_longer(const void *a, const void *b)
{
	size_t	 la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/*
 * Copies msg into out (of size bytes, cut to fit) with the passwords
 * of conninfo (may be NULL) and PGPASSWORD's value masked: longest
 * first, so that a secret holding another is still found whole, and
 * before the cut, so that a cut never leaves part of one. Out of
 * memory, out is PGSSE_REDACTED alone. Can't fail.
 */
void
pgsse_redact_message(char *out, size_t size, const char *msg,
    const char *conninfo)
{
	struct span	 sp[REDACT_SPANS];
	char		*buf = NULL, *sec[2 * REDACT_SPANS + 1];
	const char	*z;
	size_t		 n, i, k = 0, len;

	if (size == 0)
		return;
	msg = msg != NULL ? msg : "";
	n = conninfo != NULL ? redact_spans(conninfo, sp) : 0;
	if (n == REDACT_SPANS)	/* maybe more: hide it all */
		goto fail;
	for (i = 0; i < n; i++) {
		if ((sec[k] = strndup(conninfo + sp[i].off, sp[i].len)) == NULL)
			goto fail;
		if ((sec[k + 1] = strdup(sec[k])) == NULL) {
			k++;
			goto fail;
		}
		redact_decode(conninfo + sp[i].off, sp[i].len,
		    redact_scheme(conninfo) > 0, sec[k + 1]);
		k += 2;
	}
	if ((z = getenv("PGPASSWORD")) != NULL && (sec[k++] = strdup(z)) ==
	    NULL) {
		k--;
		goto fail;
	}
	qsort(sec, k, sizeof(sec[0]), redact_longer);
	/* A mask (5 bytes) replaces REDACT_MIN (4) or more. */
	len = strlen(msg) * 2 + 1;
	if ((buf = malloc(len)) == NULL)
		goto fail;
	memcpy(buf, msg, strlen(msg) + 1);
	for (i = 0; i < k; i++)
		redact_mask(buf, len, sec[i]);
	snprintf(out, size, "%s", buf);
	goto out;
fail:
	snprintf(out, size, "%s", PGSSE_REDACTED);
out:
	free(buf);
	while (k > 0)
		free(sec[--k]);
}
