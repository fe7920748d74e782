/*
 * fuzz_fcgi.c: the FastCGI record writer (lib/fcgi.c), round-tripped
 * through the independent reader (tests/fcgiparse.c). Input: two bytes
 * of request id, a repeat count, a chunk size, then the output bytes.
 * The output, repeated and written in chunks, then ended, reads back as
 * exactly the same bytes in well-formed records of at most
 * PGSSE_FCGI_BODY_MAX bytes, and takes pgsse_fcgi_stdout_len bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "fcgi.h"
#include "fcgiparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	struct fcgi_resp	 r;
	const char		*why;
	unsigned int		 reqid;
	size_t			 reps, chunk, n, i, k, off, want = 0;
	unsigned char		*all;

	if (size < 4)
		return 0;
	reqid = (unsigned)data[0] << 8 | data[1];
	reps = 1 + data[2] % 32;
	chunk = 1 + (size_t)data[3] * 1031;
	data += 4;
	n = size - 4;
	if ((all = malloc(n * reps + 1)) == NULL)
		return 0;
	for (i = 0; i < reps; i++)
		memcpy(all + i * n, data, n);
	n *= reps;
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		if (pgsse_fcgi_stdout(&b, reqid, all + off, k) != PGSSE_OK)
			abort();
		want += pgsse_fcgi_stdout_len(k);
	}
	if (b.len != want || pgsse_fcgi_end(&b, reqid) != PGSSE_OK)
		abort();
	if (fcgi_read_response((unsigned char *)b.p, b.len, reqid, &r,
	    &why) != 0 || r.outlen != n || (n > 0 &&
	    memcmp(r.out, all, n) != 0) || r.maxbody > PGSSE_FCGI_BODY_MAX ||
	    r.app_status != 0 || r.proto_status != 0)
		abort();
	free(r.out);
	free(all);
	pgsse_buf_free(&b);
	return 0;
}
