/* SPDX-License-Identifier: Apache-2.0 */
/*
 * opts.h - the one option parser of cloak's programs (cloak, cloak-runtime, the node): a
 * program describes its options in a table, the parser fills the program's own options struct
 * from argv, and --help (or a usage error) prints the usage made from the same table. A flag
 * sets a bool field, an option with a value a `const char *` field (the last one given wins;
 * it points into argv), or calls `each` for every occurrence (repeatable options). Options may
 * come before or after the operands (GNU order). A usage error names the offending word on
 * stderr, with the synopsis; --help prints everything on stdout.
 */
#ifndef CLOAK_OPTS_H
#define CLOAK_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#define CK_OPTS_MAX	   40 /* options in one table */
#define CK_OPTS_EXIT_OK	   0
#define CK_OPTS_EXIT_USAGE 2

struct ck_opt {
	const char *name;			    /* the long name, without "--" */
	char letter;				    /* a short name, or 0 */
	const char *arg;			    /* the value's name ("FILE"), NULL for a flag */
	const char *help;			    /* one line */
	size_t off;				    /* the field in the options struct */
	int (*each)(void *opts, const char *value); /* instead of a field; <0: a usage error (it
						       says why) */
	bool required;
};
#define CK_OPT_FLAG(n, l, T, f, h)                                                                 \
	{                                                                                          \
		n, l, NULL, h, offsetof(T, f), NULL, false                                         \
	}
#define CK_OPT_ARG(n, l, a, T, f, h)                                                               \
	{                                                                                          \
		n, l, a, h, offsetof(T, f), NULL, false                                            \
	}
#define CK_OPT_NEED(n, l, a, T, f, h)                                                              \
	{                                                                                          \
		n, l, a, h, offsetof(T, f), NULL, true                                             \
	}
#define CK_OPT_EACH(n, l, a, fn, h)                                                                \
	{                                                                                          \
		n, l, a, h, 0, fn, false                                                           \
	}
#define CK_OPT_JSON(T, f) CK_OPT_FLAG("json", 0, T, f, "machine-readable output on stdout")
#define CK_OPT_END                                                                                 \
	{                                                                                          \
		NULL, 0, NULL, NULL, 0, NULL, false                                                \
	}

struct ck_opt_spec {
	const char *name;     /* "cloak provision"; its first word prefixes the messages */
	const char *operands; /* "HOST:PORT", or "" */
	int min_operands, max_operands;
	const char *about;	   /* what it does, and anything else --help should say */
	const struct ck_opt *opts; /* ends with CK_OPT_END (NULL: none) */
};

/* Fills `opts` from argv[1..]. Returns the index of the first operand, or -1 with *exit set:
 * CK_OPTS_EXIT_OK after --help (usage on stdout), CK_OPTS_EXIT_USAGE for an unknown option, a
 * missing value or required option, or the wrong number of operands. */
int ck_opts_parse(const struct ck_opt_spec *s, int argc, char **argv, void *opts, int *exit);

/* For a command that takes exactly one operand and only --json/--help. */
int ck_opts_one_operand(const struct ck_opt_spec *s, int argc, char **argv, bool *json, int *exit);

#endif
