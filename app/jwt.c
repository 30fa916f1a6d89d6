#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwk.h"
#include "jwt.h"
#include "util.h"

static const char *const alg_names[JWT_ALG__MAX] = {
	[JWT_ALG_HS256] = "HS256",
	[JWT_ALG_HS384] = "HS384",
	[JWT_ALG_HS512] = "HS512",
	[JWT_ALG_RS256] = "RS256",
	[JWT_ALG_RS384] = "RS384",
	[JWT_ALG_RS512] = "RS512",
	[JWT_ALG_PS256] = "PS256",
	[JWT_ALG_PS384] = "PS384",
	[JWT_ALG_PS512] = "PS512",
	[JWT_ALG_ES256] = "ES256",
	[JWT_ALG_ES384] = "ES384",
	[JWT_ALG_ES512] = "ES512",
	[JWT_ALG_EDDSA] = "EdDSA",
};

/* Header members that point at keys elsewhere: never followed. */
static const struct {
	const char	*name;
	const char	*why;
} key_headers[] = {
	{ "jku", "jku header refused" },
	{ "x5u", "x5u header refused" },
	{ "jwk", "jwk header refused" },
	{ "x5c", "x5c header refused" },
};

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const char *
jwt_alg_name(enum jwt_alg alg)
{
	return (unsigned int)alg < JWT_ALG__MAX ? alg_names[alg] : "?";
}

/* Names are case-sensitive (RFC 7515 section 4.1.1). */
int
jwt_alg_from_name(const char *name, enum jwt_alg *alg)
{
	int	 i;

	for (i = 0; i < JWT_ALG__MAX; i++)
		if (strcmp(alg_names[i], name) == 0) {
			*alg = (enum jwt_alg)i;
			return 0;
		}
	return -1;
}

enum jamb_status
jwt_alg_list(const char *list, unsigned int *mask, char *err, size_t errlen)
{
	char		*copy, *p, *name;
	enum jwt_alg	 alg;
	enum jamb_status st = JAMB_OK;

	*mask = 0;
	copy = p = xstrdup(list);
	while ((name = strsep(&p, ",")) != NULL) {
		name += strspn(name, " ");
		name[strcspn(name, " ")] = '\0';
		if (jwt_alg_from_name(name, &alg) != 0) {
			snprintf(err, errlen, "unknown algorithm \"%s\"", name);
			st = JAMB_EINVAL;
			break;
		}
		*mask |= JWT_ALG_BIT(alg);
	}
	free(copy);
	return st;
}

char *
jwt_b64url_encode(const void *p, size_t n)
{
	const unsigned char	*in = p;
	char			*out, *o;
	uint32_t		 v;
	size_t			 i;

	out = o = xmalloc(n / 3 * 4 + 4 + 1);
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*o++ = b64url_alphabet[v >> 18 & 63];
		*o++ = b64url_alphabet[v >> 12 & 63];
		*o++ = b64url_alphabet[v >> 6 & 63];
		*o++ = b64url_alphabet[v & 63];
	}
	if (n - i > 0) {
		v = (uint32_t)in[i] << 16;
		if (n - i == 2)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = b64url_alphabet[v >> 18 & 63];
		*o++ = b64url_alphabet[v >> 12 & 63];
		if (n - i == 2)
			*o++ = b64url_alphabet[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
jwt_b64url_decode(const char *s, size_t n, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*b;
	uint32_t	 acc = 0;
	size_t		 i, j = 0;
	int		 v, bits = 0;

	*out = NULL;
	*outlen = 0;
	if (n % 4 == 1)
		return -1;
	b = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if ((v = b64url_value(s[i])) < 0)
			goto fail;
		acc = (acc << 6 | (uint32_t)v) & 0xfff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			b[j++] = (unsigned char)(acc >> bits);
		}
	}

	/*
	 * The 2 or 4 bits left over must be zero: otherwise several texts
	 * would decode to the same bytes, and a token could be altered
	 * without touching what its signature covers.
	 */
	if ((acc & ((1u << bits) - 1)) != 0)
		goto fail;
	b[j] = '\0';
	*out = b;
	*outlen = j;
	return 0;
fail:
	free(b);
	return -1;
}

void
jwt_policy_init(struct jwt_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->algs = JWT_ALGS_ASYMMETRIC;
	p->leeway = 60;
}

enum jamb_status
jwt_sign(const struct jwk *key, enum jwt_alg alg, const json_t *extra,
    const json_t *claims, char **out, char *err, size_t errlen)
{
	json_t		*h = NULL;
	struct buf	 b;
	char		*hs = NULL, *cs = NULL, *enc;
	unsigned char	*sig = NULL;
	size_t		 siglen;
	enum jamb_status st = JAMB_EINVAL;

	*out = NULL;
	buf_init(&b);
	if (!json_is_object(claims)) {
		snprintf(err, errlen, "claims must be a JSON object");
		goto out;
	}
	if (extra != NULL && (!json_is_object(extra) ||
	    json_object_get(extra, "alg") != NULL)) {
		snprintf(err, errlen, "extra header members must be an "
		    "object without \"alg\"");
		goto out;
	}

	h = json_pack("{s:s, s:s}", "alg", jwt_alg_name(alg), "typ", "JWT");
	if (jwk_kid(key) != NULL)
		json_object_set_new(h, "kid", json_string(jwk_kid(key)));
	if (extra != NULL)
		json_object_update(h, (json_t *)extra);
	hs = json_dumps(h, JSON_COMPACT);
	cs = json_dumps(claims, JSON_COMPACT);
	if (hs == NULL || cs == NULL) {
		snprintf(err, errlen, "claims cannot be serialized");
		goto out;
	}

	enc = jwt_b64url_encode(hs, strlen(hs));
	buf_adds(&b, enc);
	free(enc);
	buf_addc(&b, '.');
	enc = jwt_b64url_encode(cs, strlen(cs));
	buf_adds(&b, enc);
	free(enc);
	if ((st = jwk_sign(key, alg, b.data, b.len, &sig, &siglen, err,
	    errlen)) != JAMB_OK)
		goto out;
	buf_addc(&b, '.');
	enc = jwt_b64url_encode(sig, siglen);
	buf_adds(&b, enc);
	free(enc);
	*out = b.data;
	b.data = NULL;
out:
	free(sig);
	free(hs);
	free(cs);
	json_decref(h);
	buf_free(&b);
	return st;
}

/* The three segments of a compact JWS. */
struct segments {
	const char	*p[3];
	size_t		 len[3];
};

static const char *
split(const char *t, size_t len, struct segments *s)
{
	const char	*dot[4];
	size_t		 i, ndots = 0;

	for (i = 0; i < len; i++)
		if (t[i] == '.') {
			if (ndots == 4)
				return "not a compact JWS";
			dot[ndots++] = t + i;
		}
	if (ndots == 4)
		return "JWE not supported";
	if (ndots != 2)
		return "not a compact JWS";
	s->p[0] = t;
	s->len[0] = (size_t)(dot[0] - t);
	s->p[1] = dot[0] + 1;
	s->len[1] = (size_t)(dot[1] - s->p[1]);
	s->p[2] = dot[1] + 1;
	s->len[2] = (size_t)(t + len - s->p[2]);
	return NULL;
}

/* A JSON object with unique member names, or NULL and a reason. */
static json_t *
parse_object(const unsigned char *b, size_t n, int header, const char **why)
{
	json_t		*o;
	json_error_t	 e;

	o = json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL && json_error_code(&e) == json_error_duplicate_key)
		*why = header ? "duplicate key in header" :
		    "duplicate key in claims";
	else if (o == NULL || !json_is_object(o))
		*why = header ? "header not a JSON object" :
		    "claims not a JSON object";
	else
		return o;
	json_decref(o);
	return NULL;
}

/* "at+jwt" matches "application/at+jwt" (RFC 7515 section 4.1.9). */
static int
typ_matches(const char *got, const char *want)
{
	static const char	 prefix[] = "application/";

	if (strncasecmp(got, prefix, sizeof(prefix) - 1) == 0)
		got += sizeof(prefix) - 1;
	if (strncasecmp(want, prefix, sizeof(prefix) - 1) == 0)
		want += sizeof(prefix) - 1;
	return str_case_eq(got, want);
}

static const char *
check_header(const json_t *h, const struct jwt_policy *p, enum jwt_alg *alg)
{
	const json_t	*a = json_object_get(h, "alg");
	const json_t	*kid = json_object_get(h, "kid");
	const json_t	*typ = json_object_get(h, "typ");
	size_t		 i;

	if (!json_is_string(a))
		return "alg missing";
	if (str_case_eq(json_string_value(a), "none"))
		return "alg none refused";
	if (jwt_alg_from_name(json_string_value(a), alg) != 0)
		return "alg unknown";
	if ((p->algs & JWT_ALG_BIT(*alg)) == 0)
		return "alg not allowed";

	/* jamb implements no extension, so any "crit" names an unknown one. */
	if (json_object_get(h, "crit") != NULL)
		return "crit header refused";
	for (i = 0; i < sizeof(key_headers) / sizeof(key_headers[0]); i++)
		if (json_object_get(h, key_headers[i].name) != NULL)
			return key_headers[i].why;

	if (kid != NULL && !json_is_string(kid))
		return "kid not a string";
	if (kid == NULL && p->require_kid)
		return "kid missing";
	if (typ != NULL && !json_is_string(typ))
		return "typ not a string";
	if (p->typ != NULL && (typ == NULL ||
	    !typ_matches(json_string_value(typ), p->typ)))
		return "typ mismatch";
	return NULL;
}

/* Which keys are tried is explained above jwt_verify in jwt.h. */
static const char *
check_signature(const struct jwk_set *set, const json_t *h,
    enum jwt_alg alg, const char *input, size_t inlen,
    const unsigned char *sig, size_t siglen)
{
	const struct jwk	*k;
	const char		*kid, *why = "bad signature";
	size_t			 i, named = 0, tried = 0;

	kid = json_string_value(json_object_get(h, "kid"));
	for (i = 0; i < jwk_set_count(set); i++) {
		k = jwk_set_at(set, i);
		if (kid != NULL && (jwk_kid(k) == NULL ||
		    strcmp(jwk_kid(k), kid) != 0))
			continue;
		named++;
		if (!jwk_allows(k, alg))
			continue;
		tried++;
		if (jwk_verify(k, alg, input, inlen, sig, siglen, &why))
			return NULL;
	}
	if (kid != NULL && named == 0)
		return "unknown kid";
	if (tried == 0)
		return kid != NULL ? "alg not allowed for key" :
		    "no key for alg";
	return why;
}

/* Registered claims must have their RFC 7519 types when present. */
static const char *
check_claim_types(const json_t *c)
{
	static const char *const numbers[] = { "exp", "nbf", "iat" };
	static const char *const strings[] = { "iss", "sub", "jti" };
	static const char *const number_why[] = { "exp not a number",
	    "nbf not a number", "iat not a number" };
	static const char *const string_why[] = { "iss not a string",
	    "sub not a string", "jti not a string" };
	const json_t	*v, *aud;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		v = json_object_get(c, numbers[i]);
		if (v != NULL && !json_is_number(v))
			return number_why[i];
		v = json_object_get(c, strings[i]);
		if (v != NULL && !json_is_string(v))
			return string_why[i];
	}
	aud = json_object_get(c, "aud");
	if (aud == NULL || json_is_string(aud))
		return NULL;
	if (!json_is_array(aud))
		return "aud not a string or array of strings";
	json_array_foreach(aud, i, v)
		if (!json_is_string(v))
			return "aud not a string or array of strings";
	return NULL;
}

static int
aud_matches(const json_t *aud, const char *want)
{
	const json_t	*v;
	size_t		 i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (strcmp(json_string_value(v), want) == 0)
			return 1;
	return 0;
}

static const char *
check_claims(const json_t *c, const struct jwt_policy *p)
{
	const json_t	*exp, *nbf, *iss, *aud;
	const char	*why;
	double		 now;

	if ((why = check_claim_types(c)) != NULL)
		return why;
	exp = json_object_get(c, "exp");
	nbf = json_object_get(c, "nbf");
	iss = json_object_get(c, "iss");
	aud = json_object_get(c, "aud");

	now = (double)(p->now != 0 ? p->now : (int64_t)time(NULL));
	if (exp == NULL)
		return "exp missing";
	if (now - (double)p->leeway >= json_number_value(exp))
		return "expired";
	if (nbf != NULL && now + (double)p->leeway < json_number_value(nbf))
		return "not yet valid";

	if (p->issuer != NULL && iss == NULL)
		return "iss missing";
	if (p->issuer != NULL && strcmp(json_string_value(iss),
	    p->issuer) != 0)
		return "iss mismatch";
	if (p->audience != NULL && aud == NULL)
		return "aud missing";
	if (p->audience != NULL && !aud_matches(aud, p->audience))
		return "aud mismatch";
	if (p->audience == NULL && aud != NULL)
		return "aud not expected";
	return NULL;
}

enum jamb_status
jwt_verify(const char *token, size_t len, const struct jwk_set *set,
    const struct jwt_policy *p, json_t **header, json_t **claims,
    char *why, size_t whylen)
{
	struct segments	 s;
	unsigned char	*hb = NULL, *cb = NULL, *sb = NULL;
	size_t		 hn, cn, sn;
	json_t		*h = NULL, *c = NULL;
	const char	*r;
	enum jwt_alg	 alg;
	enum jamb_status st = JAMB_EINVAL;

	if (header != NULL)
		*header = NULL;
	if (claims != NULL)
		*claims = NULL;
	if (len > JWT_MAX_TOKEN) {
		r = "token too large";
		goto out;
	}
	if ((r = split(token, len, &s)) != NULL)
		goto out;

	/* The header first: it says how the rest is to be read. */
	r = "empty segment";
	if (s.len[0] == 0)
		goto out;
	r = "bad base64url in header";
	if (jwt_b64url_decode(s.p[0], s.len[0], &hb, &hn) != 0)
		goto out;
	if ((h = parse_object(hb, hn, 1, &r)) == NULL ||
	    (r = check_header(h, p, &alg)) != NULL)
		goto out;

	r = "empty segment";
	if (s.len[1] == 0 || s.len[2] == 0)
		goto out;
	r = "bad base64url in payload";
	if (jwt_b64url_decode(s.p[1], s.len[1], &cb, &cn) != 0)
		goto out;
	r = "bad base64url in signature";
	if (jwt_b64url_decode(s.p[2], s.len[2], &sb, &sn) != 0)
		goto out;
	if ((r = check_signature(set, h, alg, token, s.len[0] + 1 + s.len[1],
	    sb, sn)) != NULL)
		goto out;

	/* Claims are read only once the signature vouches for them. */
	if ((c = parse_object(cb, cn, 0, &r)) == NULL ||
	    (r = check_claims(c, p)) != NULL)
		goto out;

	if (header != NULL)
		*header = json_incref(h);
	if (claims != NULL)
		*claims = json_incref(c);
	st = JAMB_OK;
out:
	if (st != JAMB_OK)
		snprintf(why, whylen, "%s", r);
	json_decref(h);
	json_decref(c);
	free(hb);
	free(cb);
	free(sb);
	return st;
}

/*
 * jamb token: verify, sign and publish keys from the command line, with
 * no configuration.  Exit status 0 on success, 1 for a refused token
 * (verify) or a key that cannot do the job (sign, jwks), 2 for a usage
 * error or keys that cannot be loaded for verify.
 */

#define CLI_MAX_KEYS	16

static void
cli_usage(FILE *f)
{
	fprintf(f,
	    "usage: jamb token verify --jwks FILE [--jwks FILE ...] "
	    "[--alg LIST] [--iss ISS]\n"
	    "                         [--aud AUD] [--typ TYP] "
	    "[--leeway SECONDS] [--at UNIX_TIME]\n"
	    "                         [--require-kid] TOKEN | -\n"
	    "       jamb token sign --key FILE [--kid KID] [--alg ALG] "
	    "[--claims JSON |\n"
	    "                       --claims-file FILE | -] "
	    "[--header JSON] [--ttl SECONDS]\n"
	    "       jamb token jwks --key FILE [--kid KID] [--alg ALG] "
	    "[--key FILE ...]\n"
	    "Key files are JWKS documents or PEM keys; a PEM key without "
	    "--kid gets its\nRFC 7638 thumbprint as kid.  verify accepts "
	    "the asymmetric algorithms unless\n--alg says otherwise, "
	    "allows 60 s of clock skew, and refuses a token with\n\"aud\" "
	    "unless --aud is given.  It prints the header and claims, or "
	    "\"invalid:\nREASON\" on stderr with exit status 1.\n");
}

static int
parse_int64(const char *s, int64_t min, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min)
		return -1;
	*out = v;
	return 0;
}

/* Reads a whole stream of at most max bytes; NULL when longer. */
static char *
read_stream(FILE *f, size_t max, size_t *len)
{
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > max) {
			buf_free(&b);
			return NULL;
		}
	}
	*len = b.len;
	return b.data;
}

static int
load_keys(struct jwk_set *set, const char *path, const char *kid,
    const char *alg)
{
	char	 err[512] = "";

	if (jwk_set_load_file(set, path, kid, alg, err, sizeof(err)) !=
	    JAMB_OK) {
		fprintf(stderr, "jamb token: %s\n", err);
		return -1;
	}
	if (err[0] != '\0')
		fprintf(stderr, "jamb token: %s: skipped %s\n", path, err);
	return 0;
}

static void
print_json(const json_t *doc)
{
	char	*s = json_dumps(doc, JSON_INDENT(2));

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

/*
 * The options of verify, every one but --require-kid with a value;
 * returns -1 after a message.
 */
static int
verify_options(int argc, char **argv, struct jwt_policy *p,
    struct jwk_set *set, const char **token)
{
	const char	*a, *v;
	char		 err[256] = "";
	int		 i, ok, nkeys = 0;

	*token = NULL;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--require-kid") == 0) {
			p->require_kid = 1;
			continue;
		}
		if ((a[0] != '-' || strcmp(a, "-") == 0) && *token == NULL) {
			*token = a;
			continue;
		}
		if (i + 1 == argc)
			goto usage;
		v = argv[++i];
		ok = 1;
		if (strcmp(a, "--jwks") == 0) {
			if (load_keys(set, v, NULL, NULL) != 0)
				return -1;
			nkeys++;
		} else if (strcmp(a, "--alg") == 0)
			ok = jwt_alg_list(v, &p->algs, err, sizeof(err)) ==
			    JAMB_OK;
		else if (strcmp(a, "--iss") == 0)
			p->issuer = v;
		else if (strcmp(a, "--aud") == 0)
			p->audience = v;
		else if (strcmp(a, "--typ") == 0)
			p->typ = v;
		else if (strcmp(a, "--leeway") == 0)
			ok = parse_int64(v, 0, &p->leeway) == 0;
		else if (strcmp(a, "--at") == 0)
			ok = parse_int64(v, 1, &p->now) == 0;
		else
			ok = 0;
		if (!ok)
			goto usage;
	}
	if (nkeys == 0 || *token == NULL) {
		fprintf(stderr, "jamb token verify: --jwks and a token are "
		    "required\n");
		return -1;
	}
	return 0;
usage:
	if (err[0] != '\0')
		fprintf(stderr, "jamb token verify: %s\n", err);
	else
		fprintf(stderr, "jamb token verify: bad argument %s\n", a);
	return -1;
}

static int
cli_verify(int argc, char **argv)
{
	struct jwt_policy	 p;
	struct jwk_set		*set = jwk_set_new();
	const char		*arg;
	char			*token = NULL, why[128];
	size_t			 len;
	json_t			*h = NULL, *c = NULL, *doc;
	int			 rc = 2;

	jwt_policy_init(&p);
	if (verify_options(argc, argv, &p, set, &arg) != 0)
		goto out;

	/* From stdin, the line break after the token is not part of it. */
	if (strcmp(arg, "-") == 0) {
		if ((token = read_stream(stdin, JWT_MAX_TOKEN + 2, &len)) ==
		    NULL) {
			fprintf(stderr, "invalid: token too large\n");
			rc = 1;
			goto out;
		}
		while (len > 0 && strchr(" \t\r\n", token[len - 1]) != NULL)
			len--;
	} else {
		token = xstrdup(arg);
		len = strlen(token);
	}

	if (jwt_verify(token, len, set, &p, &h, &c, why, sizeof(why)) !=
	    JAMB_OK) {
		fprintf(stderr, "invalid: %s\n", why);
		rc = 1;
		goto out;
	}
	doc = json_pack("{s:O, s:O}", "header", h, "claims", c);
	print_json(doc);
	json_decref(doc);
	rc = 0;
out:
	json_decref(h);
	json_decref(c);
	free(token);
	jwk_set_free(set);
	return rc;
}

struct sign_args {
	const char	*key;
	const char	*kid;
	const char	*alg;
	const char	*claims;
	const char	*claims_file;
	const char	*header;
	int64_t		 ttl;		/* -1: none */
};

static int
sign_options(int argc, char **argv, struct sign_args *s)
{
	const char	*a, *v;
	int		 i, ok;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (i + 1 == argc)
			goto usage;
		v = argv[++i];
		ok = 1;
		if (strcmp(a, "--key") == 0)
			s->key = v;
		else if (strcmp(a, "--kid") == 0)
			s->kid = v;
		else if (strcmp(a, "--alg") == 0)
			s->alg = v;
		else if (strcmp(a, "--claims") == 0)
			s->claims = v;
		else if (strcmp(a, "--claims-file") == 0)
			s->claims_file = v;
		else if (strcmp(a, "--header") == 0)
			s->header = v;
		else if (strcmp(a, "--ttl") == 0)
			ok = parse_int64(v, 1, &s->ttl) == 0;
		else
			ok = 0;
		if (!ok)
			goto usage;
	}
	if (s->key == NULL || (s->claims != NULL && s->claims_file != NULL)) {
		fprintf(stderr, "jamb token sign: --key is required, and only "
		    "one of --claims and --claims-file\n");
		return -1;
	}
	return 0;
usage:
	fprintf(stderr, "jamb token sign: bad argument %s\n", a);
	return -1;
}

/* A JSON object from text; NULL after a message naming what it is. */
static json_t *
parse_cli_object(const char *text, size_t len, const char *what)
{
	json_t		*o;
	json_error_t	 e;

	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (o == NULL || !json_is_object(o)) {
		fprintf(stderr, "jamb token sign: %s is not a JSON "
		    "object%s%s\n", what, o == NULL ? ": " : "",
		    o == NULL ? e.text : "");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The claims of --claims or --claims-file, with --ttl applied. */
static json_t *
sign_claims(const struct sign_args *s)
{
	FILE	*f;
	json_t	*c;
	char	*text = NULL;
	size_t	 len = 0;
	time_t	 now = time(NULL);

	if (s->claims_file != NULL) {
		f = strcmp(s->claims_file, "-") == 0 ? stdin :
		    fopen(s->claims_file, "rb");
		if (f == NULL) {
			fprintf(stderr, "jamb token sign: %s: %s\n",
			    s->claims_file, strerror(errno));
			return NULL;
		}
		text = read_stream(f, JWT_MAX_TOKEN, &len);
		if (f != stdin)
			fclose(f);
		if (text == NULL) {
			fprintf(stderr, "jamb token sign: %s: too large for "
			    "a token\n", s->claims_file);
			return NULL;
		}
		c = parse_cli_object(text, len, s->claims_file);
		free(text);
	} else if (s->claims != NULL)
		c = parse_cli_object(s->claims, strlen(s->claims), "--claims");
	else
		c = json_object();

	if (c != NULL && s->ttl > 0) {
		json_object_set_new(c, "iat", json_integer(now));
		json_object_set_new(c, "exp", json_integer(now + s->ttl));
	}
	return c;
}

/* The key to sign with: the one named by --kid, or the only one. */
static const struct jwk *
sign_key(const struct jwk_set *set, const struct sign_args *s)
{
	const struct jwk	*k;

	if (s->kid != NULL)
		k = jwk_set_find(set, s->kid);
	else
		k = jwk_set_count(set) == 1 ? jwk_set_at(set, 0) : NULL;
	if (k == NULL && s->kid != NULL)
		fprintf(stderr, "jamb token sign: %s has no key %s\n", s->key,
		    s->kid);
	else if (k == NULL)
		fprintf(stderr, "jamb token sign: %s has %zu keys: choose one "
		    "with --kid\n", s->key, jwk_set_count(set));
	return k;
}

/* --alg, or the one algorithm the key allows. */
static int
sign_alg(const struct jwk *k, const struct sign_args *s, enum jwt_alg *alg)
{
	int	 i, n = 0;

	if (s->alg != NULL) {
		if (jwt_alg_from_name(s->alg, alg) == 0)
			return 0;
		fprintf(stderr, "jamb token sign: unknown algorithm %s\n",
		    s->alg);
		return -1;
	}
	for (i = 0; i < JWT_ALG__MAX; i++)
		if (jwk_allows(k, (enum jwt_alg)i) && n++ == 0)
			*alg = (enum jwt_alg)i;
	if (n == 1)
		return 0;
	fprintf(stderr, "jamb token sign: this %s key serves several "
	    "algorithms: choose one with --alg\n", jwk_kty(k));
	return -1;
}

static int
cli_sign(int argc, char **argv)
{
	struct sign_args	 s = { .ttl = -1 };
	struct jwk_set		*set = jwk_set_new();
	const struct jwk	*k;
	json_t			*claims = NULL, *header = NULL;
	char			*token = NULL, err[256];
	enum jwt_alg		 alg = JWT_ALG__MAX;
	int			 rc = 2;

	if (sign_options(argc, argv, &s) != 0)
		goto out;
	rc = 1;
	if (load_keys(set, s.key, s.kid, NULL) != 0 ||
	    (k = sign_key(set, &s)) == NULL || sign_alg(k, &s, &alg) != 0 ||
	    (claims = sign_claims(&s)) == NULL)
		goto out;
	if (s.header != NULL && (header = parse_cli_object(s.header,
	    strlen(s.header), "--header")) == NULL)
		goto out;

	if (jwt_sign(k, alg, header, claims, &token, err, sizeof(err)) !=
	    JAMB_OK) {
		fprintf(stderr, "jamb token sign: %s\n", err);
		goto out;
	}
	printf("%s\n", token);
	rc = 0;
out:
	free(token);
	json_decref(claims);
	json_decref(header);
	jwk_set_free(set);
	return rc;
}

/* --key FILE, each optionally followed by its --kid and --alg. */
static int
cli_jwks(int argc, char **argv)
{
	struct {
		const char	*path, *kid, *alg;
	} keys[CLI_MAX_KEYS];
	struct jwk_set	*set = NULL;
	json_t		*doc;
	const char	*a, *v;
	int		 i, n = 0, rc = 2;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (i + 1 == argc)
			goto usage;
		v = argv[++i];
		if (strcmp(a, "--key") == 0 && n < CLI_MAX_KEYS) {
			keys[n].path = v;
			keys[n].kid = keys[n].alg = NULL;
			n++;
		} else if (strcmp(a, "--kid") == 0 && n > 0)
			keys[n - 1].kid = v;
		else if (strcmp(a, "--alg") == 0 && n > 0)
			keys[n - 1].alg = v;
		else
			goto usage;
	}
	if (n == 0) {
		a = "(none: --key is required)";
		goto usage;
	}

	rc = 1;
	set = jwk_set_new();
	for (i = 0; i < n; i++)
		if (load_keys(set, keys[i].path, keys[i].kid,
		    keys[i].alg) != 0)
			goto out;
	doc = jwk_set_public(set);
	print_json(doc);
	json_decref(doc);
	rc = 0;
	goto out;
usage:
	fprintf(stderr, "jamb token jwks: bad argument %s\n", a);
out:
	jwk_set_free(set);
	return rc;
}

int
jwt_cli_main(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "verify") == 0)
		return cli_verify(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "sign") == 0)
		return cli_sign(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "jwks") == 0)
		return cli_jwks(argc, argv);
	if (argc >= 1 && (strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "--help") == 0)) {
		cli_usage(stdout);
		return 0;
	}
	cli_usage(stderr);
	return 2;
}

char *
jwt_peek(const char *tok, int segment, const char *member)
{
	const char	*start = tok, *end, *v;
	unsigned char	*raw;
	size_t		 len;
	json_t		*doc;
	char		*out = NULL;

	if (segment == 1 && (start = strchr(tok, '.')) != NULL)
		start++;
	if (start == NULL || (end = strchr(start, '.')) == NULL ||
	    jwt_b64url_decode(start, (size_t)(end - start), &raw, &len) != 0)
		return NULL;
	if ((doc = json_loadb((char *)raw, len, 0, NULL)) != NULL &&
	    (v = json_string_value(json_object_get(doc, member))) != NULL)
		out = xstrdup(v);
	json_decref(doc);
	free(raw);
	return out;
}
