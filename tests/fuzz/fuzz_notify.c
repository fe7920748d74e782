/*
 * fuzz_notify.c: the notification mapper (lib/notify.c). Input: channel
 * name, NUL, payload, as PostgreSQL would deliver a NOTIFY. What a raw
 * notification maps to must map again to itself: so it is JSON that the
 * mapper (and jsonb) takes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsse.h"
#include "extern.h"
#include "notify.h"
#include "registry.h"

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

/* Aborts unless the event and data of raw n map again to the same. */
static void
remap(const struct pgsse_registry *reg, const struct pgsse_notify *n)
{
	struct pgsse_notify	 m;
	char			*z;
	size_t			 len;

	len = strlen(n->event) + strlen(n->data) + 32;
	if ((z = malloc(len)) == NULL)
		return;
	snprintf(z, len, "{\"event\":\"%s\",\"data\":%s}", n->event,
	    n->data);
	pgsse_notify_map(reg, n->channel->name, z, &m);
	if (m.kind != PGSSE_NOTIFY_RAW || strcmp(m.data, n->data) != 0)
		abort();
	pgsse_notify_clear(&m);
	free(z);
}

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
	if (n.kind == PGSSE_NOTIFY_RAW)
		remap(reg, &n);
	pgsse_notify_clear(&n);
	free(copy);
	return 0;
}
