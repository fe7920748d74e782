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
