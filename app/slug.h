#ifndef JAMB_SLUG_H
#define JAMB_SLUG_H

#include <stddef.h>

/* Bytes, as posts.slug and tags.slug hold them at most. */
#define SLUG_MAX	200

/*
 * URL slugs of posts and tags.  The alphabet is ASCII lower-case letters
 * and digits, '-' between words, and the letters and digits of scripts
 * other than Latin kept as UTF-8 (browsers show them, URLs carry them
 * percent-encoded).  Latin letters with diacritics are folded to ASCII.
 */
char	*slug_from_title(const char *);
char	*slug_suffixed(const char *, unsigned int);
int	 slug_valid(const char *);

#endif
