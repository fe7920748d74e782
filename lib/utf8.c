/*
 * utf8.c: UTF-8 as PostgreSQL takes it. PostgreSQL text refuses bytes
 * that are not UTF-8 (overlong forms, surrogates, past U+10FFFF) and
 * NUL: so does this.
 */
#include <stddef.h>

#include "pgsse.h"
#include "extern.h"

/*
 * Returns the length (1 to 4) of the UTF-8 character at z, of which at
 * most n bytes may be read, or 0 if z starts with none, or with NUL.
 * Can't fail.
 */
size_t
pgsse_utf8_len(const unsigned char *z, size_t n)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 need, i;

	if (n == 0)
		return 0;
	if (z[0] >= 0x01 && z[0] <= 0x7f)
		return 1;
	if (z[0] >= 0xc2 && z[0] <= 0xdf)
		need = 2;
	else if (z[0] >= 0xe0 && z[0] <= 0xef) {
		need = 3;
		if (z[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (z[0] == 0xed)
			hi = 0x9f;	/* surrogate */
	} else if (z[0] >= 0xf0 && z[0] <= 0xf4) {
		need = 4;
		if (z[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (z[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (n < need || z[1] < lo || z[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (z[i] < 0x80 || z[i] > 0xbf)
			return 0;
	return need;
}
