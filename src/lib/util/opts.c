/* SPDX-License-Identifier: Apache-2.0 */
/* opts.c - the one option parser; the contract is in include/cloak/opts.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cloak/opts.h"

#define MAX_OPTS CK_OPTS_MAX

/* The synopsis; with `full`, what the command does and every option. */
static void usage(const struct ck_opt_spec *s, FILE *out, bool full)
{
	int col = fprintf(out, "Usage: %s%s%s", s->name, *s->operands ? " " : "", s->operands);
	for (const struct ck_opt *o = s->opts; o && o->name; o++) {
		char one[96];
		int n = snprintf(one, sizeof(one), "%s--%s%s%s%s", o->required ? "" : "[", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "", o->required ? "" : "]");
		if (col + n + 1 > 96) {
			col = fprintf(out, "\n%*s", (int)strlen(s->name) + 7, "") - 1;
		}
		col += fprintf(out, " %s%s", one, o->each ? "..." : "");
	}
	if (!full) {
		fprintf(out, "\n(%s --help says more)\n", s->name);
		return;
	}
	fprintf(out, "\n\n%s\n", s->about);
	if (!s->opts || !s->opts->name)
		return;
	fputs("\nOptions:\n", out);
	for (const struct ck_opt *o = s->opts; o->name; o++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->letter ? "-" : "",
			 o->letter ? o->letter : ' ', o->letter ? ", " : " ", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s%s\n", o->letter ? left : left + 2, o->help,
			o->required ? " (required)" : "");
	}
	fputs("  --help                       this text\n", out);
}

static int fail(const struct ck_opt_spec *s, int *exit, const char *what, const char *why)
{
	fprintf(stderr, "%.*s: %s: %s\n", (int)strcspn(s->name, " "), s->name, what, why);
	usage(s, stderr, false);
	*exit = CK_OPTS_EXIT_USAGE;
	return -1;
}

int ck_opts_parse(const struct ck_opt_spec *spec, int argc, char **argv, void *opts, int *exit)
{
	static const struct ck_opt none[] = {CK_OPT_END};
	struct ck_opt_spec full = *spec;
	const struct ck_opt_spec *s = &full;
	if (!full.opts)
		full.opts = none;
	struct option lo[MAX_OPTS + 2];
	char letters[2 * MAX_OPTS + 4] = "";
	size_t n = 0, nl = 0;
	bool seen[MAX_OPTS] = {0};
	for (const struct ck_opt *o = s->opts; o->name && n < MAX_OPTS; o++, n++) {
		lo[n] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					(int)(256 + n)};
		if (o->letter) {
			letters[nl++] = o->letter;
			if (o->arg)
				letters[nl++] = ':';
		}
	}
	lo[n++] = (struct option){"help", no_argument, NULL, 'h' + 1000};
	lo[n] = (struct option){NULL, 0, NULL, 0};
	letters[nl] = 0;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, letters, lo, NULL)) != -1) {
		const struct ck_opt *o = NULL;
		size_t i = 0;
		if (c == 'h' + 1000) {
			usage(s, stdout, true);
			*exit = CK_OPTS_EXIT_OK;
			return -1;
		}
		if (c >= 256)
			o = &s->opts[i = (size_t)(c - 256)];
		for (const struct ck_opt *q = s->opts; !o && q->name; q++)
			if (q->letter && q->letter == c)
				o = q, i = (size_t)(q - s->opts);
		if (!o)
			return fail(s, exit, argv[optind - 1],
				    "no such option, or its value is missing");
		seen[i] = true;
		char *field = (char *)opts + o->off;
		if (o->each) {
			if (o->each(opts, optarg) < 0) {
				*exit = CK_OPTS_EXIT_USAGE;
				return -1;
			}
		} else if (o->arg) {
			memcpy(field, &optarg, sizeof(optarg));
		} else {
			*(bool *)field = true;
		}
	}
	for (size_t i = 0; s->opts[i].name; i++)
		if (s->opts[i].required && !seen[i])
			return fail(s, exit, s->opts[i].name, "required (--help for usage)");
	int ops = argc - optind;
	if (ops < s->min_operands || ops > s->max_operands)
		return fail(s, exit, *s->operands ? s->operands : "operands",
			    ops < s->min_operands ? "missing" : "too many given");
	return optind;
}

struct one_opts {
	bool json;
};

int ck_opts_one_operand(const struct ck_opt_spec *s, int argc, char **argv, bool *json, int *exit)
{
	struct one_opts o = {0};
	static const struct ck_opt opts[] = {CK_OPT_JSON(struct one_opts, json), CK_OPT_END};
	struct ck_opt_spec full = *s;
	full.opts = opts;
	full.min_operands = full.max_operands = 1;
	int i = ck_opts_parse(&full, argc, argv, &o, exit);
	*json = o.json;
	return i;
}
