/*
 * fuzz_redact.c: the conninfo scanner (lib/redact.c). The input is a
 * conninfo. Whatever password libpq reads from it (4 bytes or more),
 * the input redacted as a message about itself never holds it, and
 * redacting it as a conninfo never fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pgsse.h"
#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_buf	 b = { NULL, 0, 0 };
	PQconninfoOption	*opts, *o;
	char			*z, out[4096];

	if ((z = malloc(size + 1)) == NULL)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	if (pgsse_redact_conninfo(&b, z) != PGSSE_OK)
		abort();
	pgsse_buf_free(&b);
	if (size < sizeof(out) / 2 &&
	    (opts = PQconninfoParse(z, NULL)) != NULL) {
		pgsse_redact_message(out, sizeof(out), z, z);
		for (o = opts; o->keyword != NULL; o++)
			if (o->val != NULL && strlen(o->val) >= 4 &&
			    strchr(o->val, '*') == NULL &&
			    (strcmp(o->keyword, "password") == 0 ||
			    strcmp(o->keyword, "sslpassword") == 0) &&
			    strstr(out, o->val) != NULL)
				abort();
		PQconninfoFree(opts);
	}
	free(z);
	return 0;
}
