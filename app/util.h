#ifndef JAMB_UTIL_H
#define JAMB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Allocation wrappers: jamb's own bookkeeping is small and bounded, so
 * running out of memory there is not recoverable and these abort.  Input
 * whose size a client controls is bounded before it is allocated.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_addc(struct buf *, char);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list);

/* A list of owned key/value string pairs, in insertion order. */
struct kv {
	char	*key;
	char	*val;
};

struct kvlist {
	struct kv	*v;
	size_t		 n;
	size_t		 cap;
};

void		 kv_add(struct kvlist *, const char *, const char *);
void		 kv_addn(struct kvlist *, const char *, size_t,
		    const char *, size_t);
const char	*kv_get(const struct kvlist *, const char *);
const char	*kv_get_case(const struct kvlist *, const char *);
void		 kv_free(struct kvlist *);

int	 str_case_eq(const char *, const char *);
int	 utf8_valid(const char *, size_t);
int	 str_to_count(const char *, int64_t, int64_t *);
void	 random_bytes(void *, size_t);
void	 hex_encode(char *, const unsigned char *, size_t);
int64_t	 clock_us(void);

#endif
