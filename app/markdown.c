#include "config.h"

#include <stdlib.h>

#include <cmark.h>

#include "markdown.h"

/*
 * Safe mode is libcmark's default since 0.29 (CMARK_OPT_UNSAFE turns it
 * off); CMARK_OPT_SAFE is named anyway so that an older library does
 * the same.  Smart punctuation gives typographic quotes and dashes.
 */
#define MARKDOWN_OPTIONS \
	(CMARK_OPT_SAFE | CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8)

char *
markdown_html(const char *md, size_t len)
{
	char	*html;

	if (md == NULL)
		len = 0;
	html = cmark_markdown_to_html(md != NULL ? md : "", len,
	    MARKDOWN_OPTIONS);
	/* Only running out of memory gets here; like xmalloc, give up. */
	if (html == NULL)
		abort();
	return html;
}
