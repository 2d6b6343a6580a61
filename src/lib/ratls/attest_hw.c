/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hardware attestation backends (attest.h). Neither has run on hardware here (no TEE on
 * this machine); both follow the documented interfaces, and tests drive them through fake
 * trees that return recorded real quotes (docs/hardware.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/attest.h"
#include "cloak/fileio.h"
#include "util/fsutil.h"

struct hw_ctx {
	char dir[4096];
	char entry[4096]; /* tsm: an existing entry to use, or "" */
	unsigned long seq;
};

static int read_small(const char *path, char *buf, size_t cap, struct ck_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_errf(err, CK_E_IO, "cannot open '%s': %s", path, strerror(errno));
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return ck_errf(err, CK_E_IO, "cannot read '%s': %s", path, strerror(e));
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0))
		buf[--n] = 0;
	return 0;
}

static int write_exact(const char *path, const uint8_t *p, size_t n, struct ck_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
	if (fd < 0)
		return ck_errf(err, CK_E_IO, "cannot open '%s' for writing: %s", path,
			       strerror(errno));
	int r = ck_fs_write_full(fd, p, n);
	int e = errno;
	if (close(fd) < 0 && r == 0) {
		r = -1;
		e = errno;
	}
	return r < 0 ? ck_errf(err, CK_E_IO, "cannot write '%s': %s", path, strerror(e)) : 0;
}

static int read_blob(const char *path, uint8_t **out, size_t *len, struct ck_err *err)
{
	if (ck_read_file(path, CK_ATTEST_MAX_QUOTE, out, len, err) < 0)
		return -1;
	if (*len == 0) {
		free(*out);
		*out = NULL;
		return ck_errf(err, CK_E_IO, "'%s' is empty: the TEE produced no quote", path);
	}
	return 0;
}

/* ---- SGX under Gramine ---------------------------------------------------------------------- */

static int sgx_quote(struct ck_attester *a, const uint8_t rd[64], uint8_t **q, size_t *len,
		     struct ck_err *err)
{
	struct hw_ctx *c = a->ctx;
	char path[4200], type[64];
	snprintf(path, sizeof(path), "%s/attestation_type", c->dir);
	if (read_small(path, type, sizeof(type), err) < 0)
		return -1;
	if (strcmp(type, "dcap") != 0)
		return ck_errf(err, CK_E_UNSUPPORTED,
			       "Gramine attestation type is '%s', not 'dcap' (set "
			       "sgx.remote_attestation = \"dcap\" in the manifest)",
			       type);
	snprintf(path, sizeof(path), "%s/user_report_data", c->dir);
	if (write_exact(path, rd, 64, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/quote", c->dir);
	return read_blob(path, q, len, err);
}

static void hw_free(struct ck_attester *a)
{
	free(a->ctx);
	free(a);
}

static int make(const char *name, const char *dir, const char *entry,
		int (*fn)(struct ck_attester *, const uint8_t *, uint8_t **, size_t *,
			  struct ck_err *),
		struct ck_attester **out, struct ck_err *err)
{
	struct ck_attester *a = calloc(1, sizeof(*a));
	struct hw_ctx *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!a || !c) {
		free(a);
		free(c);
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	}
	if (strlen(dir) >= sizeof(c->dir) - 64 || (entry && strlen(entry) >= sizeof(c->entry))) {
		free(a);
		free(c);
		return ck_errf(err, CK_E_USAGE, "attestation directory name too long");
	}
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	if (entry)
		snprintf(c->entry, sizeof(c->entry), "%s", entry);
	a->name = name;
	a->quote = fn;
	a->free = hw_free;
	a->ctx = c;
	*out = a;
	return 0;
}

int ck_attester_sgx(const char *dir, struct ck_attester **out, struct ck_err *err)
{
	return make("sgx", dir ? dir : CK_GRAMINE_ATTESTATION_DIR, NULL, sgx_quote, out, err);
}

/* ---- configfs-tsm ------------------------------------------------------------------------- */

static int read_ulong(const char *path, unsigned long *v, struct ck_err *err)
{
	char buf[64], *end;
	if (read_small(path, buf, sizeof(buf), err) < 0)
		return -1;
	errno = 0;
	*v = strtoul(buf, &end, 10);
	if (errno || end == buf || *end)
		return ck_errf(err, CK_E_IO, "'%s' holds '%s', not a number", path, buf);
	return 0;
}

static int tsm_quote(struct ck_attester *a, const uint8_t rd[64], uint8_t **q, size_t *len,
		     struct ck_err *err)
{
	struct hw_ctx *c = a->ctx;
	char entry[4200], path[4300], provider[64];
	unsigned long gen_before, gen_after;
	bool created = false;
	int ret = -1;
	*q = NULL;
	if (c->entry[0]) {
		snprintf(entry, sizeof(entry), "%s", c->entry);
	} else {
		snprintf(entry, sizeof(entry), "%s/cloak-%ld-%lu", c->dir, (long)getpid(),
			 c->seq++);
		if (mkdir(entry, 0700) < 0)
			return ck_errf(err, CK_E_IO, "cannot create the report entry '%s': %s",
				       entry, strerror(errno));
		created = true;
	}
	snprintf(path, sizeof(path), "%s/generation", entry);
	if (read_ulong(path, &gen_before, err) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/inblob", entry);
	if (write_exact(path, rd, 64, err) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/outblob", entry);
	if (read_blob(path, q, len, err) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/generation", entry);
	if (read_ulong(path, &gen_after, err) < 0)
		goto out;
	/* The kernel counts writes: exactly ours means the report is for our report data. */
	if (gen_after != gen_before + 1) {
		ck_errf(
		    err, CK_E_IO,
		    "configfs-tsm entry '%s' was written by someone else (generation %lu -> %lu)",
		    entry, gen_before, gen_after);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/provider", entry);
	if (read_small(path, provider, sizeof(provider), err) < 0)
		goto out;
	if (strcmp(provider, "tdx_guest") != 0 && strcmp(provider, "sev_guest") != 0) {
		ck_errf(err, CK_E_UNSUPPORTED,
			"configfs-tsm provider '%s' is not tdx_guest or sev_guest", provider);
		goto out;
	}
	a->name = strcmp(provider, "tdx_guest") == 0 ? "tsm-tdx" : "tsm-sev-snp";
	ret = 0;
out:
	if (ret < 0) {
		free(*q);
		*q = NULL;
	}
	if (created)
		rmdir(entry);
	return ret;
}

int ck_attester_tsm(const char *dir, const char *entry, struct ck_attester **out,
		    struct ck_err *err)
{
	return make("tsm", dir ? dir : CK_TSM_REPORT_DIR, entry, tsm_quote, out, err);
}
