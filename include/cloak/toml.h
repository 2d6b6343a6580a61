/* SPDX-License-Identifier: Apache-2.0 */
/*
 * toml.h - the TOML that cloak.toml is written in (TOML 1.0, https://toml.io/en/v1.0.0), read
 * strictly by a parser of our own (Debian packages no C TOML library): tables ([a.b]), dotted
 * keys, bare and quoted keys, basic strings (with every escape) and literal strings, integers
 * (decimal, 0x, 0o, 0b, with underscores between digits, 64-bit), booleans, arrays (across lines,
 * with comments and a trailing comma), comments. What TOML allows and cloak.toml does not need
 * is refused as unsupported, never half-read: floats, dates and times, multi-line strings,
 * inline tables, arrays of tables. Everything TOML forbids is refused too (a key or table
 * defined twice, a table extended the ways TOML 1.0 disallows, leading zeros, bare CR, control
 * characters, invalid UTF-8, a surrogate escape, an integer out of range...). Each refusal is
 * CK_E_CONFIG with "line L, column C: what" (columns count bytes from 1).
 *
 * The document comes back as a jansson tree: tables as objects, arrays as arrays, strings
 * (UTF-8, possibly with NUL) as strings, integers, booleans. Keys may not contain NUL (refused).
 */
#ifndef CLOAK_TOML_H
#define CLOAK_TOML_H

#include <stddef.h>

#include <jansson.h>

#include "cloak/err.h"

#define CK_TOML_MAX_LEN	  (256 * 1024) /* a document */
#define CK_TOML_MAX_DEPTH 32	       /* nested arrays, or dotted parts of a key */

/* Parses `len` bytes of `text` into *out (the caller's: json_decref), or -1 with nothing made. */
int ck_toml_parse(const char *text, size_t len, json_t **out, struct ck_err *err);

#endif
