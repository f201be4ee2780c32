/*
 * net_check.c: the network kinds' arguments, checked at parse time without
 * libcurl (corun-jobs(5), "http" and "tcp"). tcp's HOST:PORT is split here
 * too, for the connect.
 *
 * Pure: no I/O, no global state, no libcurl, so the parser and its tests
 * link without the network code, and `corun -n` on an http line loads
 * nothing. The URL check follows what libcurl's URL parser (curl_url_set,
 * no flags) accepts for an http or https URL, so a line that passes here is
 * one that the transfer can start with:
 *
 *  - no control character (bytes 0x01-0x1f, 0x7f) and no space anywhere;
 *  - a scheme, http or https in any case (any other scheme is "URL must be
 *    http or https", no scheme is "bad URL"), then ':' and one to three
 *    slashes;
 *  - an authority up to the first '/', '?' or '#': an optional user part
 *    up to the first '@', then a host that is not empty, then an optional
 *    ':PORT' of digits up to 65535 (empty allowed);
 *  - the host is an IPv6 address in brackets (with an optional %zone), or
 *    a name whose %XX escapes decoded hold no control character and none of
 *    the characters libcurl refuses in a host name;
 *  - the path, query and fragment are not checked further.
 *
 * The messages are those of the check that ran libcurl.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "net_check.h"
#include "util.h"

/* Characters libcurl refuses in a host name (after %XX decoding). */
#define NET_CHECK_HOST_BAD " \r\n\t/:#?!@{}[]\\$'\"^`*<>=;,+&()"
/* Longest IPv6 address text inside brackets, zone excluded. */
#define NET_CHECK_IPV6_MAX 45

/* Is c a character of an HTTP token (RFC 9110 tchar)? */
static bool
net_check_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Check a method: one token. */
static int
net_check_method(const char *m, char *err, size_t errlen)
{
	const char *p = m;

	while (net_check_tchar(*p))
		p++;
	if (p == m || *p != '\0') {
		errfmt(err, errlen, "http: bad method '%s'", m);
		return -1;
	}
	return 0;
}

/* Check a header: a token name, a colon, a value without line breaks. */
static int
net_check_header(const char *h, char *err, size_t errlen)
{
	const char *p = h;

	while (net_check_tchar(*p))
		p++;
	if (p == h || *p != ':' || strpbrk(p, "\r\n") != NULL) {
		errfmt(err, errlen,
		       "http: bad header '%s' (want 'NAME: VALUE')", h);
		return -1;
	}
	return 0;
}

/* Is the bracketed host [s, s + n) an IPv6 address, with an optional
 * zone ("%25zone", "%zone")? */
static bool
net_check_ipv6(const char *s, size_t n)
{
	char addr[NET_CHECK_IPV6_MAX + 1];
	struct in6_addr a6;
	const char *pct = memchr(s, '%', n);
	size_t alen = pct != NULL ? (size_t)(pct - s) : n;

	if (pct != NULL) {
		size_t zlen = n - alen - 1;
		if (zlen == 0)
			return false;
	}
	if (alen == 0 || alen > NET_CHECK_IPV6_MAX)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	return inet_pton(AF_INET6, addr, &a6) == 1;
}

/* Is [s, s + n) a host name libcurl takes: not empty, and once its %XX
 * escapes are decoded, no control character and no refused character? */
static bool
net_check_hostname(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && util_hexval(s[i + 1]) >= 0 &&
		    util_hexval(s[i + 2]) >= 0) {
			c = (unsigned char)(util_hexval(s[i + 1]) * 16 +
					    util_hexval(s[i + 2]));
			i += 2;
			if (c < 0x20)
				return false;
		}
		if (c != '\0' && strchr(NET_CHECK_HOST_BAD, c) != NULL)
			return false;
	}
	return true;
}

/* Is [s, s + n) a port: digits (possibly none) up to 65535? */
static bool
net_check_port(const char *s, size_t n)
{
	unsigned long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			return false;
	}
	return true;
}

/* Is the authority [s, s + n) (user@host:port) one libcurl takes? */
static bool
net_check_authority(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *colon;

	if (at != NULL) {
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (close == NULL ||
		    !net_check_ipv6(s + 1, (size_t)(close - s) - 1))
			return false;
		size_t rest = n - (size_t)(close + 1 - s);
		if (rest == 0)
			return true;
		return close[1] == ':' && net_check_port(close + 2, rest - 1);
	}
	colon = memchr(s, ':', n);
	if (colon == NULL)
		return net_check_hostname(s, n);
	return net_check_hostname(s, (size_t)(colon - s)) &&
	       net_check_port(colon + 1, n - (size_t)(colon + 1 - s));
}

/* Check a URL as libcurl parses it: absolute, http or https. */
static int
net_check_url(const char *url, char *err, size_t errlen)
{
	const char *p = url, *auth;
	size_t slashes = 0;

	for (const char *q = url; *q != '\0'; q++) {
		unsigned char c = (unsigned char)*q;
		if (c <= 0x20 || c == 0x7f)
			goto bad;
	}
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		goto bad;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':')
		goto bad;
	if (!((p - url == 4 && strncasecmp(url, "http", 4) == 0) ||
	      (p - url == 5 && strncasecmp(url, "https", 5) == 0))) {
		errfmt(err, errlen, "http: URL must be http or https: '%s'",
		       url);
		return -1;
	}
	for (p++; *p == '/'; p++)
		slashes++;
	if (slashes < 1 || slashes > 3)
		goto bad;
	auth = p;
	p += strcspn(p, "/?#");
	if (net_check_authority(auth, (size_t)(p - auth)))
		return 0;
bad:
	errfmt(err, errlen, "http: bad URL '%s'", url);
	return -1;
}

/* Split and check an http job's arguments; see net_check.h. */
int
net_check_http_args(int argc, char *const argv[], struct http_args *a,
		    char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *val;

		if (arg[0] != '-') {
			if (a->url != NULL) {
				errfmt(err, errlen,
				       "http: more than one URL: '%s'", arg);
				return -1;
			}
			if (net_check_url(arg, err, errlen) == -1)
				return -1;
			a->url = arg;
			continue;
		}
		if (strcmp(arg, "-L") == 0) {
			a->follow = true;
			continue;
		}
		if (strcmp(arg, "-X") != 0 && strcmp(arg, "-H") != 0 &&
		    strcmp(arg, "-d") != 0) {
			errfmt(err, errlen, "http: unknown option '%s'", arg);
			return -1;
		}
		if (i + 1 == argc) {
			errfmt(err, errlen, "http: %s needs a value", arg);
			return -1;
		}
		val = argv[++i];
		if ((arg[1] == 'X' && a->method != NULL) ||
		    (arg[1] == 'd' && a->data != NULL)) {
			errfmt(err, errlen, "http: %s given twice", arg);
			return -1;
		}
		if (arg[1] == 'X') {
			if (net_check_method(val, err, errlen) == -1)
				return -1;
			a->method = val;
		} else if (arg[1] == 'H') {
			if (net_check_header(val, err, errlen) == -1)
				return -1;
		} else {
			a->data = val;
		}
	}
	if (a->url == NULL) {
		errfmt(err, errlen, "http: missing URL");
		return -1;
	}
	return 0;
}

/* Check an http job line at parse time. */
int
net_check_http(int argc, char *const argv[], char *err, size_t errlen)
{
	struct http_args a;

	return net_check_http_args(argc, argv, &a, err, errlen);
}

/*
 * Split "HOST:PORT" or "[ADDR]:PORT": the host is arg[*hoff] for *hlen
 * bytes, the port starts at arg + *poff. 0, or -1 and a message.
 */
int
net_check_tcp_split(const char *arg, size_t *hoff, size_t *hlen, size_t *poff,
		    char *err, size_t errlen)
{
	const char *colon, *p;
	long port = 0;

	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');
		char addr[INET6_ADDRSTRLEN + 1];
		struct in6_addr in6;
		size_t n;

		if (end == NULL || end[1] != ':')
			goto bad;
		n = (size_t)(end - arg - 1);
		/* A zone (fe80::1%eth0) is left to getaddrinfo. */
		p = memchr(arg + 1, '%', n);
		if (p != NULL && (size_t)(p - arg - 1) + 1 < n)
			n = (size_t)(p - arg - 1);
		if (n == 0 || n >= sizeof addr)
			goto bad6;
		memcpy(addr, arg + 1, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET6, addr, &in6) != 1)
			goto bad6;
		*hoff = 1;
		*hlen = (size_t)(end - arg - 1);
		colon = end + 1;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL || colon == arg)
			goto bad;
		if (memchr(arg, ':', (size_t)(colon - arg)) != NULL) {
			errfmt(err, errlen,
			       "tcp: an IPv6 address goes in brackets: "
			       "'[ADDR]:PORT', got '%s'",
			       arg);
			return -1;
		}
		for (p = arg; p < colon; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				goto bad;
		*hoff = 0;
		*hlen = (size_t)(colon - arg);
	}
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (p == colon + 1 || *p != '\0' || port < 1 || port > 65535) {
		errfmt(err, errlen, "tcp: bad port in '%s'", arg);
		return -1;
	}
	*poff = (size_t)(colon + 1 - arg);
	return 0;
bad6:
	errfmt(err, errlen, "tcp: bad IPv6 address in '%s'", arg);
	return -1;
bad:
	errfmt(err, errlen, "tcp: expected HOST:PORT, got '%s'", arg);
	return -1;
}

/* Check a tcp job line at parse time. */
int
net_check_tcp(int argc, char *const argv[], char *err, size_t errlen)
{
	size_t hoff, hlen, poff;

	(void)argc;
	return net_check_tcp_split(argv[0], &hoff, &hlen, &poff, err, errlen);
}
