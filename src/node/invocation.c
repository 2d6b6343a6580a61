/* SPDX-License-Identifier: Apache-2.0 */
/* invocation.c - what cloakd check validates and cloakd run starts with: one table, one check
 * of the options, one of the data directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cloak/dns.h"
#include "cloak/net.h"
#include "cloak/store.h"
#include "cloak/target.h"
#include "node.h"

#define CO struct node_opts
const struct ck_opt node_opts[] = {
    CK_OPT_NEED("data", 0, "DIR", CO, data, "the node's data directory (cloakd init)"),
    CK_OPT_FLAG("sim", 0, CO, sim, "simulated enclaves (NOT A REAL TEE)"),
    CK_OPT_ARG("domain", 0, "NAME", CO, domain,
	       "apps at https://NAME-OF-APP.NAME (default localhost)"),
    CK_OPT_ARG("public", 0, "ADDR:PORT", CO, public_addr,
	       "the public port (default 127.0.0.1:8443)"),
    CK_OPT_ARG("api", 0, "ADDR:PORT", CO, api, "the owner API (default 127.0.0.1:9443)"),
    CK_OPT_ARG("operator-cert", 0, "FILE", CO, op_cert, "untrusted-ssl apps: the operator's chain"),
    CK_OPT_ARG("operator-key", 0, "FILE", CO, op_key, "...and its key"),
    CK_OPT_ARG("collateral", 0, "DIR", CO, collateral, "collateral for the runtimes' evidence"),
    CK_OPT_ARG("pccs", 0, "URL", CO, pccs, "...or a PCCS to fetch it from (with --fmspc)"),
    CK_OPT_ARG("fmspc", 0, "HEX", CO, fmspc, "the platform's FMSPC (12 hex digits), for --pccs"),
    CK_OPT_ARG("runtime", 0, "FILE", CO, runtime,
	       "the cloak-runtime apps run in (default: the one beside cloakd)"),
    CK_OPT_ARG("max-package", 0, "BYTES", CO, max_package,
	       "the largest deploy taken (default 268435456)"),
    CK_OPT_ARG("max-apps", 0, "N", CO, max_apps, "apps on this node, at most (default 64)"),
    CK_OPT_ARG("max-uploads", 0, "N", CO, max_uploads,
	       "deploys uploading at once, at most (default 16, at most 64)"),
    CK_OPT_ARG("max-auth-failures", 0, "N", CO, max_auth_failures,
	       "failed API logins per address per minute before 429 (default 10)"),
    CK_OPT_JSON(CO, json),
    CK_OPT_END};
#undef CO

/* The operator's certificate and key: readable, PEM, and each other's. */
static int operator_pair(const char *cert, const char *key, struct ck_err *e)
{
	FILE *cf = fopen(cert, "r"), *kf = fopen(key, "r");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	struct stat st;
	int ret = 0;
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	if (!x)
		ret = ck_errf(e, CK_E_CERT_FORMAT, "--operator-cert: '%s' is not a PEM certificate",
			      cert);
	else if (!k)
		ret = ck_errf(e, CK_E_KEY, "--operator-key: '%s' is not a PEM private key", key);
	else if (X509_check_private_key(x, k) != 1)
		ret =
		    ck_errf(e, CK_E_KEY, "--operator-key: '%s' is not the key of '%s'", key, cert);
	else if (stat(key, &st) == 0 && (st.st_mode & 077))
		ret = ck_errf(e, CK_E_KEY,
			      "--operator-key: '%s' is readable by others: chmod 600 it", key);
	X509_free(x);
	EVP_PKEY_free(k);
	return ret;
}

int node_open(const struct node_opts *o, struct ck_node_dir *d, struct ck_err *e)
{
	if (ck_node_dir_open(o->data, d, e) < 0)
		return -1;
	if (o->sim && !d->sim)
		return ck_errf(e, CK_E_USAGE,
			       "--sim: '%s' has no simulation PKI (cloakd init --sim)", o->data);
	return 0;
}

int node_check_opts(const struct node_opts *o, struct sockaddr_in *pub_out, struct ck_err *e)
{
	struct sockaddr_in pub, api;
	struct ck_target t;
	struct stat st;
	if (!ck_dns_name(o->domain, strlen(o->domain)))
		return ck_errf(e, CK_E_USAGE,
			       "--domain: '%s' is not a DNS name (lower-case labels of a-z, 0-9, "
			       "'-', joined by dots)",
			       o->domain);
	if (ck_addr_parse(o->public_addr, &pub, e) < 0)
		return ck_err_wrap(e, "--public");
	if (ck_addr_parse(o->api, &api, e) < 0)
		return ck_err_wrap(e, "--api");
	if (pub.sin_port && pub.sin_port == api.sin_port &&
	    pub.sin_addr.s_addr == api.sin_addr.s_addr) /* port 0: each gets its own */
		return ck_errf(e, CK_E_USAGE, "--public and --api are the same address '%s'",
			       o->api);
	if (!o->op_cert != !o->op_key)
		return ck_errf(e, CK_E_USAGE, "--operator-cert and --operator-key go together");
	if (o->op_cert && operator_pair(o->op_cert, o->op_key, e) < 0)
		return -1;
	if (o->collateral && o->pccs)
		return ck_errf(e, CK_E_USAGE, "--collateral and --pccs: give one");
	if (o->collateral && (stat(o->collateral, &st) < 0 || !S_ISDIR(st.st_mode)))
		return ck_errf(e, CK_E_USAGE, "--collateral: '%s' is not a directory",
			       o->collateral);
	if (o->pccs && (ck_target_parse(o->pccs, &t, e) < 0 || !t.url || !t.tls))
		return ck_errf(e, CK_E_USAGE, "--pccs: '%s' is not an https:// URL", o->pccs);
	if (!o->pccs != !o->fmspc)
		return ck_errf(e, CK_E_USAGE, "--pccs and --fmspc go together");
	if (o->fmspc && (strlen(o->fmspc) != 12 || strspn(o->fmspc, "0123456789abcdef") != 12))
		return ck_errf(e, CK_E_USAGE, "--fmspc: '%s' is not 12 lower-case hex digits",
			       o->fmspc);
	if (!o->sim && !o->collateral && !o->pccs)
		return ck_errf(e, CK_E_USAGE,
			       "a TEE node needs --collateral DIR or --pccs URL (or --sim)");
	struct node_limits l;
	char rt[PATH_MAX];
	if (node_check_limits(o, &l, e) < 0 || node_runtime_path(o, rt, e) < 0)
		return -1;
	if (pub_out)
		*pub_out = pub;
	return 0;
}

/* A decimal number in [lo, hi], or the default when the flag was not given. */
static int number(const char *flag, const char *s, uint64_t dflt, uint64_t lo, uint64_t hi,
		  uint64_t *out, struct ck_err *e)
{
	char *end;
	*out = dflt;
	if (!s)
		return 0;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || v < lo || v > hi)
		return ck_errf(e, CK_E_USAGE, "--%s: '%s' is not a number from %llu to %llu", flag,
			       s, (unsigned long long)lo, (unsigned long long)hi);
	*out = v;
	return 0;
}

int node_check_limits(const struct node_opts *o, struct node_limits *l, struct ck_err *e)
{
	uint64_t apps, ups, fails;
	if (number("max-package", o->max_package, NODE_DEFAULT_MAX_PKG, 1024, 1ull << 32,
		   &l->max_package, e) < 0 ||
	    number("max-apps", o->max_apps, NODE_DEFAULT_MAX_APPS, 1, CK_STORE_MAX_APPS, &apps, e) <
		0 ||
	    number("max-uploads", o->max_uploads, NODE_DEFAULT_UPLOADS, 1, 64, &ups, e) < 0 ||
	    number("max-auth-failures", o->max_auth_failures, NODE_DEFAULT_AUTHFAIL, 1, 1000000,
		   &fails, e) < 0)
		return -1;
	l->max_apps = (unsigned)apps;
	l->max_uploads = (unsigned)ups;
	l->max_auth_failures = (unsigned)fails;
	return 0;
}

int node_runtime_path(const struct node_opts *o, char out[PATH_MAX], struct ck_err *e)
{
	return cli_runtime_path(o->runtime, "--runtime", out, e);
}
