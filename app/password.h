#ifndef JAMB_PASSWORD_H
#define JAMB_PASSWORD_H

#include "conf.h"
#include "status.h"

/*
 * Password storage with Argon2id, in the encoded form
 * $argon2id$v=19$m=...,t=...,p=...$salt$hash that carries its own
 * parameters and salt, so hashes made with older settings still verify.
 */

/*
 * Hashes pw with the [auth] parameters and a fresh 16-byte salt.  On
 * success *out is the encoded string, freed by the caller; otherwise
 * *out is NULL (JAMB_EINVAL for a password longer than Argon2 takes,
 * JAMB_EINTERNAL for a parameter or memory failure of libargon2).
 */
enum jamb_status password_hash(const struct conf *, const char *, char **);

/* 1 when pw matches the encoded hash, 0 otherwise (malformed included). */
int		 password_verify(const char *, const char *);

/*
 * 1 when the encoded hash was made with other parameters than the
 * configured ones (or is not an Argon2id hash at all): the caller should
 * hash the password again after a successful verification.
 */
int		 password_needs_rehash(const struct conf *, const char *);

#endif
