/*
 * check_browser.c: the pages in www/, in real headless Chromium, against
 * a private PostgreSQL and lighttpd with the shipped config. Each test is
 * a script in tests/browser/ (playwright-core driving /usr/bin/chromium).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "harness.h"

static struct h_pg	 pg;
static struct h_web	 web;
static pid_t		 runner;

static void
stack_up(void)
{
	PGconn	*c;

	h_pg_start(&pg, NULL);
	h_pg_load("demo/schema.sql");
	c = h_pg_connect();
	h_exec(c, "insert into pgsse_demo.demos (id, name, description) values "
	    "('evil', '<img src=x onerror=\"window.__pwned=1\">', "
	    "'<script>window.__pwned=3</script> & \"quotes\"')");
	/* Two test channels that share an event name (channels.mjs). */
	h_exec(c, "insert into pgsse.channels (name, description) values "
	    "('users', 'Test users.'), ('orders', 'Test orders.'); "
	    "insert into pgsse.events (channel, name, description) values "
	    "('users', 'updated', 'u'), ('orders', 'updated', 'o'); "
	    "insert into pgsse.event_fields (channel, event, field, type, ord) "
	    "values ('users', 'updated', 'id', 'integer', 0), "
	    "('orders', 'updated', 'id', 'integer', 0)");
	PQfinish(c);
	h_pg_load("sql/roles.sql");
	/* The programs run with the least-privilege roles, as deployed. */
	setenv("PGSSE_DEMO_DELAY", "0.4", 1);
	setenv("PGUSER", "pgsse_publisher", 1);
	runner = h_runner_start("demo/jobs", "60");
	setenv("PGUSER", "pgsse_web", 1);
	h_web_start(&web, NULL);
	setenv("PGUSER", "pgsse", 1);
}

static void
stack_down(void)
{
	h_web_stop(&web);
	h_runner_stop(runner, SIGTERM);
	h_pg_stop(&pg);
}

START_TEST(browser_status_card)
{
	ck_assert_int_eq(h_browser(web.port, "status"), 0);
}
END_TEST

START_TEST(browser_demo_library)
{
	ck_assert_int_eq(h_browser(web.port, "demo"), 0);
}
END_TEST

START_TEST(browser_slow_javascript)
{
	ck_assert_int_eq(h_browser(web.port, "slow"), 0);
}
END_TEST

START_TEST(browser_stream_restart)
{
	ck_assert_int_eq(h_browser(web.port, "reconnect"), 0);
}
END_TEST

START_TEST(browser_channel_identity)
{
	ck_assert_int_eq(h_browser(web.port, "channels"), 0);
}
END_TEST

START_TEST(browser_channel_removed)
{
	ck_assert_int_eq(h_browser(web.port, "removed"), 0);
}
END_TEST

/*
 * With live content on the demo page, its live regions and progress
 * bars have roles and names, and axe-core finds nothing serious or
 * critical; without JavaScript a note says what needs it.
 */
START_TEST(browser_accessibility)
{
	ck_assert_int_eq(h_browser(web.port, "a11y"), 0);
}
END_TEST

/*
 * The manager's heartbeat watchdog, against a second web server whose
 * stream program sends a heartbeat every second (the others keep the
 * default, so that no watchdog fires in their tests).
 */
START_TEST(browser_heartbeat_watchdog)
{
	struct h_web	 web2;
	int		 rc;

	memset(&web2, 0, sizeof(web2));
	setenv("PGSSE_HEARTBEAT", "1", 1);
	h_web_start(&web2, NULL);
	unsetenv("PGSSE_HEARTBEAT");
	rc = h_browser(web2.port, "watchdog");
	h_web_stop(&web2);
	ck_assert_int_eq(rc, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("browser");
	TCase	*tc = tcase_create("pages");

	tcase_add_unchecked_fixture(tc, stack_up, stack_down);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, browser_status_card);
	tcase_add_test(tc, browser_demo_library);
	tcase_add_test(tc, browser_slow_javascript);
	tcase_add_test(tc, browser_stream_restart);
	tcase_add_test(tc, browser_channel_identity);
	tcase_add_test(tc, browser_channel_removed);
	tcase_add_test(tc, browser_heartbeat_watchdog);
	tcase_add_test(tc, browser_accessibility);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
