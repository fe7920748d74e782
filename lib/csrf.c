/*
 * csrf.c: the CSRF check of a POST to a fragment program, as a pure
 * function of the request's headers, and the tokens it takes.
 *
 * A token is a random nonce and its HMAC-SHA256 under a secret that
 * only the fragment programs read: a file named by PGSSE_SECRET_FILE
 * (or pgsse-app --secret-file), never the database, so no web-role SQL
 * can read it. Every process and host of a site shares the file, so a
 * token one issued passes on all. The server sets the token in the
 * pgsse_csrf cookie (SameSite=Strict, Secure under TLS); pages send it
 * back in the X-CSRF-Token header (www/js/csrf.js). A POST passes only
 * with:
 *  - HX-Request: true;
 *  - an Origin (or, without one, a Referer) whose scheme, host and port
 *    are the request's own: the scheme from HTTPS=on or REQUEST_SCHEME,
 *    host and port from Host, missing ports being 80 or 443;
 *  - a cookie token this secret signed, and the same token in the
 *    header.
 * A page on another origin can neither read the cookie nor send the
 * header without a CORS preflight that pgsse never answers, and cannot
 * make up a token of its own. MACs and tokens are compared in constant
 * time (CRYPTO_memcmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pgsse.h"
#include "pgsse-app.h"
#include "extern.h"
#include "csrf.h"

/* Bytes of the nonce and of the MAC; the token is both in hex. */
#define CSRF_NONCE_BYTES 16
#define CSRF_MAC_BYTES 32
/* What the MAC covers before the nonce: a secret used elsewhere too
 * signs nothing a token could be taken for. */
#define CSRF_CONTEXT "pgsse-csrf-v1"

/*
 * Nonces come from a pool of random bytes each thread keeps: one call
 * of OpenSSL's generator fills it for CSRF_POOL_NONCES tokens (a call
 * a token was 5% of pgsse-app's CPU under W5, most of it the
 * generator's own work after each call). Bytes handed out are wiped
 * from the pool, and a child of fork(3) starts with an empty one, so no
 * two tokens share a nonce (a child made without fork's handlers, by
 * _Fork or a raw clone, would share its parent's pool).
 */
#define CSRF_POOL_NONCES 32
static _Thread_local unsigned char	 csrf_pool[CSRF_POOL_NONCES *
					    CSRF_NONCE_BYTES];
static _Thread_local size_t		 csrf_pool_left;
static pthread_once_t			 csrf_pool_once = PTHREAD_ONCE_INIT;
static int				 csrf_pool_ok;	/* handler set */

static const char *const whys[PGSSE_CSRF__MAX] = {
	"ok",
	"missing HX-Request header",
	"cross-origin request refused",
	"missing or wrong CSRF token; reload the page",
	"host not allowed (PGSSE_ALLOWED_HOSTS)",
};

/* The scheme, host and port of an origin. host points into the text. */
struct csrf_origin {
	int		 tls;
	const char	*host;
	size_t		 hlen;
	long		 port;
};

/* Returns why's message for a 403 body. Can't fail; never NULL. */
const char *
pgsse_csrf_why_str(enum pgsse_csrf_why why)
{
	return why < PGSSE_CSRF__MAX ? whys[why] : "refused";
}

/*
 * Sets key to the len bytes of secret. Returns PGSSE_ERR_LIMIT if len
 * is out of bounds. key is the caller's.
 */
enum pgsse_err
pgsse_csrf_key_set(struct pgsse_csrf_key *key, const void *secret,
    size_t len)
{
	if (len < PGSSE_CSRF_SECRET_MIN || len > sizeof(key->k))
		return PGSSE_ERR_LIMIT;
	memcpy(key->k, secret, len);
	key->len = len;
	return PGSSE_OK;
}

/*
 * Reads the secret in the file at path into key. It must be a regular
 * file that others cannot read or write, of PGSSE_CSRF_SECRET_MIN to
 * PGSSE_CSRF_SECRET_MAX bytes. On error returns PGSSE_ERR_IO (cannot
 * read), PGSSE_ERR_FORBIDDEN (others may read it) or PGSSE_ERR_LIMIT
 * (size), and writes why, naming the file, into why (of size whysz).
 * Not thread-safe (strerror): call it at start-up.
 */
enum pgsse_err
pgsse_csrf_key_load(struct pgsse_csrf_key *key, const char *path,
    char *why, size_t whysz)
{
	unsigned char	 buf[PGSSE_CSRF_SECRET_MAX + 1];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 n = 1;
	int		 fd;
	enum pgsse_err	 er = PGSSE_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(why, whysz, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & S_IRWXO) {
		snprintf(why, whysz, "%s is open to other users (mode %03o): "
		    "chmod o-rwx %s", path, (unsigned)st.st_mode & 0777, path);
		er = PGSSE_ERR_FORBIDDEN;
		goto out;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		snprintf(why, whysz, "cannot read %s: %s", path,
		    strerror(errno));
		goto out;
	}
	er = pgsse_csrf_key_set(key, buf, len);
	if (er != PGSSE_OK)
		snprintf(why, whysz, "%s holds %s%zu bytes; it must hold %d to "
		    "%d random bytes: head -c 32 /dev/urandom >%s", path,
		    len > PGSSE_CSRF_SECRET_MAX ? "over " : "",
		    len > PGSSE_CSRF_SECRET_MAX ? (size_t)PGSSE_CSRF_SECRET_MAX :
		    len, PGSSE_CSRF_SECRET_MIN, PGSSE_CSRF_SECRET_MAX, path);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	return er;
}

/* Writes the n bytes of p in lowercase hex, and a NUL, to out. */
static void
csrf_hex(const unsigned char *p, size_t n, char *out)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* SHA-256's block, which HMAC pads the key to. */
#define CSRF_BLOCK 64

/*
 * A thread's HMAC-SHA256 keyed once: the digest states after the
 * padded key XOR ipad and XOR opad. libcrypto's one-shot HMAC() looks
 * the algorithm up and keys it anew each time, about 10 us of every
 * fragment request that issues or checks a token (perf, W5); from
 * these states a MAC takes two digest copies, under 1 us. Each thread
 * has its own (a digest context is not to be shared), made again when
 * the key differs, and freed when the thread ends.
 */
struct csrf_hmac {
	unsigned char	 k[PGSSE_CSRF_SECRET_MAX];
	size_t		 len;		/* 0: not keyed */
	EVP_MD_CTX	*in, *out, *work;
};

static pthread_key_t	 csrf_hmac_tls;
static pthread_once_t	 csrf_once = PTHREAD_ONCE_INIT;

/* Frees a thread's struct csrf_hmac. */
static void
csrf_hmac_free(void *arg)
{
	struct csrf_hmac	*h = arg;

	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->in);
	EVP_MD_CTX_free(h->out);
	EVP_MD_CTX_free(h->work);
	OPENSSL_cleanse(h->k, sizeof(h->k));
	free(h);
}

static void
csrf_tls_init(void)
{
	if (pthread_key_create(&csrf_hmac_tls, csrf_hmac_free) != 0)
		abort();
}

/*
 * Returns this thread's HMAC state keyed with key, or NULL if memory
 * or libcrypto failed. The thread owns it.
 */
static struct csrf_hmac *
csrf_hmac_get(const struct pgsse_csrf_key *key)
{
	struct csrf_hmac	*h;
	unsigned char		 pad[CSRF_BLOCK], hk[EVP_MAX_MD_SIZE];
	const unsigned char	*k = key->k;
	unsigned int		 hlen = 0;
	size_t			 i, klen = key->len;
	int			 ok;

	pthread_once(&csrf_once, csrf_tls_init);
	if ((h = pthread_getspecific(csrf_hmac_tls)) == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return NULL;
		h->in = EVP_MD_CTX_new();
		h->out = EVP_MD_CTX_new();
		h->work = EVP_MD_CTX_new();
		if (h->in == NULL || h->out == NULL || h->work == NULL ||
		    pthread_setspecific(csrf_hmac_tls, h) != 0) {
			csrf_hmac_free(h);
			return NULL;
		}
	}
	if (h->len == key->len && memcmp(h->k, key->k, key->len) == 0)
		return h;
	h->len = 0;
	/* HMAC takes a key longer than a block by its digest. */
	if (klen > CSRF_BLOCK) {
		if (!EVP_Digest(k, klen, hk, &hlen, EVP_sha256(), NULL))
			return NULL;
		k = hk;
		klen = hlen;
	}
	for (i = 0; i < CSRF_BLOCK; i++)
		pad[i] = (i < klen ? k[i] : 0) ^ 0x36;
	ok = EVP_DigestInit_ex(h->in, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(h->in, pad, sizeof(pad));
	for (i = 0; i < CSRF_BLOCK; i++)
		pad[i] = (i < klen ? k[i] : 0) ^ 0x5c;
	ok = ok && EVP_DigestInit_ex(h->out, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(h->out, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(hk, sizeof(hk));
	if (!ok)
		return NULL;
	memcpy(h->k, key->k, key->len);
	h->len = key->len;
	return h;
}

/*
 * Writes the hex MAC of the hex nonce (2 * CSRF_NONCE_BYTES digits)
 * under key to out. Returns 0 if libcrypto failed.
 */
static int
csrf_mac(const struct pgsse_csrf_key *key, const char *nonce, char *out)
{
	unsigned char		 msg[sizeof(CSRF_CONTEXT) + 2 * CSRF_NONCE_BYTES];
	unsigned char		 mac[EVP_MAX_MD_SIZE], inner[EVP_MAX_MD_SIZE];
	unsigned int		 len = 0, ilen = 0;
	struct csrf_hmac	*h;

	memcpy(msg, CSRF_CONTEXT, sizeof(CSRF_CONTEXT));
	memcpy(msg + sizeof(CSRF_CONTEXT), nonce, 2 * CSRF_NONCE_BYTES);
	if ((h = csrf_hmac_get(key)) == NULL ||
	    !EVP_MD_CTX_copy_ex(h->work, h->in) ||
	    !EVP_DigestUpdate(h->work, msg, sizeof(msg)) ||
	    !EVP_DigestFinal_ex(h->work, inner, &ilen) ||
	    !EVP_MD_CTX_copy_ex(h->work, h->out) ||
	    !EVP_DigestUpdate(h->work, inner, ilen) ||
	    !EVP_DigestFinal_ex(h->work, mac, &len) || len != CSRF_MAC_BYTES)
		return 0;
	csrf_hex(mac, CSRF_MAC_BYTES, out);
	return 1;
}

/* In a child of fork: the pool was its parent's, so it is not used. */
static void
csrf_pool_forget(void)
{
	OPENSSL_cleanse(csrf_pool, sizeof(csrf_pool));
	csrf_pool_left = 0;
}

/* Without the fork handler (out of memory), no pool: a call a token. */
static void
csrf_pool_init(void)
{
	csrf_pool_ok = pthread_atfork(NULL, NULL, csrf_pool_forget) == 0;
}

/*
 * Writes CSRF_NONCE_BYTES random bytes to out from this thread's pool,
 * refilled from OpenSSL's generator (seeded from the kernel's) when it
 * runs out. Returns 1, or 0 if no random bytes came.
 */
static int
csrf_nonce(unsigned char *out)
{
	unsigned char	*p;

	pthread_once(&csrf_pool_once, csrf_pool_init);
	if (!csrf_pool_ok)
		return RAND_bytes(out, CSRF_NONCE_BYTES) == 1;
	if (csrf_pool_left < CSRF_NONCE_BYTES) {
		if (RAND_bytes(csrf_pool, sizeof(csrf_pool)) != 1)
			return 0;
		csrf_pool_left = sizeof(csrf_pool);
	}
	p = csrf_pool + sizeof(csrf_pool) - csrf_pool_left;
	memcpy(out, p, CSRF_NONCE_BYTES);
	OPENSSL_cleanse(p, CSRF_NONCE_BYTES);
	csrf_pool_left -= CSRF_NONCE_BYTES;
	return 1;
}

/*
 * Writes a fresh token signed with key into out, of size outsz.
 * Returns PGSSE_ERR_INVAL if key holds no secret, PGSSE_ERR_LIMIT if
 * out is too small, PGSSE_ERR_IO if no random bytes or no MAC came;
 * out then holds the empty string if it has room.
 */
enum pgsse_err
pgsse_csrf_issue(const struct pgsse_csrf_key *key, char *out, size_t outsz)
{
	unsigned char	 raw[CSRF_NONCE_BYTES];

	if (outsz < PGSSE_CSRF_TOKEN_LEN + 1)
		return PGSSE_ERR_LIMIT;
	out[0] = '\0';
	if (key->len == 0)
		return PGSSE_ERR_INVAL;
	if (!csrf_nonce(raw))
		return PGSSE_ERR_IO;
	csrf_hex(raw, sizeof(raw), out);
	if (!csrf_mac(key, out, out + 2 * CSRF_NONCE_BYTES)) {
		out[0] = '\0';
		return PGSSE_ERR_IO;
	}
	return PGSSE_OK;
}

/*
 * Returns 1 if token was issued under key (its MAC checks), else 0.
 * Takes the same time for every wrong token of the right length.
 */
int
pgsse_csrf_valid(const struct pgsse_csrf_key *key, const char *token)
{
	char	 mac[2 * CSRF_MAC_BYTES + 1];

	if (key->len == 0 || token == NULL ||
	    strnlen(token, PGSSE_CSRF_TOKEN_LEN + 1) != PGSSE_CSRF_TOKEN_LEN ||
	    strspn(token, "0123456789abcdef") != PGSSE_CSRF_TOKEN_LEN ||
	    !csrf_mac(key, token, mac))
		return 0;
	return CRYPTO_memcmp(mac, token + 2 * CSRF_NONCE_BYTES,
	    2 * CSRF_MAC_BYTES) == 0;
}

/* Returns 1 if the request came over TLS: HTTPS=on or scheme https. */
static int
csrf_tls(const struct pgsse_csrf_req *r)
{
	if (r->https != NULL && strcasecmp(r->https, "on") == 0)
		return 1;
	return r->scheme != NULL && strcasecmp(r->scheme, "https") == 0;
}

/*
 * Parses "host[:port]" at z into o, whose tls is set: a DNS name or
 * address, or an IPv6 literal in brackets, at most PGSSE_HOST_MAX
 * bytes; a port of 1 to 65535, or the scheme's default. Returns what
 * follows, or NULL if it is malformed.
 */
static const char *
csrf_hostport(const char *z, struct csrf_origin *o)
{
	static const char	 name[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
	size_t			 n;

	o->host = z;
	if (*z == '[') {
		n = strspn(z + 1, "0123456789abcdefABCDEF:.");
		if (n == 0 || z[n + 1] != ']')
			return NULL;
		o->hlen = n + 2;
	} else
		o->hlen = strspn(z, name);
	if (o->hlen == 0 || o->hlen > PGSSE_HOST_MAX)
		return NULL;
	z += o->hlen;
	o->port = o->tls ? 443 : 80;
	if (*z != ':')
		return z;
	n = strspn(++z, "0123456789");
	if (n == 0 || n > 5)
		return NULL;
	for (o->port = 0; n > 0; n--)
		o->port = o->port * 10 + *z++ - '0';
	return o->port >= 1 && o->port <= 65535 ? z : NULL;
}

/*
 * Parses the origin at the start of url ("https://host:port") into o.
 * Returns 1 if it is well-formed and ends there, or (for a Referer,
 * with path set) goes on with a path, query or fragment.
 */
static int
csrf_origin(const char *url, int path, struct csrf_origin *o)
{
	const char	*z;

	if (strncasecmp(url, "http://", 7) == 0) {
		o->tls = 0;
		z = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		o->tls = 1;
		z = url + 8;
	} else
		return 0;
	if ((z = csrf_hostport(z, o)) == NULL)
		return 0;
	return *z == '\0' || (path && (*z == '/' || *z == '?' || *z == '#'));
}

/*
 * Returns 1 if self is one of the "host[:port]" entries of the comma-
 * separated list hosts (a missing port is the scheme's default).
 */
static int
csrf_host_listed(const char *hosts, const struct csrf_origin *self)
{
	struct csrf_origin	 e;
	const char		*z = hosts;

	while (*z != '\0') {
		z += strspn(z, ", ");
		e.tls = self->tls;
		if (*z == '\0' || (z = csrf_hostport(z, &e)) == NULL)
			return 0;
		if (e.port == self->port && e.hlen == self->hlen &&
		    strncasecmp(e.host, self->host, self->hlen) == 0)
			return 1;
		z += strcspn(z, ",");
	}
	return 0;
}

/* Returns 1 if the request's Origin (else Referer) is its own. */
static int
csrf_same_origin(const struct pgsse_csrf_req *r)
{
	struct csrf_origin	 self, from;
	const char		*z;

	if (r->host == NULL)
		return 0;
	self.tls = csrf_tls(r);
	if ((z = csrf_hostport(r->host, &self)) == NULL || *z != '\0')
		return 0;
	if (r->origin != NULL) {
		if (!csrf_origin(r->origin, 0, &from))
			return 0;
	} else if (r->referer == NULL || !csrf_origin(r->referer, 1, &from))
		return 0;
	return from.tls == self.tls && from.port == self.port &&
	    from.hlen == self.hlen &&
	    strncasecmp(from.host, self.host, self.hlen) == 0;
}

/* Returns 1 if the request's Host is in r->hosts. */
static int
csrf_allowed(const struct pgsse_csrf_req *r)
{
	struct csrf_origin	 self;
	const char		*z;

	self.tls = csrf_tls(r);
	return (z = csrf_hostport(r->host, &self)) != NULL && *z == '\0' &&
	    csrf_host_listed(r->hosts, &self);
}

/*
 * Returns 1 if the request's Host may be served: r->hosts is NULL (any
 * host) or lists it. For every request, so that a rebound DNS name
 * reads nothing. Can't fail.
 */
int
pgsse_csrf_host_ok(const struct pgsse_csrf_req *r)
{
	return r->hosts == NULL || csrf_allowed(r);
}

/*
 * Decides whether the POST described by r may proceed, with key being
 * the secret the tokens are issued under. Returns PGSSE_CSRF_OK, or why
 * not. Reads r only; can't fail otherwise.
 */
enum pgsse_csrf_why
pgsse_csrf_check(const struct pgsse_csrf_key *key,
    const struct pgsse_csrf_req *r)
{
	char	 cookie[PGSSE_CSRF_TOKEN_LEN + 1];

	if (r->hx_request == NULL || strcmp(r->hx_request, "true") != 0)
		return PGSSE_CSRF_NO_HX;
	if (!csrf_same_origin(r))
		return PGSSE_CSRF_CROSS_ORIGIN;
	if (r->hosts != NULL && !csrf_allowed(r))
		return PGSSE_CSRF_BAD_HOST;
	if (pgsse_cookie_get(r->cookie, PGSSE_CSRF_COOKIE, cookie,
	    sizeof(cookie)) != PGSSE_OK || !pgsse_csrf_valid(key, cookie) ||
	    r->token == NULL ||
	    strnlen(r->token, sizeof(cookie)) != PGSSE_CSRF_TOKEN_LEN ||
	    CRYPTO_memcmp(r->token, cookie, PGSSE_CSRF_TOKEN_LEN) != 0)
		return PGSSE_CSRF_BAD_TOKEN;
	return PGSSE_CSRF_OK;
}

/*
 * Issues a token under key into token (of size tokensz) and appends its
 * Set-Cookie line, Secure if r came over TLS, to headers. Returns as
 * pgsse_csrf_issue does, or PGSSE_ERR_NOMEM.
 */
enum pgsse_err
pgsse_csrf_set_cookie(const struct pgsse_csrf_key *key,
    const struct pgsse_csrf_req *r, char *token, size_t tokensz,
    struct pgsse_buf *headers)
{
	enum pgsse_err	 er;

	if ((er = pgsse_csrf_issue(key, token, tokensz)) != PGSSE_OK)
		return er;
	return pgsse_buf_printf(headers, "Set-Cookie: " PGSSE_CSRF_COOKIE
	    "=%s; Path=/; SameSite=Strict%s\r\n", token,
	    csrf_tls(r) ? "; Secure" : "");
}
