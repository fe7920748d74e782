/* fuzz_query.c: the query string and form parser (lib/query.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgsse_query	 q;
	char			*z;
	size_t			 i;

	if ((z = malloc(size + 1)) == NULL)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	if (pgsse_query_parse(z, &q) == PGSSE_OK) {
		if (q.n > PGSSE_QUERY_PAIRS_MAX)
			abort();
		for (i = 0; i < q.n; i++)
			if (q.pairs[i].key == NULL || q.pairs[i].val == NULL ||
			    strlen(q.pairs[i].key) > size ||
			    strlen(q.pairs[i].val) > size)
				abort();
		(void)pgsse_query_get(&q, "channel");
	}
	pgsse_query_free(&q);
	free(z);
	return 0;
}
