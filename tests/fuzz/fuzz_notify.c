/*
 * fuzz_notify.c: the notification mapper (lib/notify.c). Input: channel
 * name, NUL, payload, as PostgreSQL would deliver a NOTIFY.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char reg_json[] =
"{\"channels\": ["
" {\"name\": \"demos\", \"description\": \"d\", \"events\": ["
"  {\"name\": \"installed\", \"description\": \"i\","
"   \"fields\": {\"demo_id\": \"string\", \"n\": \"integer\","
"    \"ok\": \"boolean\", \"x\": \"number\", \"o\": \"object\", \"a\": \"array\"}},"
"  {\"name\": \"ping\", \"description\": \"p\"}]},"
" {\"name\": \"logs\", \"description\": \"l\", \"events\": ["
"  {\"name\": \"log\", \"description\": \"l\", \"fields\": {\"line\": \"string\"}}]}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	static struct pgsse_registry	*reg;
	struct pgsse_buf		 err = { NULL, 0, 0 };
	struct pgsse_notify		 n;
	char				*copy;
	const char			*payload;

	if (reg == NULL && (reg = pgsse_registry_parse(reg_json, &err)) == NULL)
		abort();
	if ((copy = malloc(size + 2)) == NULL)
		return 0;
	memcpy(copy, buf, size);
	copy[size] = copy[size + 1] = '\0';
	payload = strlen(copy) < size ? copy + strlen(copy) + 1 : "";
	pgsse_notify_map(reg, copy, payload, &n);
	if (n.kind == PGSSE_NOTIFY_RAW && (n.event == NULL || n.data == NULL ||
	    !pgsse_name_event_ok(n.event) || strpbrk(n.data, "\r\n") != NULL))
		abort();
	if (n.kind == PGSSE_NOTIFY_DROP && n.why == NULL)
		abort();
	pgsse_notify_clear(&n);
	free(copy);
	return 0;
}
