/*
 * check_csrf.c: lib/csrf.c, the CSRF check of a POST, as a pure
 * function of the request's headers. Every refusal has a test whose
 * request differs from an accepted one in that one respect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pgsse.h"
#include "extern.h"
#include "csrf.h"
#include "harness.h"

static struct pgsse_csrf_key	 key, other;
static char			 tok[PGSSE_CSRF_TOKEN_LEN + 1];
static char			 tok2[PGSSE_CSRF_TOKEN_LEN + 1];
static char			 cookie[256];

/* Two secrets, a token issued under the first, and its cookie. */
static void
setup(void)
{
	ck_assert_int_eq(pgsse_csrf_key_set(&key,
	    "0123456789abcdef0123456789abcdef-one", 36), PGSSE_OK);
	ck_assert_int_eq(pgsse_csrf_key_set(&other,
	    "0123456789abcdef0123456789abcdef-two", 36), PGSSE_OK);
	ck_assert_int_eq(pgsse_csrf_issue(&key, tok, sizeof(tok)), PGSSE_OK);
	ck_assert_int_eq(pgsse_csrf_issue(&key, tok2, sizeof(tok2)), PGSSE_OK);
	ck_assert_str_ne(tok, tok2);
	snprintf(cookie, sizeof(cookie), "theme=dark; pgsse_csrf=%s", tok);
}

/* A POST from a page of http://example.com:8080 that must pass. */
static struct pgsse_csrf_req
good(void)
{
	struct pgsse_csrf_req	 r;

	memset(&r, 0, sizeof(r));
	r.hx_request = "true";
	r.origin = "http://example.com:8080";
	r.host = "example.com:8080";
	r.scheme = "http";
	r.cookie = cookie;
	r.token = tok;
	return r;
}

static enum pgsse_csrf_why
check(const struct pgsse_csrf_req *r)
{
	return pgsse_csrf_check(&key, r);
}

/* A page's origin (or referer) and the request it posts. */
struct from {
	const char	*origin;
	const char	*referer;
	const char	*host;
	const char	*https;		/* HTTPS */
	const char	*scheme;	/* REQUEST_SCHEME */
};

/* Checks good() sent as each of the n cases in v, expecting want. */
static void
from_each(const struct from *v, size_t n, enum pgsse_csrf_why want)
{
	struct pgsse_csrf_req	 r = good();
	size_t			 i;

	for (i = 0; i < n; i++) {
		r.origin = v[i].origin;
		r.referer = v[i].referer;
		r.host = v[i].host;
		r.https = v[i].https;
		r.scheme = v[i].scheme;
		ck_assert_msg(check(&r) == want, "Origin %s, Referer %s, Host "
		    "%s, HTTPS %s, scheme %s: %s", v[i].origin, v[i].referer,
		    v[i].host, v[i].https, v[i].scheme,
		    pgsse_csrf_why_str(check(&r)));
	}
}

#define FROM_EACH(v, want) from_each((v), sizeof(v) / sizeof((v)[0]), (want))

START_TEST(csrf_accepts)
{
	static const struct from v[] = {
		{ "http://example.com:8080", NULL, "example.com:8080", NULL,
		    "http" },
		/* TLS, named by HTTPS=on or REQUEST_SCHEME. */
		{ "https://example.com", NULL, "example.com", "on", NULL },
		{ "https://example.com", NULL, "example.com", NULL, "https" },
		/* Default ports written out or left out. */
		{ "https://example.com:443", NULL, "example.com", NULL,
		    "https" },
		{ "https://example.com", NULL, "example.com:443", NULL,
		    "https" },
		{ "http://example.com:80", NULL, "example.com", NULL, "http" },
		/* Host names are case-insensitive. */
		{ "http://Example.COM", NULL, "example.com", NULL, "http" },
		/* No scheme from the server: plain HTTP. */
		{ "http://example.com", NULL, "example.com", NULL, NULL },
		{ "http://[::1]:8080", NULL, "[::1]:8080", NULL, "http" },
	};

	FROM_EACH(v, PGSSE_CSRF_OK);
}
END_TEST

/* Tokens a test issues from one pool, and one more than a pool holds. */
#define NONCES_MAX 200

/* Says if token t (of PGSSE_CSRF_TOKEN_LEN) shares its nonce (the first
 * 32 hex digits) with any of the n in v. */
static int
nonce_seen(char v[][PGSSE_CSRF_TOKEN_LEN + 1], int n, const char *t)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strncmp(v[i], t, 32) == 0)
			return 1;
	return 0;
}

/*
 * Tokens issued one after another, through many refills of the
 * thread's pool of random bytes, each valid with a nonce of its own;
 * and a child of fork, which had its parent's pool, issues a token
 * whose nonce its parent never issues.
 */
START_TEST(csrf_nonces_unique)
{
	static char	 v[NONCES_MAX][PGSSE_CSRF_TOKEN_LEN + 1];
	char		 child[PGSSE_CSRF_TOKEN_LEN + 1];
	int		 i, fds[2], st;
	pid_t		 pid;

	for (i = 0; i < NONCES_MAX / 2; i++) {
		ck_assert_int_eq(pgsse_csrf_issue(&key, v[i], sizeof(v[i])),
		    PGSSE_OK);
		ck_assert(pgsse_csrf_valid(&key, v[i]));
		ck_assert_msg(!nonce_seen(v, i, v[i]), "token %d repeats a "
		    "nonce: %s", i, v[i]);
	}
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (pgsse_csrf_issue(&key, child, sizeof(child)) != PGSSE_OK)
			_exit(1);
		_exit(write(fds[1], child, PGSSE_CSRF_TOKEN_LEN) ==
		    PGSSE_CSRF_TOKEN_LEN ? 0 : 1);
	}
	ck_assert_int_gt(pid, 0);
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], child, PGSSE_CSRF_TOKEN_LEN),
	    PGSSE_CSRF_TOKEN_LEN);
	child[PGSSE_CSRF_TOKEN_LEN] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (; i < NONCES_MAX; i++) {
		ck_assert_int_eq(pgsse_csrf_issue(&key, v[i], sizeof(v[i])),
		    PGSSE_OK);
		ck_assert_msg(!nonce_seen(v, i, v[i]), "token %d repeats a "
		    "nonce: %s", i, v[i]);
	}
	ck_assert_msg(!nonce_seen(v, NONCES_MAX, child), "a child of fork "
	    "issued a nonce its parent issued too: %s", child);
}
END_TEST

START_TEST(csrf_referer_fallback)
{
	static const struct from ok[] = {
		{ NULL, "http://example.com:8080/demos?x=1#top",
		    "example.com:8080", NULL, "http" },
		{ NULL, "http://example.com:8080", "example.com:8080", NULL,
		    "http" },
		{ NULL, "https://example.com/?q", "example.com", "on", NULL },
	};
	static const struct from refused[] = {
		{ NULL, "http://evil.example:8080/demos", "example.com:8080",
		    NULL, "http" },
		{ NULL, "http://example.com:8080.evil.example/",
		    "example.com:8080", NULL, "http" },
		{ NULL, "http://example.com:8080@evil.example/",
		    "example.com:8080", NULL, "http" },
		{ NULL, "https://example.com:8080/demos", "example.com:8080",
		    NULL, "http" },
		{ NULL, "http://example.com:8081/demos", "example.com:8080",
		    NULL, "http" },
		/* An Origin, when sent, is what counts. */
		{ "http://evil.example", "http://example.com:8080/",
		    "example.com:8080", NULL, "http" },
	};

	FROM_EACH(ok, PGSSE_CSRF_OK);
	FROM_EACH(refused, PGSSE_CSRF_CROSS_ORIGIN);
}
END_TEST

START_TEST(csrf_refuses_no_hx)
{
	struct pgsse_csrf_req	 r = good();

	r.hx_request = NULL;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_NO_HX);
	r.hx_request = "false";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_NO_HX);
	ck_assert_str_eq(pgsse_csrf_why_str(check(&r)),
	    "missing HX-Request header");
}
END_TEST

/*
 * DNS rebinding: a page of the attacker's name, resolved to this
 * server, sends its own name as Origin and as Host, and could read the
 * cookie. With the site's names in hosts (PGSSE_ALLOWED_HOSTS) only
 * those pass; without a list, any Host does.
 */
START_TEST(csrf_refuses_rebound_host)
{
	struct pgsse_csrf_req	 r = good();

	r.hosts = "example.com:8080, www.example.com:8080";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_OK);
	r.host = "WWW.example.com:8080";
	r.origin = "http://www.example.com:8080";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_OK);
	r.host = "rebind.attacker.example:8080";
	r.origin = "http://rebind.attacker.example:8080";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_HOST);
	ck_assert_str_eq(pgsse_csrf_why_str(check(&r)),
	    "host not allowed (PGSSE_ALLOWED_HOSTS)");
	r.host = "example.com:8081";
	r.origin = "http://example.com:8081";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_HOST);
	r.host = "example.com";
	r.origin = "http://example.com";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_HOST);
	r.hosts = "example.com";	/* a port defaults to the scheme's */
	ck_assert_int_eq(check(&r), PGSSE_CSRF_OK);
	r.hosts = NULL;
	r.host = "rebind.attacker.example:8080";
	r.origin = "http://rebind.attacker.example:8080";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_OK);
}
END_TEST

START_TEST(csrf_refuses_foreign_origin)
{
	static const struct from v[] = {
		{ "http://evil.example:8080", NULL, "example.com:8080", NULL,
		    "http" },
		{ "http://example.com:8080.evil.example", NULL,
		    "example.com:8080", NULL, "http" },
		{ "http://example.co", NULL, "example.com", NULL, "http" },
		{ "null", NULL, "example.com", NULL, "http" },
		{ "", NULL, "example.com", NULL, "http" },
		{ "example.com", NULL, "example.com", NULL, "http" },
		{ "http://example.com/", NULL, "example.com", NULL, "http" },
		{ NULL, NULL, "example.com", NULL, "http" },
		{ "http://example.com", NULL, NULL, NULL, "http" },
	};
	struct pgsse_csrf_req	 r = good();

	FROM_EACH(v, PGSSE_CSRF_CROSS_ORIGIN);
	r.origin = v[0].origin;
	ck_assert_str_eq(pgsse_csrf_why_str(check(&r)),
	    "cross-origin request refused");
}
END_TEST

START_TEST(csrf_refuses_scheme_mismatch)
{
	static const struct from v[] = {
		/* A plain-HTTP page posting to the TLS site, and back. */
		{ "http://example.com", NULL, "example.com", "on", "https" },
		{ "http://example.com", NULL, "example.com", NULL, "https" },
		{ "http://example.com", NULL, "example.com", "on", NULL },
		{ "https://example.com", NULL, "example.com", NULL, "http" },
		{ "https://example.com:8080", NULL, "example.com:8080", NULL,
		    "http" },
		{ "ftp://example.com:8080", NULL, "example.com:8080", NULL,
		    "http" },
	};

	FROM_EACH(v, PGSSE_CSRF_CROSS_ORIGIN);
}
END_TEST

START_TEST(csrf_refuses_port_mismatch)
{
	static const struct from v[] = {
		{ "http://example.com:8081", NULL, "example.com:8080", NULL,
		    "http" },
		{ "http://example.com", NULL, "example.com:8080", NULL,
		    "http" },
		{ "http://example.com:80", NULL, "example.com:8080", NULL,
		    "http" },
		{ "http://example.com:8080", NULL, "example.com", NULL,
		    "http" },
		/* The TLS default port is not the plain one. */
		{ "http://example.com:443", NULL, "example.com", NULL, "http" },
		{ "https://example.com:80", NULL, "example.com", NULL,
		    "https" },
		{ "http://example.com:", NULL, "example.com", NULL, "http" },
		{ "http://example.com:99999", NULL, "example.com:99999", NULL,
		    "http" },
	};

	FROM_EACH(v, PGSSE_CSRF_CROSS_ORIGIN);
}
END_TEST

START_TEST(csrf_refuses_missing_token)
{
	struct pgsse_csrf_req	 r = good();

	r.token = NULL;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	ck_assert_str_eq(pgsse_csrf_why_str(check(&r)),
	    "missing or wrong CSRF token; reload the page");
	r = good();
	r.cookie = NULL;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	r.cookie = "theme=dark";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	r.token = "";
	r.cookie = "pgsse_csrf=";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
}
END_TEST

START_TEST(csrf_refuses_wrong_token)
{
	struct pgsse_csrf_req	 r = good();

	/* Another token this server issued, but not the cookie's. */
	r.token = tok2;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	r.token = "not a token";
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
}
END_TEST

/* The old format: any 32 hex digits, chosen by the client. */
START_TEST(csrf_refuses_unsigned_token)
{
	struct pgsse_csrf_req	 r = good();
	static const char	 self[] = "0123456789abcdef0123456789abcdef";

	r.cookie = "pgsse_csrf=0123456789abcdef0123456789abcdef";
	r.token = self;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	ck_assert(!pgsse_csrf_valid(&key, self));
}
END_TEST

START_TEST(csrf_refuses_other_secret)
{
	struct pgsse_csrf_req	 r = good();
	char			 t[PGSSE_CSRF_TOKEN_LEN + 1], c[256];

	ck_assert_int_eq(pgsse_csrf_issue(&other, t, sizeof(t)), PGSSE_OK);
	snprintf(c, sizeof(c), "pgsse_csrf=%s", t);
	r.cookie = c;
	r.token = t;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
	ck_assert(!pgsse_csrf_valid(&key, t));
	ck_assert(pgsse_csrf_valid(&other, t));
	ck_assert_int_eq(pgsse_csrf_check(&other, &r), PGSSE_CSRF_OK);
}
END_TEST

/* Any changed digit of an issued token, in cookie and header alike. */
START_TEST(csrf_refuses_altered_token)
{
	struct pgsse_csrf_req	 r = good();
	char			 t[PGSSE_CSRF_TOKEN_LEN + 1], c[256];
	size_t			 i;

	for (i = 0; i < PGSSE_CSRF_TOKEN_LEN; i++) {
		memcpy(t, tok, sizeof(t));
		t[i] = t[i] == '0' ? '1' : '0';
		snprintf(c, sizeof(c), "pgsse_csrf=%s", t);
		r.cookie = c;
		r.token = t;
		ck_assert_msg(check(&r) == PGSSE_CSRF_BAD_TOKEN,
		    "digit %zu changed, still accepted", i);
	}
	/* Cut short or made longer. */
	memcpy(t, tok, sizeof(t));
	t[PGSSE_CSRF_TOKEN_LEN - 1] = '\0';
	ck_assert(!pgsse_csrf_valid(&key, t));
	snprintf(c, sizeof(c), "%s0", tok);
	ck_assert(!pgsse_csrf_valid(&key, c));
}
END_TEST

START_TEST(csrf_refuses_cookie_header_differ)
{
	struct pgsse_csrf_req	 r = good();
	char			 c[256];

	/* Both issued here, each valid alone. */
	snprintf(c, sizeof(c), "pgsse_csrf=%s", tok2);
	r.cookie = c;
	ck_assert(pgsse_csrf_valid(&key, tok));
	ck_assert(pgsse_csrf_valid(&key, tok2));
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
}
END_TEST

/* Every process and host with the same secret accepts the token. */
START_TEST(csrf_shared_secret)
{
	struct pgsse_csrf_key	 copy;
	struct pgsse_csrf_req	 r = good();

	memset(&copy, 0, sizeof(copy));
	ck_assert_int_eq(pgsse_csrf_key_set(&copy,
	    "0123456789abcdef0123456789abcdef-one", 36), PGSSE_OK);
	ck_assert(pgsse_csrf_valid(&copy, tok));
	ck_assert_int_eq(pgsse_csrf_check(&copy, &r), PGSSE_CSRF_OK);
}
END_TEST

/*
 * Writes n bytes to a new file of mode in a fresh folder under
 * tests/tmp; its path goes to path (of size len).
 */
static void
secret_file(char *path, size_t len, size_t n, mode_t mode)
{
	char	 dir[512];
	FILE	*f;
	size_t	 i;

	snprintf(dir, sizeof(dir), "%s/tests/tmp", h_builddir());
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/tests/tmp/csrf.XXXXXX", h_builddir());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, len, "%s/secret", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < n; i++)
		fputc((int)(i * 7 + 1) & 0xff, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(csrf_key_load)
{
	struct pgsse_csrf_key	 k1, k2;
	char			 path[600], why[1024];
	char			 t[PGSSE_CSRF_TOKEN_LEN + 1];

	secret_file(path, sizeof(path), 32, 0600);
	ck_assert_int_eq(pgsse_csrf_key_load(&k1, path, why, sizeof(why)),
	    PGSSE_OK);
	ck_assert_uint_eq(k1.len, 32);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(pgsse_csrf_key_load(&k2, path, why, sizeof(why)),
	    PGSSE_OK);
	/* Another process reading the same file accepts the token. */
	ck_assert_int_eq(pgsse_csrf_issue(&k1, t, sizeof(t)), PGSSE_OK);
	ck_assert(pgsse_csrf_valid(&k2, t));
	ck_assert(!pgsse_csrf_valid(&key, t));
	secret_file(path, sizeof(path), PGSSE_CSRF_SECRET_MAX, 0400);
	ck_assert_int_eq(pgsse_csrf_key_load(&k1, path, why, sizeof(why)),
	    PGSSE_OK);
	ck_assert_uint_eq(k1.len, PGSSE_CSRF_SECRET_MAX);
}
END_TEST

START_TEST(csrf_key_refused)
{
	struct pgsse_csrf_key	 k;
	char			 path[600], why[1024];

	secret_file(path, sizeof(path), 32, 0644);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_FORBIDDEN);
	ck_assert_msg(strstr(why, path) != NULL && strstr(why, "chmod o-rwx"),
	    "%s", why);
	ck_assert_int_eq(chmod(path, 0602), 0);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_FORBIDDEN);
	secret_file(path, sizeof(path), 31, 0600);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_LIMIT);
	ck_assert_msg(strstr(why, "holds 31 bytes") != NULL, "%s", why);
	secret_file(path, sizeof(path), 0, 0600);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_LIMIT);
	secret_file(path, sizeof(path), PGSSE_CSRF_SECRET_MAX + 1, 0600);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_LIMIT);
	ck_assert_msg(strstr(why, "over 1024") != NULL, "%s", why);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, "/nonexistent/secret", why,
	    sizeof(why)), PGSSE_ERR_IO);
	ck_assert_msg(strstr(why, "/nonexistent/secret") != NULL, "%s", why);
	*strrchr(path, '/') = '\0';
	ck_assert_int_eq(chmod(path, 0700), 0);
	ck_assert_int_eq(pgsse_csrf_key_load(&k, path, why, sizeof(why)),
	    PGSSE_ERR_IO);
	ck_assert_msg(strstr(why, "not a regular file") != NULL, "%s", why);
	/* No secret: no token is issued, none is valid. */
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(pgsse_csrf_issue(&k, path, sizeof(path)),
	    PGSSE_ERR_INVAL);
	ck_assert(!pgsse_csrf_valid(&k, tok));
	ck_assert_int_eq(pgsse_csrf_key_set(&k, "short", 5), PGSSE_ERR_LIMIT);
}
END_TEST

/* The cookie is Secure under TLS, and carries a valid token. */
START_TEST(csrf_set_cookie)
{
	struct pgsse_csrf_req	 r = good();
	struct pgsse_buf	 b = { NULL, 0, 0 };
	char			 t[PGSSE_CSRF_TOKEN_LEN + 1], want[256];

	ck_assert_int_eq(pgsse_csrf_set_cookie(&key, &r, t, sizeof(t), &b),
	    PGSSE_OK);
	ck_assert(pgsse_csrf_valid(&key, t));
	snprintf(want, sizeof(want), "Set-Cookie: pgsse_csrf=%s; Path=/; "
	    "SameSite=Strict\r\n", t);
	ck_assert_str_eq(b.p, want);
	pgsse_buf_reset(&b);
	r.https = "on";
	ck_assert_int_eq(pgsse_csrf_set_cookie(&key, &r, t, sizeof(t), &b),
	    PGSSE_OK);
	snprintf(want, sizeof(want), "Set-Cookie: pgsse_csrf=%s; Path=/; "
	    "SameSite=Strict; Secure\r\n", t);
	ck_assert_str_eq(b.p, want);
	ck_assert_int_eq(pgsse_csrf_set_cookie(&key, &r, t, sizeof(t) - 1, &b),
	    PGSSE_ERR_LIMIT);
	pgsse_buf_free(&b);
}
END_TEST

/* The issued token with its MAC in capitals is not the token. */
/*
 * A token's MAC is HMAC-SHA256 of "pgsse-csrf-v1", a NUL and the hex
 * nonce, as libcrypto's HMAC() makes it, for a key of one block or
 * less and for a longer one (which HMAC takes by its digest): hosts of
 * one site that run different versions take each other's tokens.
 */
START_TEST(csrf_mac_is_hmac)
{
	struct pgsse_csrf_key	 k;
	unsigned char		 secret[200], msg[14 + 32], mac[64];
	char			 mine[PGSSE_CSRF_TOKEN_LEN + 1], hex[65];
	unsigned int		 len, i;
	size_t			 n, sizes[] = { 32, 64, 200 };

	for (i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)(i * 7 + 1);
	for (n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
		ck_assert_int_eq(pgsse_csrf_key_set(&k, secret, sizes[n]),
		    PGSSE_OK);
		ck_assert_int_eq(pgsse_csrf_issue(&k, mine, sizeof(mine)),
		    PGSSE_OK);
		memcpy(msg, "pgsse-csrf-v1", 14);
		memcpy(msg + 14, mine, 32);
		ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret,
		    (int)sizes[n], msg, sizeof(msg), mac, &len));
		ck_assert_uint_eq(len, 32);
		for (i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		ck_assert_str_eq(mine + 32, hex);
		ck_assert(pgsse_csrf_valid(&k, mine));
		ck_assert(!pgsse_csrf_valid(&key, mine));
	}
}
END_TEST

START_TEST(csrf_refuses_capitals)
{
	struct pgsse_csrf_req	 r = good();
	char			 t[PGSSE_CSRF_TOKEN_LEN + 1], c[256];
	size_t			 i;

	memcpy(t, tok, sizeof(t));
	for (i = 32; i < PGSSE_CSRF_TOKEN_LEN; i++)
		if (t[i] >= 'a')
			t[i] -= 'a' - 'A';
	ck_assert_str_ne(t, tok);
	snprintf(c, sizeof(c), "pgsse_csrf=%s", t);
	r.cookie = c;
	r.token = t;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_BAD_TOKEN);
}
END_TEST

/* Hosts and ports past their limits are refused, not truncated. */
START_TEST(csrf_hostile_hosts)
{
	static const struct from v[] = {
		{ "http://example.com:008080", NULL, "example.com:8080", NULL,
		    "http" },
		{ "http://example.com:0", NULL, "example.com:0", NULL, "http" },
		{ "http://example.com:8080", NULL, "example.com:8080 ", NULL,
		    "http" },
		{ "http://[]:8080", NULL, "[]:8080", NULL, "http" },
		{ "http://[::1:8080", NULL, "[::1:8080", NULL, "http" },
	};
	struct pgsse_csrf_req	 r = good();
	char			 host[PGSSE_HOST_MAX + 2];
	char			 o[PGSSE_HOST_MAX + 16];

	memset(host, 'a', sizeof(host));
	host[PGSSE_HOST_MAX] = '\0';
	snprintf(o, sizeof(o), "http://%s", host);
	r.origin = o;
	r.host = host;
	ck_assert_int_eq(check(&r), PGSSE_CSRF_OK);
	host[PGSSE_HOST_MAX] = 'a';
	host[PGSSE_HOST_MAX + 1] = '\0';
	snprintf(o, sizeof(o), "http://%s", host);
	ck_assert_int_eq(check(&r), PGSSE_CSRF_CROSS_ORIGIN);
	FROM_EACH(v, PGSSE_CSRF_CROSS_ORIGIN);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("csrf");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, csrf_accepts);
	tcase_add_test(tc, csrf_nonces_unique);
	tcase_add_test(tc, csrf_referer_fallback);
	tcase_add_test(tc, csrf_shared_secret);
	tcase_add_test(tc, csrf_mac_is_hmac);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, csrf_refuses_no_hx);
	tcase_add_test(tc, csrf_refuses_foreign_origin);
	tcase_add_test(tc, csrf_refuses_rebound_host);
	tcase_add_test(tc, csrf_refuses_scheme_mismatch);
	tcase_add_test(tc, csrf_refuses_port_mismatch);
	tcase_add_test(tc, csrf_refuses_missing_token);
	tcase_add_test(tc, csrf_refuses_wrong_token);
	tcase_add_test(tc, csrf_refuses_unsigned_token);
	tcase_add_test(tc, csrf_refuses_other_secret);
	tcase_add_test(tc, csrf_refuses_altered_token);
	tcase_add_test(tc, csrf_refuses_cookie_header_differ);
	suite_add_tcase(s, tc);
	tc = tcase_create("secret");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, csrf_key_load);
	tcase_add_test(tc, csrf_key_refused);
	tcase_add_test(tc, csrf_set_cookie);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, csrf_hostile_hosts);
	tcase_add_test(tc, csrf_refuses_capitals);
	suite_add_tcase(s, tc);
	return h_run_suite(s);
}
