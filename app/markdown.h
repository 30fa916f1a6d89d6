#ifndef JAMB_MARKDOWN_H
#define JAMB_MARKDOWN_H

#include <stddef.h>

/*
 * Renders len bytes of CommonMark to HTML in libcmark's safe mode: raw
 * HTML is left out and links or images with javascript:, vbscript:,
 * file: or data: URLs (other than images in PNG, GIF, JPEG or WebP) get
 * an empty URL.  Invalid UTF-8 becomes U+FFFD.  Returns a string the
 * caller frees with free(); never NULL.
 */
char	*markdown_html(const char *, size_t);

#endif
