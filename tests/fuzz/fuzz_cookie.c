/*
 * fuzz_cookie.c: the cookie parser (lib/cookie.c). The first byte picks
 * the size of the value buffer; the rest is the Cookie header. A value
 * found fits, and holds no control character or quote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*z, out[256];
	size_t	 outsz, i;

	if (size == 0 || (z = malloc(size)) == NULL)
		return 0;
	outsz = data[0] % sizeof(out);
	memcpy(z, data + 1, size - 1);
	z[size - 1] = '\0';
	memset(out, 'X', sizeof(out));
	if (pgsse_cookie_get(z, "pgsse_csrf", out, outsz) == PGSSE_OK) {
		if (memchr(out, '\0', outsz) == NULL || strlen(out) >= size)
			abort();
		for (i = 0; out[i] != '\0'; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
			    out[i] == '"')
				abort();
		if (strstr(z, out) == NULL)
			abort();
	}
	free(z);
	return 0;
}
