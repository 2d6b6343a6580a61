/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak-runtime - what runs inside the enclave (DESIGN §2, §5, §7): attests itself, takes the
 * one provisioning over RA-TLS, unpacks the app into enclave memory, starts it, and terminates
 * TLS in front of it. See docs/runtime.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/net.h"
#include "cloak/opts.h"
#include "runtime.h"

#define EXIT_USAGE 2

#define RO struct rt
static const struct ck_opt opts[] = {
    CK_OPT_NEED("backend", 0, "sim|sgx|tsm", RO, backend,
		"sim: simulated (NOT A REAL TEE), quotes from --sim-pki, MRENCLAVE = SHA-256 of "
		"this binary; sgx: Gramine's /dev/attestation; tsm: TDX/SEV-SNP via configfs-tsm"),
    CK_OPT_NEED("package", 0, "FILE", RO, package, "the encrypted package"),
    CK_OPT_NEED("manifest", 0, "FILE", RO, manifest, "its deploy manifest"),
    CK_OPT_NEED("listen", 0, "ADDR:PORT", RO, listen, "where to serve (port 0 picks one)"),
    CK_OPT_ARG("sim-pki", 0, "DIR", RO, sim_pki, "sim: the simulation PKI"),
    CK_OPT_ARG("attestation-dir", 0, "DIR", RO, att_dir,
	       "sgx: instead of /dev/attestation; tsm: the report directory, or one entry"),
    CK_OPT_ARG("collateral", 0, "FILE|DIR", RO, collateral,
	       "QuoteCollateralV3 JSON served with every quote (sgx, tsm); SIGHUP re-reads it"),
    CK_OPT_ARG("app-dir", 0, "DIR", RO, app_dir_opt,
	       "where the code is unpacked (DIR/code); default: private memory"),
    CK_OPT_ARG("data-dir", 0, "DIR", RO, data_dir_opt, "where the app's data lives"),
    CK_OPT_FLAG("app-socket", 0, RO, app_unix,
		"serve the app on a UNIX socket (always under sgx), not TCP on loopback"),
    CK_OPT_END};
#undef RO

static const struct ck_opt_spec spec = {
    .name = "cloak-runtime",
    .operands = "",
    .about = "Runs one app inside a TEE: serves GET /.well-known/cloak/status and\n"
	     "GET /.well-known/cloak/evidence[?nonce=HEX] on ADDR:PORT at once, takes the one\n"
	     "POST /.well-known/cloak/provision over its provisioning RA-TLS certificate, then\n"
	     "unpacks the app into enclave memory, starts it and serves it (TLS per the\n"
	     "manifest's mode). Prints 'listening on ADDR:PORT' on standard output once ready.",
    .opts = opts};

static volatile sig_atomic_t reload;

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	rt_log("signal %d: stopping", (int)sig);
	event_base_loopexit(arg, NULL);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	reload = 1;
}

static int load_collateral(struct rt *rt, struct ck_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *b;
	size_t n;
	struct ck_collateral c;
	snprintf(path, sizeof(path), "%s", rt->collateral);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/collateral.json", rt->collateral);
	if (ck_read_file(path, CK_COLLATERAL_MAX_LEN, &b, &n, err) < 0)
		return -1;
	int r = ck_collateral_parse((const char *)b, n, &c, err);
	free(b);
	if (r < 0)
		return ck_err_wrap(err, "%s", path);
	if (rt->has_coll)
		ck_collateral_free(&rt->coll);
	rt->coll = c;
	rt->has_coll = true;
	struct ck_identity *ids[] = {&rt->prov, &rt->serve, &rt->none};
	for (size_t i = 0; i < 3; i++) { /* cached bundles carry the old collateral */
		free(ids[i]->evidence);
		ids[i]->evidence = NULL;
	}
	return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct rt *rt = arg;
	if (reload) {
		struct ck_err e;
		reload = 0;
		if (!rt->collateral)
			rt_log("SIGHUP: no --collateral to re-read");
		else if (load_collateral(rt, &e) < 0)
			rt_log("SIGHUP: collateral not replaced: %s", e.msg);
		else
			rt_log("SIGHUP: collateral re-read from '%s'", rt->collateral);
	}
	rt_tick(fd, what, arg);
}

static int make_attester(struct rt *rt, struct ck_err *err)
{
	if (!strcmp(rt->backend, "sim")) {
		struct ck_sim_quote_opts id;
		uint8_t *self;
		size_t n;
		if (!rt->sim_pki)
			return ck_errf(err, CK_E_USAGE, "--backend sim needs --sim-pki DIR");
		ck_sim_quote_opts_default(&id, ck_time_now());
		if (ck_read_file("/proc/self/exe", 256u << 20, &self, &n, err) < 0)
			return -1;
		EVP_Digest(self, n, id.mrenclave, NULL, EVP_sha256(), NULL);
		free(self);
		if (ck_attester_sim(rt->sim_pki, &id, &rt->att, err) < 0)
			return -1;
		if (!rt->collateral) {
			if (rt->att->collateral(rt->att, &rt->coll, err) < 0)
				return -1;
			rt->has_coll = true;
		}
	} else if (!strcmp(rt->backend, "sgx")) {
		if (ck_attester_sgx(rt->att_dir ? rt->att_dir : CK_GRAMINE_ATTESTATION_DIR,
				    &rt->att, err) < 0)
			return -1;
	} else if (!strcmp(rt->backend, "tsm")) {
		/* the report directory (an entry is made per quote), or one entry in it */
		const char *dir = rt->att_dir ? rt->att_dir : CK_TSM_REPORT_DIR;
		char inblob[PATH_MAX];
		struct stat st;
		snprintf(inblob, sizeof(inblob), "%s/inblob", dir);
		bool entry = stat(inblob, &st) == 0;
		if (ck_attester_tsm(entry ? NULL : dir, entry ? dir : NULL, &rt->att, err) < 0)
			return -1;
	} else {
		return ck_errf(err, CK_E_USAGE, "--backend: '%s' is not sim, sgx or tsm",
			       rt->backend);
	}
	if (rt->collateral)
		return load_collateral(rt, err);
	if (!rt->has_coll)
		return ck_errf(
		    err, CK_E_USAGE,
		    "--backend %s needs --collateral: the evidence served always carries "
		    "its collateral",
		    rt->backend);
	return 0;
}

/* The manifest and the package the node handed over; the package is held in memory from here
 * on, so the host cannot change it under us. */
static int load_inputs(struct rt *rt, struct ck_err *err)
{
	uint8_t *b, h[32];
	size_t n;
	if (ck_read_file(rt->manifest, CK_MANIFEST_MAX_LEN + 1, &b, &n, err) < 0)
		return -1;
	int r = ck_manifest_parse((const char *)b, n, &rt->m, rt->manifest_sha256, err);
	free(b);
	if (r < 0)
		return ck_err_wrap(err, "%s", rt->manifest);
	if (ck_read_file(rt->package, RT_MAX_PACKAGE, &rt->pkg, &rt->pkg_len, err) < 0)
		return -1;
	EVP_Digest(rt->pkg, rt->pkg_len, h, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(h, rt->m.package_sha256, 32) != 0) {
		char got[65], want[65];
		ck_hex_encode(h, 32, got);
		ck_hex_encode(rt->m.package_sha256, 32, want);
		return ck_errf(err, CK_E_PKG_FORMAT,
			       "package '%s' has SHA-256 %s, the manifest says %s", rt->package,
			       got, want);
	}
	return 0;
}

static int join(char out[PATH_MAX], const char *a, const char *b, struct ck_err *err)
{
	if (strlen(a) + strlen(b) >= PATH_MAX)
		return ck_errf(err, CK_E_USAGE, "path '%s%s' is too long", a, b);
	strcpy(out, a);
	strcat(out, b);
	return 0;
}

/* Where the code and data go, and how the app is reached. */
static int make_places(struct rt *rt, struct ck_err *err)
{
	bool sgx = !strcmp(rt->backend, "sgx");
	const char *app = rt->app_dir_opt, *data = rt->data_dir_opt;
	if (sgx)
		rt->app_unix = true; /* TCP would cross the host in clear */
	if (!app && sgx) {
		app = "/app";
		rt->memfs_kind = "gramine-encrypted-mount";
	} else if (!app) {
		if (rt_memfs_make(rt->memfs, &rt->memfs_kind, err) < 0)
			return -1;
		app = rt->memfs;
	} else {
		rt->memfs_kind = "given";
	}
	if (!data)
		data = sgx && !rt->app_dir_opt ? "/data" : app;
	if (join(rt->code_dir, app, "/code", err) < 0 ||
	    join(rt->data_dir, data, data == app ? "/data" : "", err) < 0 ||
	    join(rt->sock_path, app, "/app.sock", err) < 0)
		return -1;
	if (rt->app_unix && strlen(rt->sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return ck_errf(err, CK_E_USAGE,
			       "the app's socket path '%s' is too long for a UNIX "
			       "socket: give a shorter --app-dir",
			       rt->sock_path);
	return 0;
}

static int boot(struct rt *rt, int *lfd, struct ck_err *err)
{
	struct sockaddr_in sa = {0};
	if (make_places(rt, err) < 0 || load_inputs(rt, err) < 0 || make_attester(rt, err) < 0)
		return -1;
	struct ck_claims c = {.phase = CK_PHASE_PROVISIONING,
			      .has_package = true,
			      .has_manifest = true,
			      .has_seal_key = true,
			      .mode = rt->m.mode};
	memcpy(c.package, rt->m.package_sha256, 32);
	memcpy(c.manifest, rt->manifest_sha256, 32);
	uint8_t seal_priv[CK_SEAL_KEY_LEN];
	if (ck_seal_keygen(seal_priv, c.seal_key, err) < 0)
		return -1;
	if (ck_identity_ratls(&rt->prov, rt->att, &c, *rt->m.domain ? rt->m.domain : rt->m.name,
			      err) < 0) {
		OPENSSL_cleanse(seal_priv, sizeof(seal_priv));
		return -1;
	}
	ck_identity_none(&rt->none, &c);
	ck_gate_init(&rt->gate, rt->m.owner_key, rt->prov.cert_sha256, rt->manifest_sha256,
		     seal_priv, c.seal_key);
	OPENSSL_cleanse(seal_priv, sizeof(seal_priv));
	rt->gate.check = rt_check_provision;
	rt->gate.check_arg = rt;
	struct sockaddr_in want;
	if (ck_addr_parse(rt->listen, &want, err) < 0)
		return ck_err_wrap(err, "--listen");
	if ((*lfd = ck_tcp_listen(&want, &sa, err)) < 0)
		return -1;
	struct ck_proxy_cfg cfg = {.tls = rt->prov.tls,
				   .plain = rt->m.mode == CK_MODE_OPERATOR_TLS,
				   .local = rt_local,
				   .local_arg = rt};
	int fd = *lfd;
	*lfd = -1; /* the proxy's now */
	if (ck_proxy_new(rt->base, fd, &cfg, &rt->px, err) < 0)
		return -1;
	printf("listening on %s:%u (%s, %s%s)\n", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port),
	       cfg.plain ? "https and http" : "https", rt->att->name,
	       rt->att->simulated ? ", SIMULATED: NOT A REAL TEE" : "");
	fflush(stdout);
	rt_log("%s: waiting for provisioning (mode %s, code in %s memory)", rt->m.name,
	       ck_mode_name(rt->m.mode), rt->memfs_kind);
	return 0;
}

int main(int argc, char **argv)
{
	struct rt *rt = calloc(1, sizeof(*rt));
	struct ck_err e = {0};
	int lfd = -1, ret = EXIT_FAILURE;
	if (!rt)
		return EXIT_FAILURE;
	rt->probe.fd = -1;
	if (ck_opts_parse(&spec, argc, argv, rt, &ret) < 0) {
		free(rt);
		return ret;
	}
	ret = EXIT_FAILURE;
	if (strcmp(rt->backend, "sim") && strcmp(rt->backend, "sgx") &&
	    strcmp(rt->backend, "tsm")) {
		fprintf(stderr, "cloak-runtime: --backend: '%s' is not sim, sgx or tsm\n",
			rt->backend);
		free(rt);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	rt->base = event_base_new_with_config(ec);
	event_config_free(ec);
	struct event *sig_term = evsignal_new(rt->base, SIGTERM, on_stop, rt->base),
		     *sig_int = evsignal_new(rt->base, SIGINT, on_stop, rt->base),
		     *sig_hup = evsignal_new(rt->base, SIGHUP, on_hup, rt);
	rt->tick = event_new(rt->base, -1, EV_PERSIST, on_tick, rt);
	rt->batch_ev = evtimer_new(rt->base, rt_on_batch, rt);
	struct timeval tv = {0, RT_TICK_MS * 1000};
	if (!rt->base || !sig_term || !sig_int || !sig_hup || !rt->tick || !rt->batch_ev) {
		fprintf(stderr, "cloak-runtime: cannot set up the event loop\n");
		goto out;
	}
	if (boot(rt, &lfd, &e) < 0) {
		fprintf(stderr, "cloak-runtime: %s (%s)\n", e.msg, e.code ? e.code : "error");
		ret = !strcmp(e.code ? e.code : "", CK_E_USAGE) ? EXIT_USAGE : EXIT_FAILURE;
		goto out;
	}
	evsignal_add(sig_term, NULL);
	evsignal_add(sig_int, NULL);
	evsignal_add(sig_hup, NULL);
	event_add(rt->tick, &tv);
	event_base_dispatch(rt->base);
	ret = EXIT_SUCCESS;
out:
	rt_probe_end(rt);
	if (rt->app.pid)
		ck_app_stop(&rt->app, RT_STOP_GRACE_MS);
	rt_output_end(rt);
	ck_app_unlisten(&rt->spec);
	rt_batches_free(rt); /* answered while their connections are still there */
	ck_proxy_free(rt->px);
	if (lfd >= 0)
		close(lfd);
	ck_gate_wipe(&rt->gate);
	ck_identity_free(&rt->prov);
	ck_identity_free(&rt->serve);
	ck_identity_free(&rt->none);
	ck_identity_free(&rt->owner);
	if (rt->state != RT_PROVISIONING && *rt->code_dir)
		ck_fs_remove_tree(
		    rt->code_dir); /* the app's code: nothing of it outlives the runtime */
	if (rt->memfs_kind)
		rt_memfs_remove(rt->memfs, rt->memfs_kind);
	ck_manifest_free(&rt->m);
	if (rt->has_coll)
		ck_collateral_free(&rt->coll);
	ck_attester_free(rt->att);
	free(rt->pkg);
	if (sig_term)
		event_free(sig_term);
	if (sig_int)
		event_free(sig_int);
	if (sig_hup)
		event_free(sig_hup);
	if (rt->tick)
		event_free(rt->tick);
	if (rt->batch_ev)
		event_free(rt->batch_ev);
	if (rt->base)
		event_base_free(rt->base);
	free(rt);
	return ret;
}
