/*
 * fcgiparse.c: reads the records a FastCGI responder sends for one
 * request (specification section 3.3, 5.3 and 6). See fcgiparse.h.
 */
#include <stdlib.h>
#include <string.h>

#include "fcgiparse.h"

#define REC_HEADER 8
#define TYPE_END_REQUEST 3
#define TYPE_STDOUT 6

/*
 * Reads every record in the n bytes at p, all for request reqid, into
 * r (zeroed here; free r->out). Returns 0 if they make a well-formed,
 * complete response: STDOUT records, an empty STDOUT, then END_REQUEST
 * as the last record. Otherwise returns -1 and sets *why.
 */
int
fcgi_read_response(const unsigned char *p, size_t n, unsigned int reqid,
    struct fcgi_resp *r, const char **why)
{
	size_t		 off = 0, len, pad;
	char		*o;

	memset(r, 0, sizeof(*r));
	*why = "no END_REQUEST";
	while (off < n) {
		if (r->ended) {
			*why = "bytes after END_REQUEST";
			return -1;
		}
		if (n - off < REC_HEADER) {
			*why = "truncated header";
			return -1;
		}
		len = (size_t)p[off + 4] << 8 | p[off + 5];
		pad = p[off + 6];
		if (p[off] != 1 || ((unsigned)p[off + 2] << 8 | p[off + 3]) !=
		    reqid || p[off + 7] != 0) {
			*why = "bad version, request id or reserved byte";
			return -1;
		}
		if (n - off - REC_HEADER < len + pad) {
			*why = "truncated body";
			return -1;
		}
		r->records++;
		if (len > r->maxbody)
			r->maxbody = len;
		off += REC_HEADER;
		if (p[off - REC_HEADER + 1] == TYPE_STDOUT && !r->closed) {
			if (len == 0)
				r->closed = 1;
			else if ((o = realloc(r->out, r->outlen + len + 1)) ==
			    NULL) {
				*why = "out of memory";
				return -1;
			} else {
				r->out = o;
				memcpy(r->out + r->outlen, p + off, len);
				r->outlen += len;
				r->out[r->outlen] = '\0';
			}
		} else if (p[off - REC_HEADER + 1] == TYPE_END_REQUEST &&
		    r->closed && len == 8) {
			r->app_status = (unsigned)p[off] << 24 |
			    (unsigned)p[off + 1] << 16 |
			    (unsigned)p[off + 2] << 8 | p[off + 3];
			r->proto_status = p[off + 4];
			r->ended = 1;
		} else {
			*why = "unexpected record";
			return -1;
		}
		off += len + pad;
	}
	return r->ended ? 0 : -1;
}

#define REC_BODY_MAX 65535
#define PAD_BYTE 0xee		/* padding: skipped, so any value */

/* Appends the n bytes at p to o, or sets o->failed. */
static void
fcgi_put(struct fcgi_out *o, const void *p, size_t n)
{
	unsigned char	*np;
	size_t		 ncap;

	if (o->failed || n == 0)
		return;
	if (o->len + n > o->cap) {
		ncap = o->cap ? o->cap : 256;
		while (ncap < o->len + n)
			ncap *= 2;
		if ((np = realloc(o->p, ncap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/*
 * Appends a version 1 record of type for request id to o: the len bytes
 * at body (at most REC_BODY_MAX), then pad bytes of padding (at most
 * 255). Sets o->failed if memory ran out.
 */
void
fcgi_put_record(struct fcgi_out *o, int type, unsigned int id,
    const void *body, size_t len, size_t pad)
{
	unsigned char	 h[REC_HEADER], padding[255];

	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	memset(padding, PAD_BYTE, sizeof(padding));
	fcgi_put(o, h, sizeof(h));
	fcgi_put(o, body, len);
	fcgi_put(o, padding, pad);
}

/*
 * Appends the len bytes at body to o as a stream of type for request
 * id: records of at most REC_BODY_MAX bytes, then the empty one that
 * ends it.
 */
void
fcgi_put_stream(struct fcgi_out *o, int type, unsigned int id,
    const void *body, size_t len)
{
	const unsigned char	*b = body;
	size_t			 k;

	for (; len > 0; b += k, len -= k) {
		k = len < REC_BODY_MAX ? len : REC_BODY_MAX;
		fcgi_put_record(o, type, id, b, k, 0);
	}
	fcgi_put_record(o, type, id, NULL, 0, 0);
}

/* Appends the length n to o: one byte under 128 unless wide, else 4. */
static void
fcgi_put_len(struct fcgi_out *o, size_t n, int wide)
{
	unsigned char	 b[4];

	if (n < 0x80 && !wide) {
		b[0] = (unsigned char)n;
		fcgi_put(o, b, 1);
		return;
	}
	b[0] = (unsigned char)(0x80 | (n >> 24));
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
	fcgi_put(o, b, 4);
}

/*
 * Appends a name-value pair (section 3.4) to o: name of nl bytes, value
 * of vl, their lengths in 4 bytes if wide or if 128 or over.
 */
void
fcgi_put_pair(struct fcgi_out *o, const char *name, size_t nl,
    const char *val, size_t vl, int wide)
{
	fcgi_put_len(o, nl, wide);
	fcgi_put_len(o, vl, wide);
	fcgi_put(o, name, nl);
	fcgi_put(o, val, vl);
}

/* Frees what o holds and zeroes it. */
void
fcgi_out_free(struct fcgi_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}
