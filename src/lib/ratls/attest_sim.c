/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/attest.h"

struct sim_ctx {
	struct ck_sim_pki *pki;
	struct ck_sim_quote_opts id;
};

static int sim_quote(struct ck_attester *a, const uint8_t rd[64], uint8_t **q, size_t *len,
		     struct ck_err *err)
{
	struct sim_ctx *c = a->ctx;
	struct ck_sim_quote_opts o = c->id;
	memcpy(o.report_data, rd, 64);
	o.now = ck_time_now();
	return ck_sim_quote(c->pki, &o, q, len, err);
}

static int sim_collateral(struct ck_attester *a, struct ck_collateral *out, struct ck_err *err)
{
	struct sim_ctx *c = a->ctx;
	struct ck_sim_collateral_opts o;
	ck_sim_collateral_opts_default(&o, ck_time_now());
	return ck_sim_collateral(c->pki, &o, out, err);
}

static void sim_free(struct ck_attester *a)
{
	struct sim_ctx *c = a->ctx;
	ck_sim_free(c->pki);
	free(c);
	free(a);
}

int ck_attester_sim(const char *dir, const struct ck_sim_quote_opts *id, struct ck_attester **out,
		    struct ck_err *err)
{
	struct ck_attester *a = calloc(1, sizeof(*a));
	struct sim_ctx *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!a || !c) {
		free(a);
		free(c);
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	}
	if (ck_sim_load(dir, &c->pki, err) < 0) {
		free(a);
		free(c);
		return -1;
	}
	c->id = *id;
	a->name = "sim";
	a->simulated = true;
	a->quote = sim_quote;
	a->collateral = sim_collateral;
	a->free = sim_free;
	a->ctx = c;
	*out = a;
	return 0;
}

void ck_attester_free(struct ck_attester *a)
{
	if (a)
		a->free(a);
}
