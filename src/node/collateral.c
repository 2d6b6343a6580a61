/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collateral.c - the collateral a TEE node's runtimes staple to their evidence. With --pccs URL
 * (and --fmspc, the platform's), the parent fetches Intel's v4 API from the PCCS (TCB Info for
 * the FMSPC, QE Identity, the PCK and root CA CRLs, and the issuer chains from the response
 * headers), builds a QuoteCollateralV3 file from the responses as served
 * (ck_collateral_from_pcs keeps the signed bytes exact), and writes it atomically to
 * DIR/collateral/collateral.json: at start, then every NODE_COLLATERAL_REFRESH_S; each runtime
 * is given that directory and told by SIGHUP to read it again. The PCCS is not authenticated:
 * what it serves is signed by Intel and appraised as such, so a lying PCCS can only make
 * evidence fail, never pass. A failed refresh keeps the file there was. With --collateral DIR,
 * that directory is given to the runtimes as it is.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cloak/client.h"
#include "cloak/collateral.h"
#include "cloak/fileio.h"
#include "cloak/target.h"
#include "daemon.h"

#define PCCS_API	 "/sgx/certification/v4"
#define PCCS_BODY_MAX	 (512 * 1024)
#define PCCS_TIMEOUT_MS	 10000
#define PCCS_HEADER_MAX	 (16 * 1024) /* a URL-encoded PEM chain */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* %XX-decoded `v` (n bytes) into a fresh string; NULL for a bad escape or an escaped NUL. */
static char *url_decode(const char *v, size_t n)
{
	char *out = n < PCCS_HEADER_MAX ? malloc(n + 1) : NULL;
	size_t k = 0;
	for (size_t i = 0; out && i < n; i++) {
		int hi = i + 2 < n ? hexval(v[i + 1]) : -1, lo = i + 2 < n ? hexval(v[i + 2]) : -1;
		if (v[i] != '%') {
			out[k++] = v[i];
		} else if (hi >= 0 && lo >= 0 && (hi | lo)) {
			out[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	if (out)
		out[k] = 0;
	return out;
}

struct fetched {
	struct ck_client_resp r;
	char *chain; /* from the header named, decoded; NULL when none was asked for */
};

/* One GET, on a connection of its own (a PCCS may close after each answer). */
static int get(const struct ck_target *t, SSL_CTX *ctx, const char *what, const char *header,
	       struct fetched *f, struct ck_err *e)
{
	char path[CK_TARGET_PATH_MAX + 128];
	struct ck_client c = {0};
	size_t hl;
	snprintf(path, sizeof(path), "%s%s%s", t->path, PCCS_API, what);
	int r = ck_client_open(&c, t, ctx, PCCS_TIMEOUT_MS, e) < 0
		    ? -1
		    : ck_client_request(&c, "GET", path, NULL, NULL, 0, PCCS_BODY_MAX, &f->r, e);
	ck_client_close(&c);
	if (r < 0)
		return -1;
	if (f->r.status != 200)
		return ck_errf(e, CK_E_COLLATERAL, "the PCCS answered %d to %s", f->r.status, path);
	if (!header)
		return 0;
	const char *v = ck_client_resp_header(&f->r, header, &hl);
	if (!v || !(f->chain = url_decode(v, hl)))
		return ck_errf(e, CK_E_COLLATERAL, "the PCCS's answer to %s has no valid %s", path,
			       header);
	return 0;
}

/* Everything fetched, then built and written. */
static int fetch(struct node *n, const struct ck_target *t, SSL_CTX *ctx, struct ck_err *e)
{
	struct fetched f[4] = {0};
	char tcb[64], out[PATH_MAX + 32];
	int ret = -1;
	snprintf(tcb, sizeof(tcb), "/tcb?fmspc=%s", n->o->fmspc);
	if (get(t, ctx, tcb, "TCB-Info-Issuer-Chain", &f[0], e) < 0 ||
	    get(t, ctx, "/qe/identity", NULL, &f[1], e) < 0 ||
	    get(t, ctx, "/pckcrl?ca=processor", "SGX-PCK-CRL-Issuer-Chain", &f[2], e) < 0 ||
	    get(t, ctx, "/rootcacrl", NULL, &f[3], e) < 0)
		goto out;
	struct ck_pcs_inputs in = {
	    .tcb_info_body = f[0].r.body,
	    .tcb_info_body_len = f[0].r.len,
	    .qe_identity_body = f[1].r.body,
	    .qe_identity_body_len = f[1].r.len,
	    .pck_crl = (const uint8_t *)f[2].r.body,
	    .pck_crl_len = f[2].r.len,
	    .root_crl = (const uint8_t *)f[3].r.body,
	    .root_crl_len = f[3].r.len,
	    .tcb_chain = f[0].chain,
	    .pck_crl_chain = f[2].chain,
	};
	struct ck_collateral coll;
	if (ck_collateral_from_pcs(&in, &coll, e) < 0) {
		ck_err_wrap(e, "the PCCS's collateral");
		goto out;
	}
	json_t *j = ck_collateral_to_json(&coll);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	ck_collateral_free(&coll);
	snprintf(out, sizeof(out), "%s/collateral.json", n->collateral_dir);
	if (!s)
		ck_errf(e, CK_E_NOMEM, "out of memory");
	else if (ck_write_file(out, s, strlen(s), 0644, e) == 0)
		ret = 0;
	free(s);
out:
	for (int i = 0; i < 4; i++) {
		ck_client_resp_free(&f[i].r);
		free(f[i].chain);
	}
	return ret;
}

int node_collateral_refresh(struct node *n, struct ck_err *e)
{
	struct ck_target t;
	if (!n->o->pccs)
		return 0;
	if (ck_target_parse(n->o->pccs, &t, e) < 0)
		return -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method()); /* unauthenticated: Intel signs */
	if (!ctx)
		return ck_errf(e, CK_E_NOMEM, "out of memory");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	int r = fetch(n, &t, ctx, e);
	SSL_CTX_free(ctx);
	if (r < 0)
		return ck_err_wrap(e, "--pccs '%s'", n->o->pccs);
	for (size_t i = 0; i < n->napps; i++) /* each reads it again */
		if (n->apps[i]->pidfd >= 0)
			pidfd_send_signal(n->apps[i]->pidfd, SIGHUP, NULL, 0);
	fprintf(stderr, "cloakd: collateral for FMSPC %s fetched from %s\n", n->o->fmspc,
		n->o->pccs);
	return 0;
}

int node_collateral_init(struct node *n, struct ck_err *e)
{
	struct stat st;
	char have[PATH_MAX + 32];
	if (n->o->collateral) {
		snprintf(n->collateral_dir, sizeof(n->collateral_dir), "%s", n->o->collateral);
		return 0;
	}
	if (!n->o->pccs)
		return 0; /* sim: each runtime makes its own from the sim PKI */
	if (snprintf(n->collateral_dir, sizeof(n->collateral_dir), "%s/collateral", n->dir.path) >=
		(int)sizeof(n->collateral_dir) ||
	    (mkdir(n->collateral_dir, 0700) < 0 && errno != EEXIST))
		return ck_errf(e, CK_E_IO, "cannot make '%s'", n->collateral_dir);
	if (node_collateral_refresh(n, e) == 0)
		return 0;
	snprintf(have, sizeof(have), "%s/collateral.json", n->collateral_dir);
	if (stat(have, &st) < 0)
		return -1; /* nothing cached: runtimes could not serve evidence */
	fprintf(stderr, "cloakd: %s; the cached collateral is used meanwhile\n", e->msg);
	return 0;
}
