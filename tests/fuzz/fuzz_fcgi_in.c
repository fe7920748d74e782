/*
 * fuzz_fcgi_in.c: the pump's record reader (pgsse_fcgi_in_feed in
 * lib/fcgi.c), against a reader of the whole input written here. Input:
 * two bytes of request id, one byte for the size of the pieces, then
 * what the web server sends. Fed in those pieces, the reader says ABORT
 * exactly when the whole input holds an ABORT_REQUEST of the request at
 * a record boundary, and in the piece where that record's header ends;
 * a record of another version ends all reading.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Returns the offset just past the header of the first ABORT_REQUEST of
 * reqid in the n bytes at p, read record by record, or 0 if none.
 */
static size_t
abort_at(const uint8_t *p, size_t n, unsigned int reqid)
{
	size_t	 off = 0;

	while (n - off >= PGSSE_FCGI_HEADER) {
		if (p[off] != PGSSE_FCGI_VERSION)
			return 0;
		if (p[off + 1] == PGSSE_FCGI_ABORT_REQUEST &&
		    ((unsigned int)p[off + 2] << 8 | p[off + 3]) == reqid)
			return off + PGSSE_FCGI_HEADER;
		off += PGSSE_FCGI_HEADER +
		    ((size_t)p[off + 4] << 8 | p[off + 5]) + p[off + 6];
		if (off > n)
			return 0;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_fcgi_in	 in;
	enum pgsse_fcgi_in_news	 news = PGSSE_FCGI_IN_NONE;
	unsigned int		 reqid;
	size_t			 piece, off, k, want;

	if (size < 3)
		return 0;
	reqid = (unsigned)data[0] << 8 | data[1];
	piece = 1 + data[2] % 64;
	data += 3;
	size -= 3;
	want = abort_at(data, size, reqid);
	memset(&in, 0, sizeof(in));
	for (off = 0; off < size; off += k) {
		k = size - off < piece ? size - off : piece;
		news = pgsse_fcgi_in_feed(&in, reqid, data + off, k);
		if (news == PGSSE_FCGI_IN_ABORT)
			break;
	}
	if (news == PGSSE_FCGI_IN_ABORT) {
		if (want == 0 || want <= off || want > off + k)
			abort();
	} else if (want != 0)
		abort();
	return 0;
}
