/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/enclave.h"
#include "cloak/fileio.h"

static void usage(FILE *f, const char *prog, const struct subcommand *t)
{
	fprintf(f, "Usage: %s <command> [<args>]\n\nCommands:\n", prog);
	for (; t->name; t++)
		fprintf(f, "  %-12s %s\n", t->name, t->help);
	fprintf(f, "\nRun '%s <command> --help' for the options of a command.\n", prog);
}

int cli_dispatch(const char *prog, const struct subcommand *t, int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr, prog, t);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		usage(stdout, prog, t);
		return EXIT_OK;
	}
	for (const struct subcommand *s = t; s->name; s++)
		if (!strcmp(argv[0], s->name))
			return s->fn(argc, argv);
	fprintf(stderr, "%s: '%s' is not a command\n\n", prog, argv[0]);
	usage(stderr, prog, t);
	return EXIT_USAGE;
}

const char *cli_prog = "cloak";

void cli_err(const struct ck_err *e)
{
	fprintf(stderr, "%s: %s [%s]\n", cli_prog, e->msg, e->code ? e->code : "error");
}

void cli_errx(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct ck_err *err)
{
	return ck_read_file(path, max, buf, len, err);
}

int cli_time(const char *s, ck_time_t *t)
{
	struct ck_err e;
	if (!s) {
		*t = ck_time_now();
		return 0;
	}
	if (ck_time_parse(s, strlen(s), t, &e) < 0) {
		cli_errx("--at: %s", e.msg);
		return -1;
	}
	return 0;
}

int cli_policy(const char *path, bool allow_simulation, struct ck_policy *p)
{
	struct ck_err e;
	ck_policy_default(p);
	if (path) {
		uint8_t *buf = NULL;
		size_t len;
		int r = cli_read(path, CK_POLICY_MAX_LEN, &buf, &len, &e);
		if (r == 0)
			r = ck_policy_parse((char *)buf, len, p, &e);
		free(buf);
		if (r < 0) {
			if (!ck_err_is(&e, CK_E_IO))
				ck_err_wrap(&e, "%s", path);
			cli_err(&e);
			return -1;
		}
	}
	if (allow_simulation)
		p->allow_simulation = true;
	return 0;
}

void cli_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

json_t *cli_hex(const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (!h)
		return json_null();
	ck_hex_encode(p, n, h);
	json_t *j = json_string(h);
	free(h);
	return j;
}

json_t *cli_time_json(ck_time_t t)
{
	char b[CK_TIME_STR_MAX];
	return json_string(ck_time_format(t, b));
}

void cli_on_wait(void *arg, int status, unsigned seconds, int attempt)
{
	const struct cli_wait *w = arg;
	if (!w->quiet)
		fprintf(stderr, "cloak: %s answered %d; asking again in %u s (try %d of %d)\n",
			w->who, status, seconds, attempt, CK_ENCLAVE_RETRIES + 1);
}

int cli_collateral(const char *path, struct ck_collateral *c)
{
	uint8_t *b;
	size_t n;
	struct ck_err e;
	int r = cli_read(path, CK_COLLATERAL_MAX_LEN, &b, &n, &e);
	if (r == 0) {
		r = ck_collateral_parse((char *)b, n, c, &e);
		free(b);
		if (r < 0)
			ck_err_wrap(&e, "%s", path);
	}
	if (r < 0)
		cli_err(&e);
	return r;
}

int cli_runtime_path(const char *given, const char *flag, char out[PATH_MAX], struct ck_err *e)
{
	char self[PATH_MAX];
	if (given) {
		if (!realpath(given, out) || access(out, X_OK) != 0)
			return ck_errf(e, CK_E_USAGE, "%s: '%s' is not an executable file", flag,
				       given);
		return 0;
	}
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return ck_errf(e, CK_E_IO, "cannot tell where this program is: give %s FILE", flag);
	self[k] = 0;
	*strrchr(self, '/') = 0;
	static const char *const beside[] = {"/cloak-runtime", "/../runtime/cloak-runtime"};
	for (size_t i = 0; i < 2; i++) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s%s", self, beside[i]);
		if (realpath(p, out) && access(out, X_OK) == 0)
			return 0;
	}
	return ck_errf(e, CK_E_USAGE, "no cloak-runtime beside '%s': give %s FILE", self, flag);
}

int cli_measure_runtime(const char *given, uint8_t mr[32], char path[PATH_MAX], struct ck_err *e)
{
	uint8_t *b;
	size_t n;
	if (cli_runtime_path(given, "--runtime", path, e) < 0 ||
	    ck_read_file(path, CLI_RUNTIME_MAX, &b, &n, e) < 0)
		return -1;
	EVP_Digest(b, n, mr, NULL, EVP_sha256(), NULL);
	free(b);
	return 0;
}
