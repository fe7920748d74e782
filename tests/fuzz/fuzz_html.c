/* fuzz_html.c: the HTML writer (lib/html.c): no markup survives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	char			*z;

	if ((z = malloc(size + 1)) == NULL)
		return 0;
	memcpy(z, buf, size);
	z[size] = '\0';
	if (pgsse_html_text(&b, z) == PGSSE_OK && b.p != NULL &&
	    strpbrk(b.p, "<>\"'`=/") != NULL)
		abort();
	pgsse_buf_free(&b);
	free(z);
	return 0;
}
