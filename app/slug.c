#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slug.h"
#include "util.h"

/*
 * ASCII spellings of the letters of Latin-1 (U+00C0 to U+00FF) and
 * Latin Extended-A (U+0100 to U+017F), both cases; NULL for the two
 * signs among them (multiplication and division), which separate words.
 */
static const char *const fold_latin[] = {
	/* U+00C0 */
	"a", "a", "a", "a", "a", "a", "ae", "c",
	"e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "ss",
	/* U+00E0 */
	"a", "a", "a", "a", "a", "a", "ae", "c",
	"e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL,
	"o", "u", "u", "u", "u", "y", "th", "y",
	/* U+0100 */
	"a", "a", "a", "a", "a", "a", "c", "c",
	"c", "c", "c", "c", "c", "c", "d", "d",
	"d", "d", "e", "e", "e", "e", "e", "e",
	"e", "e", "e", "e", "g", "g", "g", "g",
	/* U+0120 */
	"g", "g", "g", "g", "h", "h", "h", "h",
	"i", "i", "i", "i", "i", "i", "i", "i",
	"i", "i", "ij", "ij", "j", "j", "k", "k",
	"k", "l", "l", "l", "l", "l", "l", "l",
	/* U+0140 */
	"l", "l", "l", "n", "n", "n", "n", "n",
	"n", "n", "n", "n", "o", "o", "o", "o",
	"o", "o", "oe", "oe", "r", "r", "r", "r",
	"r", "r", "s", "s", "s", "s", "s", "s",
	/* U+0160 */
	"s", "s", "t", "t", "t", "t", "t", "t",
	"u", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "u", "w", "w", "y", "y",
	"y", "z", "z", "z", "z", "z", "z", "s"
};

#define FOLD_FIRST	0xc0
#define FOLD_LAST	0x17f

/*
 * Code points that separate words: punctuation and symbols of the blocks
 * where titles meet them.  Anything above U+007F not listed here, nor
 * ignored below, counts as a letter or digit.  A table of ranges instead
 * of the full Unicode character database: it errs towards keeping a
 * character, which costs a less tidy slug, never a broken one.
 */
static const uint32_t sep_ranges[][2] = {
	{ 0x0080, 0x00bf },	/* Latin-1 controls, punctuation, signs */
	{ 0x00d7, 0x00d7 }, { 0x00f7, 0x00f7 },
	{ 0x037e, 0x037e }, { 0x0387, 0x0387 },	/* Greek punctuation */
	{ 0x055a, 0x055f }, { 0x0589, 0x058a },	/* Armenian */
	{ 0x05be, 0x05be }, { 0x05c0, 0x05c0 }, { 0x05c3, 0x05c3 },
	{ 0x05f3, 0x05f4 },			/* Hebrew */
	{ 0x060c, 0x060d }, { 0x061b, 0x061f }, { 0x066a, 0x066d },
	{ 0x06d4, 0x06d4 },			/* Arabic */
	{ 0x0964, 0x0965 },			/* Devanagari danda */
	/* Spaces, punctuation, symbols, arrows, mathematics. */
	{ 0x2000, 0x200a }, { 0x2010, 0x2bff }, { 0x2e00, 0x2e7f },
	{ 0x3000, 0x3004 }, { 0x3008, 0x303f },	/* CJK punctuation */
	{ 0xe000, 0xf8ff },			/* private use */
	{ 0xfe10, 0xfe1f }, { 0xfe30, 0xfe6f },	/* small forms */
	{ 0xff00, 0xff0f }, { 0xff1a, 0xff20 },	/* full-width forms */
	{ 0xff3b, 0xff40 }, { 0xff5b, 0xff65 },
	{ 0xfff0, 0xffff },
	{ 0x1f000, 0x1faff },			/* emoji, pictographs */
	{ 0xf0000, 0x10ffff }			/* private use planes */
};

/*
 * Code points that vanish without separating: combining marks (a
 * decomposed "e" + U+0301 is still "e"), zero-width characters,
 * variation selectors and the byte order mark.
 */
static const uint32_t drop_ranges[][2] = {
	{ 0x02b0, 0x036f },	/* modifier letters, combining marks */
	{ 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x20d0, 0x20ff },
	{ 0x200b, 0x200f },	/* zero-width space, joiners, marks */
	{ 0x2060, 0x2064 },
	{ 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xfeff, 0xfeff },
	{ 0xe0100, 0xe01ef }
};

enum slug_class {
	SLUG_KEEP,
	SLUG_FOLD,
	SLUG_SEP,
	SLUG_DROP
};

static int
in_ranges(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (cp >= r[i][0] && cp <= r[i][1])
			return 1;
	return 0;
}

static enum slug_class
classify(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9') ? SLUG_KEEP : SLUG_SEP;
	/* Dropping first: some combining marks sit inside symbol blocks. */
	if (in_ranges(cp, drop_ranges,
	    sizeof(drop_ranges) / sizeof(drop_ranges[0])))
		return SLUG_DROP;
	if (cp >= FOLD_FIRST && cp <= FOLD_LAST)
		return fold_latin[cp - FOLD_FIRST] != NULL ? SLUG_FOLD :
		    SLUG_SEP;
	if (in_ranges(cp, sep_ranges,
	    sizeof(sep_ranges) / sizeof(sep_ranges[0])))
		return SLUG_SEP;
	return SLUG_KEEP;
}

/* Lower case for ASCII and the capitals of Greek, Cyrillic, Armenian. */
static uint32_t
lower(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 0x20;
	if (cp == 0x0386)
		return 0x03ac;
	if (cp >= 0x0388 && cp <= 0x038a)
		return cp + 0x25;
	if (cp == 0x038c)
		return 0x03cc;
	if (cp >= 0x038e && cp <= 0x038f)
		return cp + 0x3f;
	if (cp >= 0x0391 && cp <= 0x03ab && cp != 0x03a2)
		return cp + 0x20;
	if (cp >= 0x0400 && cp <= 0x040f)
		return cp + 0x50;
	if (cp >= 0x0410 && cp <= 0x042f)
		return cp + 0x20;
	if (cp >= 0x0531 && cp <= 0x0556)
		return cp + 0x30;
	return cp;
}

/*
 * Decodes one UTF-8 sequence at s; returns its length, or 0 for a
 * malformed one (overlong, surrogate, beyond U+10FFFF, truncated).
 */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t	 n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

static void
utf8_add(struct buf *b, uint32_t cp)
{
	char	 s[4];

	if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 4);
	}
}

/*
 * The length of at most max bytes of s without cutting a UTF-8 sequence
 * and without a trailing '-'.
 */
static size_t
cut(const char *s, size_t len, size_t max)
{
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	while (len > 0 && s[len - 1] == '-')
		len--;
	return len;
}

/*
 * The slug of a title (see slug.h): runs of separators become one '-',
 * none at either end, at most SLUG_MAX bytes; "post" when nothing is
 * left.  A malformed UTF-8 byte counts as a separator.  The caller
 * frees the result.
 */
char *
slug_from_title(const char *title)
{
	const unsigned char	*p = (const unsigned char *)title;
	struct buf		 b;
	uint32_t		 cp;
	size_t			 n, len;
	int			 dash = 0;
	char			*out;

	buf_init(&b);
	while (*p != '\0' && b.len <= SLUG_MAX + 4) {
		if ((n = utf8_decode(p, &cp)) == 0) {
			cp = '-';
			n = 1;
		}
		p += n;
		switch (classify(cp)) {
		case SLUG_DROP:
			continue;
		case SLUG_SEP:
			dash = 1;
			continue;
		case SLUG_FOLD:
		case SLUG_KEEP:
			break;
		}
		if (dash && b.len > 0)
			buf_addc(&b, '-');
		dash = 0;
		if (classify(cp) == SLUG_FOLD)
			buf_adds(&b, fold_latin[cp - FOLD_FIRST]);
		else if (cp < 0x80)
			buf_addc(&b, (char)lower(cp));
		else
			utf8_add(&b, lower(cp));
	}
	len = cut(b.data, b.len, SLUG_MAX);
	out = len > 0 ? xstrndup(b.data, len) : xstrdup("post");
	buf_free(&b);
	return out;
}

/* base-n, with base shortened as needed to stay within SLUG_MAX bytes. */
char *
slug_suffixed(const char *base, unsigned int n)
{
	char	 suffix[16];
	size_t	 len;

	snprintf(suffix, sizeof(suffix), "-%u", n);
	len = cut(base, strlen(base), SLUG_MAX - strlen(suffix));
	return xasprintf("%.*s%s", (int)len, base, suffix);
}

/*
 * Whether an editor's slug is one slug_from_title could have made: a
 * slug is its own slug, and nothing else is.
 */
int
slug_valid(const char *s)
{
	char	*again;
	int	 ok;

	if (*s == '\0' || strlen(s) > SLUG_MAX || !utf8_valid(s, strlen(s)))
		return 0;
	again = slug_from_title(s);
	ok = strcmp(again, s) == 0;
	free(again);
	return ok;
}
