/*
 * The client's address behind reverse proxies.  REMOTE_ADDR names the
 * peer that connected; only when that peer is one of [http]
 * trusted_proxies are the Forwarded (RFC 7239) or X-Forwarded-For
 * headers believed, and then only as far as they were written by
 * trusted proxies: the list is walked from the right, where each proxy
 * appends the address it saw, and the first address that is not a
 * trusted proxy is the client.  Anything to its left was written by the
 * client itself and may be forged.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clientip.h"

/* Hops of a header kept for the walk; the left-most beyond are dropped. */
#define HOPS_MAX	32

struct ipaddr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 b[16];
};

/* The hops of a forwarding header, left to right; "": not an address. */
struct hops {
	char	 addr[HOPS_MAX][CLIENTIP_MAX];
	size_t	 n;
};

/*
 * Parses n bytes of s as a bare IPv4 or IPv6 address.  An IPv4-mapped
 * IPv6 address is taken as the IPv4 address it maps, so that a peer
 * seen through a dual-stack socket matches an IPv4 list entry.
 */
static int
ip_parse(const char *s, size_t n, struct ipaddr *ip)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };
	char	 tmp[CLIENTIP_MAX];

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, tmp, ip->b) == 1) {
		ip->family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, tmp, ip->b) != 1)
		return 0;
	ip->family = AF_INET6;
	if (memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
		memmove(ip->b, ip->b + 12, 4);
		memset(ip->b + 4, 0, 12);
		ip->family = AF_INET;
	}
	return 1;
}

/* The canonical text of an address (inet_ntop), or 0 if it won't fit. */
static int
ip_text(const struct ipaddr *ip, char *out, size_t outlen)
{
	return inet_ntop(ip->family, ip->b, out, (socklen_t)outlen) != NULL;
}

/* Parses "ADDR" or "ADDR/BITS" of n bytes; bits is the prefix length. */
static int
cidr_parse(const char *s, size_t n, struct ipaddr *net, int *bits)
{
	const char	*slash;
	size_t		 i;
	int		 max;

	slash = memchr(s, '/', n);
	if (!ip_parse(s, slash ? (size_t)(slash - s) : n, net))
		return 0;
	max = net->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		*bits = max;
		return 1;
	}
	i = (size_t)(slash - s) + 1;
	if (i == n || n - i > 3)
		return 0;
	for (*bits = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		*bits = *bits * 10 + (s[i] - '0');
	}
	return *bits <= max;
}

static int
cidr_match(const struct ipaddr *net, int bits, const struct ipaddr *ip)
{
	int	 whole = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (net->family != ip->family)
		return 0;
	if (memcmp(net->b, ip->b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (net->b[whole] & mask) == (ip->b[whole] & mask);
}

/*
 * Calls fn on each entry of a comma-separated list, trimmed; stops and
 * returns 0 when fn does, else returns 1.
 */
static int
list_each(const char *list, int (*fn)(const char *, size_t, void *),
    void *arg)
{
	const char	*p = list, *end;
	size_t		 len;

	while (*p != '\0') {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		end = p;
		while (*end != '\0' && *end != ',')
			end++;
		len = (size_t)(end - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (!fn(p, len, arg))
			return 0;
		p = end;
	}
	return 1;
}

static int
entry_valid(const char *s, size_t n, void *arg)
{
	struct ipaddr	 net;
	int		 bits;

	(void)arg;
	return cidr_parse(s, n, &net, &bits);
}

/* Whether every entry of a trusted_proxies list is an address or CIDR. */
int
clientip_list_valid(const char *list)
{
	return list_each(list, entry_valid, NULL);
}

/* Returns 0 (stopping the walk) on the entry that contains arg. */
static int
entry_misses(const char *s, size_t n, void *arg)
{
	struct ipaddr	 net;
	int		 bits;

	return !(cidr_parse(s, n, &net, &bits) && cidr_match(&net, bits, arg));
}

/* Whether the address addr falls in an entry of the list. */
int
clientip_in_list(const char *list, const char *addr)
{
	struct ipaddr	 ip;

	if (!ip_parse(addr, strlen(addr), &ip))
		return 0;
	return !list_each(list, entry_misses, &ip);
}

/* Whether n bytes of s are a port: digits, or an obfuscated "_token". */
static int
port_valid(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[0] == '_' &&
		    (isalnum((unsigned char)s[i]) || s[i] == '.' ||
		    s[i] == '-' || s[i] == '_')))
			return 0;
	return 1;
}

/*
 * Reads a node as proxies write it: "192.0.2.1", "192.0.2.1:8080",
 * "[2001:db8::1]", "[2001:db8::1]:8080" or a bare "2001:db8::1".  On
 * success writes the address in canonical form, without the port, and
 * returns 1; returns 0 for anything else, such as "unknown", an
 * obfuscated "_name" or garbage.
 */
int
clientip_normalize(const char *s, size_t n, char *out, size_t outlen)
{
	struct ipaddr	 ip;
	const char	*close, *colon;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > 0 && *s == '[') {
		if ((close = memchr(s, ']', n)) == NULL)
			return 0;
		if (close + 1 < s + n && (close[1] != ':' ||
		    !port_valid(close + 2, (size_t)(s + n - close - 2))))
			return 0;
		if (!ip_parse(s + 1, (size_t)(close - s - 1), &ip) ||
		    memchr(s + 1, ':', (size_t)(close - s - 1)) == NULL)
			return 0;
		return ip_text(&ip, out, outlen);
	}
	if (ip_parse(s, n, &ip))
		return ip_text(&ip, out, outlen);

	/* Only IPv4 takes a port without brackets. */
	colon = memchr(s, ':', n);
	if (colon == NULL || memchr(colon + 1, ':', (size_t)(s + n - colon -
	    1)) != NULL)
		return 0;
	if (!port_valid(colon + 1, (size_t)(s + n - colon - 1)) ||
	    !ip_parse(s, (size_t)(colon - s), &ip) || ip.family != AF_INET)
		return 0;
	return ip_text(&ip, out, outlen);
}

/* Appends a hop, dropping the left-most when full. */
static void
hops_add(struct hops *h, const char *s, size_t n)
{
	if (h->n == HOPS_MAX) {
		memmove(h->addr[0], h->addr[1], sizeof(h->addr[0]) *
		    (HOPS_MAX - 1));
		h->n--;
	}
	if (s == NULL || !clientip_normalize(s, n, h->addr[h->n],
	    sizeof(h->addr[0])))
		h->addr[h->n][0] = '\0';
	h->n++;
}

static int
is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~:[]",
	    c) != NULL);
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Reads a token or quoted string at *pp into val (unescaped); returns
 * its length, or -1 if it is malformed or longer than val.
 */
static int
param_value(const char **pp, char *val, size_t vallen)
{
	const char	*p = *pp;
	size_t		 n = 0;

	if (*p != '"') {
		while (is_tchar((unsigned char)*p) && n + 1 < vallen)
			val[n++] = *p++;
		if (n == 0 || is_tchar((unsigned char)*p))
			return -1;
		*pp = p;
		return (int)n;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\0' || n + 1 >= vallen)
			return -1;
		val[n++] = *p;
	}
	*pp = p + 1;
	return (int)n;
}

/*
 * Splits a Forwarded header into its hops: the "for" of each element,
 * an element without one being a hop that cannot be named.  A syntax
 * error ends the list with such a hop, so the walk stops there rather
 * than guess which part a trusted proxy wrote.
 */
static void
forwarded_hops(const char *p, struct hops *h)
{
	char		 val[CLIENTIP_MAX * 2];
	const char	*name;
	size_t		 namelen;
	int		 n, forlen;
	char		 forval[sizeof(val)];

	while (*(p = skip_ows(p)) != '\0') {
		if (*p == ',') {
			p++;
			continue;
		}
		forlen = -1;
		for (;;) {
			name = p = skip_ows(p);
			while (isalnum((unsigned char)*p) || *p == '-' ||
			    *p == '_')
				p++;
			namelen = (size_t)(p - name);
			if (namelen == 0 || *p++ != '=')
				goto bad;
			if ((n = param_value(&p, val, sizeof(val))) < 0)
				goto bad;
			if (namelen == 3 && strncasecmp(name, "for", 3) == 0) {
				memcpy(forval, val, (size_t)n);
				forlen = n;
			}
			p = skip_ows(p);
			if (*p != ';')
				break;
			p++;
		}
		if (*p != ',' && *p != '\0')
			goto bad;
		hops_add(h, forlen < 0 ? NULL : forval, forlen < 0 ? 0 :
		    (size_t)forlen);
	}
	return;
bad:
	hops_add(h, NULL, 0);
}

static int
xff_hop(const char *s, size_t n, void *arg)
{
	hops_add(arg, s, n);
	return 1;
}

/*
 * Writes the client's address to out: the canonical form of peer (the
 * REMOTE_ADDR) when it is not a trusted proxy or sent no forwarding
 * header; else the first hop from the right of forwarded (preferred
 * when present) or xff that is not a trusted proxy.  A hop that names
 * no address ("unknown", "_hidden", garbage) ends the walk, and the
 * client is then the trusted proxy that reported it.  Either header
 * may be NULL.
 */
void
clientip_resolve(const char *trusted, const char *peer,
    const char *forwarded, const char *xff, char *out, size_t outlen)
{
	struct hops	 h;
	size_t		 i;

	if (!clientip_normalize(peer, strlen(peer), out, outlen))
		snprintf(out, outlen, "%s", peer);
	if (*trusted == '\0' || !clientip_in_list(trusted, out))
		return;

	h.n = 0;
	if (forwarded != NULL && *skip_ows(forwarded) != '\0')
		forwarded_hops(forwarded, &h);
	else if (xff != NULL)
		list_each(xff, xff_hop, &h);
	for (i = h.n; i > 0; i--) {
		if (h.addr[i - 1][0] == '\0' ||
		    strlen(h.addr[i - 1]) >= outlen)
			break;
		snprintf(out, outlen, "%s", h.addr[i - 1]);
		if (!clientip_in_list(trusted, out))
			break;
	}
}
