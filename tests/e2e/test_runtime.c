/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End to end, on loopback: real cloak-runtime processes with the sim backend (and one with the
 * sgx backend over a fake /dev/attestation returning a recorded real quote), a real app, real
 * TLS. This file plays the owner until `cloak deploy` exists: it appraises the provisioning
 * certificate with `cloak verify`, signs the provisioning with the owner key and POSTs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cloak/bundle.h"
#include "cloak/claims.h"
#include "cloak/manifest.h"
#include "cloak/merkle.h"
#include "cloak/package.h"
#include "cloak/provision.h"
#include "cloak/sim.h"
#include "testutil.h"

#define RT_NONCE_PER_SOURCE_TEST 32 /* the runtime's RT_NONCE_PER_SOURCE */

/* The app: serves on descriptor 3 (LISTEN_FDS; bound to PORT or CLOAK_APP_SOCKET); /env shows
 * what it was given; /write uses its data dir. */
static const char app_py[] =
    "#!/usr/bin/env python3\n"
    "import http.server, json, os, socket, socketserver\n"
    "inherited = []\n"
    "for fd in range(3, 1024):\n"
    "    try: os.fstat(fd); inherited.append(fd)\n"
    "    except OSError: pass\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def address_string(self): return 'client'\n"
    "    def log_message(self, *a): pass\n"
    "    def do_GET(self):\n"
    "        if self.path == '/healthz': body = b'ok\\n'\n"
    "        elif self.path == '/env':\n"
    "            e = os.environ\n"
    "            body = json.dumps({'greeting': e.get('GREETING'), 'data': "
    "e.get('CLOAK_DATA_DIR'),\n"
    "                'leak': e.get('CLOAK_TEST_LEAK'), 'port': e.get('PORT'),\n"
    "                'socket': e.get('CLOAK_APP_SOCKET'), 'pid': os.getpid(),\n"
    "                'inherited': inherited}).encode()\n"
    "        elif self.path == '/write':\n"
    "            open(os.path.join(os.environ['CLOAK_DATA_DIR'], 'note'), 'w').write('kept')\n"
    "            body = b'written\\n'\n"
    "        else: body = b'hello from inside the enclave\\n'\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "assert os.environ['LISTEN_FDS'] == '1' and os.environ['LISTEN_PID'] == str(os.getpid())\n"
    "class S(http.server.HTTPServer):\n"
    "    def get_request(self):\n"
    "        c, a = self.socket.accept(); return c, a if isinstance(a, tuple) else ('u', 0)\n"
    "srv = S(('127.0.0.1', 0), H, bind_and_activate=False)\n"
    "srv.socket.close()\n"
    "srv.socket = socket.socket(fileno=3)\n"
    "srv.serve_forever()\n";

static char *g_dir;
static char g_pki[4200], g_pkg[4200], g_pkg_bad[4200], g_owner_chain[4200], g_owner_key_pem[4200];
static struct ck_owner_key *g_owner, *g_other;
static uint8_t g_key[CK_PKG_KEY_LEN];
static struct ck_pack_result g_res;
static char *g_chain_text, *g_key_text;
static char g_logs[8][4300]; /* the runtimes' logs, most recent first to go */
static size_t g_nlogs;

struct rtp {
	pid_t pid;
	uint16_t port;
	char log[4300];
	uint8_t manifest_sha256[32];
	int exit_status; /* when it did not start */
};

/* ---- fixture ---------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text, mode_t mode)
{
	tu_write(path, text, strlen(text), mode);
}

static char *slurp(const char *path)
{
	size_t n;
	uint8_t *b = tu_read(path, &n);
	char *s = realloc(b, n + 1);
	s[n] = 0;
	return s;
}

/* A manifest for the package, with `mode`; `fp` overrides the fingerprint (NULL: the real one). */
static void manifest(const char *path, enum ck_mode mode, const uint8_t *fp, const uint8_t *pkg_sha,
		     uint8_t hash[32])
{
	struct ck_manifest m = {0};
	char *text;
	size_t n;
	strcpy(m.name, "e2e");
	memcpy(m.fingerprint, fp ? fp : g_res.fingerprint, 32);
	memcpy(m.package_sha256, pkg_sha ? pkg_sha : g_res.package_sha256, 32);
	m.mode = mode;
	if (mode == CK_MODE_OWNER_CERT) {
		strcpy(m.domain, "e2e.localhost");
		m.has_owner_cert = true;
		EVP_Digest(g_chain_text, strlen(g_chain_text), m.owner_cert_sha256, NULL,
			   EVP_sha256(), NULL);
	}
	ck_owner_key_public(g_owner, m.owner_key);
	m.expires = ck_time_now() + 86400;
	strcpy(m.run, "./server");
	strcpy(m.health, "/healthz");
	struct ck_err e;
	if (ck_manifest_encode(&m, &text, &n, hash, &e) < 0)
		fail_msg("%s", e.msg);
	FILE *f = fopen(path, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	free(text);
}

static int group_setup(void **state)
{
	(void)state;
	char p[4200];
	struct ck_err e;
	signal(SIGPIPE, SIG_IGN);
	g_dir = tu_mkdtemp("e2e");
	snprintf(g_pki, sizeof(g_pki), "%s/pki", g_dir);
	if (ck_sim_init(g_pki, ck_time_now(), &e) < 0)
		fail_msg("%s", e.msg);
	g_owner = tu_owner_key(g_dir, "owner");
	g_other = tu_owner_key(g_dir, "other");
	snprintf(p, sizeof(p), "%s/app", g_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/app/server", g_dir);
	write_text(p, app_py, 0755);
	snprintf(p, sizeof(p), "%s/app", g_dir);
	snprintf(g_pkg, sizeof(g_pkg), "%s/app.pkg", g_dir);
	if (ck_package_dir(p, g_pkg, g_key, &g_res, &e) < 0)
		fail_msg("%s", e.msg);
	/* another tree under another key: for a package that is not the manifest's */
	snprintf(p, sizeof(p), "%s/app/extra", g_dir);
	write_text(p, "not in the first package\n", 0644);
	snprintf(p, sizeof(p), "%s/app", g_dir);
	snprintf(g_pkg_bad, sizeof(g_pkg_bad), "%s/other.pkg", g_dir);
	uint8_t k2[CK_PKG_KEY_LEN];
	struct ck_pack_result r2;
	if (ck_package_dir(p, g_pkg_bad, k2, &r2, &e) < 0)
		fail_msg("%s", e.msg);
	/* the owner's own certificate (owner-cert scenario) */
	snprintf(g_owner_chain, sizeof(g_owner_chain), "%s/owner-chain.pem", g_dir);
	snprintf(g_owner_key_pem, sizeof(g_owner_key_pem), "%s/owner-tls.key", g_dir);
	char cmd[9000];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		 "-subj /CN=e2e.localhost -addext subjectAltName=DNS:e2e.localhost "
		 "-keyout '%s' -out '%s' 2>/dev/null",
		 g_owner_key_pem, g_owner_chain);
	if (system(cmd) != 0)
		return -1;
	g_chain_text = slurp(g_owner_chain);
	g_key_text = slurp(g_owner_key_pem);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ck_owner_key_free(g_owner);
	ck_owner_key_free(g_other);
	free(g_chain_text);
	free(g_key_text);
	tu_rmtree(g_dir);
	return 0;
}

/* ---- the runtime process ---------------------------------------------------------------- */

/* Starts cloak-runtime with `args` (NULL-terminated, after the program name); waits for its
 * "listening on" line. Returns false (and leaves *r->log) if it exited instead. */
static bool rt_start(struct rtp *r, const char *tag, const char *const *args)
{
	int pfd[2];
	const char *argv[32];
	size_t n = 0;
	argv[n++] = CLOAK_RUNTIME_BIN;
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(r->log, sizeof(r->log), "%s/%s.log", g_dir, tag);
	snprintf(g_logs[g_nlogs++ % 8], sizeof(g_logs[0]), "%s", r->log);
	assert_int_equal(pipe(pfd), 0);
	if ((r->pid = fork()) == 0) {
		int lf = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(pfd[1], 1);
		dup2(lf, 2);
		close(pfd[0]);
		/* a test that fails before it stops its runtime: gone with the test program */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("CLOAK_TEST_LEAK", "the runtime's own environment", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	char line[512];
	size_t got = 0;
	struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
	while (got < sizeof(line) - 1 && poll(&pf, 1, 20000) == 1) {
		ssize_t k = read(pfd[0], line + got, 1);
		if (k <= 0)
			break;
		if (line[got++] == '\n')
			break;
	}
	line[got] = 0;
	close(pfd[0]);
	unsigned port;
	if (sscanf(line, "listening on 127.0.0.1:%u", &port) != 1) {
		waitpid(r->pid, &r->exit_status, 0);
		r->pid = 0;
		return false;
	}
	r->port = (uint16_t)port;
	return true;
}

static int rt_stop(struct rtp *r)
{
	int st = -1;
	if (!r->pid)
		return -1;
	kill(r->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->pid = 0;
			return st;
		}
		usleep(50000);
	}
	kill(r->pid, SIGKILL);
	waitpid(r->pid, &st, 0);
	r->pid = 0;
	fail_msg("cloak-runtime did not stop within 5 s of SIGTERM");
	return st;
}

/* The runtime's log, for failure messages. */
static char *rt_log(const struct rtp *r)
{
	return slurp(r->log);
}

/* The logs of the runtimes started most recently, on standard error (for a failure). */
static void dump_logs(void)
{
	for (size_t i = 0; i < g_nlogs && i < 8; i++) {
		FILE *f = fopen(g_logs[i], "r");
		char line[1024];
		fprintf(stderr, "--- %s\n", g_logs[i]);
		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
	}
}

/* ---- clients ---------------------------------------------------------------------------- */

struct resp {
	int status;
	char *head, *body; /* body points into head's buffer */
	uint8_t cert_sha256[32];
	bool tls_failed;
};

static void resp_free(struct resp *r)
{
	free(r->head);
	memset(r, 0, sizeof(*r));
}

/* One request on a fresh connection (TLS or plain), read until the server closes. */
static void call(uint16_t port, bool tls, const char *method, const char *path, const void *body,
		 size_t body_len, struct resp *out)
{
	memset(out, 0, sizeof(*out));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		dump_logs();
		fail_msg("connect to port %u: %s (%s %s)", port, strerror(e), method, path);
	}
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	if (tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		SSL_set_tlsext_host_name(ssl, "e2e.localhost");
		if (SSL_connect(ssl) != 1) {
			out->tls_failed = true;
			SSL_free(ssl);
			SSL_CTX_free(ctx);
			close(fd);
			return;
		}
		X509 *peer = SSL_get1_peer_certificate(ssl);
		uint8_t *der = NULL;
		int dl = i2d_X509(peer, &der);
		EVP_Digest(der, (size_t)dl, out->cert_sha256, NULL, EVP_sha256(), NULL);
		OPENSSL_free(der);
		X509_free(peer);
	}
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: e2e.localhost\r\nConnection: close\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, body_len);
	size_t cap = (size_t)hl + body_len;
	char *req = malloc(cap);
	memcpy(req, head, (size_t)hl);
	if (body_len)
		memcpy(req + hl, body, body_len);
	size_t off = 0;
	while (off < cap) {
		int k = tls ? SSL_write(ssl, req + off, (int)(cap - off))
			    : (int)write(fd, req + off, cap - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	free(req);
	size_t n = 0, rcap = 1 << 16;
	char *buf = malloc(rcap + 1);
	for (;;) {
		if (n == rcap)
			buf = realloc(buf, (rcap *= 2) + 1);
		int k = tls ? SSL_read(ssl, buf + n, (int)(rcap - n))
			    : (int)read(fd, buf + n, rcap - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	buf[n] = 0;
	out->head = buf;
	sscanf(buf, "HTTP/1.1 %d", &out->status);
	char *b = strstr(buf, "\r\n\r\n");
	out->body = b ? b + 4 : buf + n;
	if (ssl)
		SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

static json_t *status_json(uint16_t port, bool tls)
{
	struct resp r;
	call(port, tls, "GET", "/.well-known/cloak/status", NULL, 0, &r);
	if (r.status != 200)
		fail_msg("status: %d %s", r.status, r.head ? r.head : "(TLS failed)");
	json_t *j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	resp_free(&r);
	return j;
}

static const char *jstr(json_t *j, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	if (dot) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		return jstr(json_object_get(j, key), dot + 1);
	}
	json_t *v = json_object_get(j, path);
	static char num[32];
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return num;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return json_string_value(v) ? json_string_value(v) : "(none)";
}

/* A claim in `cloak verify --json` output ("cloak.phase", ...: keys with dots). */
static const char *claim(json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(v, "claims"), key));
	return s ? s : "(none)";
}

/* Polls the status until `key` reads `want` (10 s at most). */
static void wait_status(uint16_t port, bool tls, const char *key, const char *want)
{
	char last[256] = "";
	for (int i = 0; i < 200; i++) {
		json_t *j = status_json(port, tls);
		snprintf(last, sizeof(last), "%s", jstr(j, key));
		json_decref(j);
		if (!strcmp(last, want))
			return;
		usleep(50000);
	}
	dump_logs();
	fail_msg("status %s is '%s', not '%s', after 10 s", key, last, want);
}

/* `cloak verify TARGET --allow-simulation --json ARGS...`: its JSON (and exit status). */
static json_t *verify(const char *target, const char *extra, int *exit_status)
{
	char cmd[8600];
	const char *bin = getenv("CLOAK_BIN");
	assert_non_null(bin);
	snprintf(cmd, sizeof(cmd), "'%s' verify %s --allow-simulation --json %s 2>'%s/verify.err'",
		 bin, target, extra ? extra : "", g_dir);
	FILE *p = popen(cmd, "r");
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = 0;
	int st = pclose(p);
	*exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	json_t *j = json_loads(buf, 0, NULL);
	if (!j) {
		snprintf(cmd, sizeof(cmd), "%s/verify.err", g_dir);
		char *err = slurp(cmd);
		fail_msg("cloak verify %s (exit %d) printed: %s\n%s", target, *exit_status, buf,
			 err);
	}
	return j;
}

/* `cloak verify TARGET --nonce`: accepted, in phase serving, in `mode`. The JSON, for more. */
static json_t *verify_serving(const char *target, enum ck_mode mode)
{
	int st;
	json_t *v = verify(target, "--nonce", &st);
	if (st != 0)
		fail_msg("cloak verify %s: exit %d: %s", target, st, json_dumps(v, 0));
	assert_string_equal(jstr(v, "mode"), ck_mode_name(mode));
	assert_string_equal(claim(v, "cloak.phase"), "serving");
	return v;
}

/* The owner's provisioning for the enclave whose provisioning certificate is `cert`. */
static char *envelope(const struct ck_owner_key *by, const uint8_t cert[32],
		      const uint8_t manifest_sha[32], const uint8_t *key, bool owner_tls,
		      size_t *len)
{
	struct ck_provision p = {0};
	char *env;
	memcpy(p.enclave_cert_sha256, cert, 32);
	memcpy(p.manifest_sha256, manifest_sha, 32);
	memcpy(p.package_key, key, CK_PKG_KEY_LEN);
	p.issued_at = ck_time_now();
	strcpy(p.secrets[0].name, "GREETING");
	p.secrets[0].value = strdup("provisioned secret");
	p.secrets[0].value_len = strlen(p.secrets[0].value);
	p.n_secrets = 1;
	if (owner_tls) {
		p.owner_tls_chain = strdup(g_chain_text);
		p.owner_tls_key = strdup(g_key_text);
	}
	struct ck_err e;
	if (ck_provision_sign(&p, by, &env, len, &e) < 0)
		fail_msg("%s", e.msg);
	ck_provision_free(&p);
	return env;
}

static int provision(uint16_t port, bool tls, const char *env, size_t len, struct resp *r)
{
	call(port, tls, "POST", "/.well-known/cloak/provision", env, len, r);
	return r->status;
}

/* What the app says it was given (GET /env over TLS), parsed. */
static json_t *app_env(uint16_t port)
{
	struct resp r;
	call(port, true, "GET", "/env", NULL, 0, &r);
	json_t *j = json_loads(r.body, 0, NULL);
	if (!j)
		fail_msg("GET /env: %s", r.head ? r.head : "(TLS failed)");
	resp_free(&r);
	return j;
}

/* The SHA-256 of the certificate a new TLS connection to `port` is served with. */
static void served_cert(uint16_t port, uint8_t out[32])
{
	struct resp r;
	call(port, true, "GET", "/.well-known/cloak/status", NULL, 0, &r);
	memcpy(out, r.cert_sha256, 32);
	resp_free(&r);
}

/* Offers a provisioning (over TLS when `tls`) that must be refused with `status`, its body
 * naming `code`. */
static void refused(uint16_t port, bool tls, const char *env, size_t len, int status,
		    const char *code)
{
	struct resp r;
	if (provision(port, tls, env, len, &r) != status || !strstr(r.body, code))
		fail_msg("want %d %s, got: %s", status, code, r.head ? r.body : "(TLS failed)");
	resp_free(&r);
}

/* The owner's side of deploy step 3: appraise the provisioning certificate (phase
 * provisioning, this package and manifest), then provision it. */
static void appraise_and_provision(struct rtp *rt, enum ck_mode mode, bool owner_tls)
{
	char target[64];
	int st;
	snprintf(target, sizeof(target), "127.0.0.1:%u", rt->port);
	json_t *v = verify(target, NULL, &st);
	assert_int_equal(st, 0);
	assert_string_equal(jstr(v, "verdict"), "accepted");
	assert_string_equal(claim(v, "cloak.phase"), "provisioning");
	assert_string_equal(jstr(v, "mode"), ck_mode_name(mode));
	assert_string_equal(jstr(v, "key_bound"), "true");
	char hex[65];
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", g_res.package_sha256[i]);
	assert_string_equal(claim(v, "cloak.package"), hex);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", rt->manifest_sha256[i]);
	assert_string_equal(claim(v, "cloak.manifest"), hex);
	json_decref(v);

	struct resp r;
	call(rt->port, true, "GET", "/.well-known/cloak/status", NULL, 0, &r);
	uint8_t cert[32];
	memcpy(cert, r.cert_sha256, 32);
	resp_free(&r);
	size_t n;
	char *env = envelope(g_owner, cert, rt->manifest_sha256, g_key, owner_tls, &n);
	if (provision(rt->port, true, env, n, &r) != 200) {
		char *log = rt_log(rt);
		fail_msg("provisioning: %s\nlog:\n%s", r.head, log);
	}
	assert_non_null(strstr(r.body, "\"accepted\":true"));
	resp_free(&r);
	free(env);
}

static void start_mode(struct rtp *rt, const char *tag, enum ck_mode mode)
{
	char mpath[4200];
	snprintf(mpath, sizeof(mpath), "%s/%s.manifest", g_dir, tag);
	manifest(mpath, mode, NULL, NULL, rt->manifest_sha256);
	const char *args[] = {"--backend",  "sim", "--sim-pki", g_pki,	       "--package", g_pkg,
			      "--manifest", mpath, "--listen",	"127.0.0.1:0", NULL};
	if (!rt_start(rt, tag, args)) {
		char *log = rt_log(rt);
		fail_msg("cloak-runtime did not start:\n%s", log);
	}
}

/* ---- tests ------------------------------------------------------------------------------ */

/* Zero trust, the whole way: appraise, provision, the app in private memory with its secret,
 * the serving RA-TLS identity, nonce-bound evidence, one provisioning only, a killed app comes
 * back, and a clean stop. */
static void test_zero_trust(void **state)
{
	(void)state;
	struct rtp rt;
	struct resp r;
	char target[64];
	int st;
	start_mode(&rt, "zt", CK_MODE_ZERO_TRUST);
	snprintf(target, sizeof(target), "127.0.0.1:%u", rt.port);

	/* before provisioning: status and evidence, no app */
	json_t *s = status_json(rt.port, true);
	assert_string_equal(jstr(s, "state"), "provisioning");
	assert_string_equal(jstr(s, "simulated"), "true");
	json_decref(s);
	call(rt.port, true, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 503);
	resp_free(&r);
	uint8_t prov_cert[32];
	served_cert(rt.port, prov_cert);

	appraise_and_provision(&rt, CK_MODE_ZERO_TRUST, false);
	wait_status(rt.port, true, "state", "serving");

	/* the app answers through the runtime, with the serving identity */
	call(rt.port, true, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello from inside the enclave\n");
	assert_memory_not_equal(r.cert_sha256, prov_cert, 32);
	resp_free(&r);
	json_t *v = verify_serving(target, CK_MODE_ZERO_TRUST);
	assert_string_equal(jstr(v, "key_bound"), "true");
	char fp[65];
	for (int i = 0; i < 32; i++)
		sprintf(fp + 2 * i, "%02x", g_res.fingerprint[i]);
	assert_string_equal(jstr(v, "fingerprint"), fp);
	json_decref(v);
	char fparg[100];
	snprintf(fparg, sizeof(fparg), "--fingerprint %064d", 0); /* another app: refused */
	v = verify(target, fparg, &st);
	assert_int_equal(st, 1);
	json_decref(v);

	/* the app got its secret and data directory, and nothing of the runtime's environment */
	json_t *env = app_env(rt.port);
	assert_string_equal(jstr(env, "greeting"), "provisioned secret");
	assert_string_equal(jstr(env, "leak"), "(none)");
	assert_string_not_equal(jstr(env, "data"), "(none)");
	/* and not one of the runtime's descriptors (its listener, client connections): only 3,
	 * its own listening socket */
	json_t *inh = json_object_get(env, "inherited");
	if (!json_is_array(inh) || json_array_size(inh) != 1 ||
	    json_integer_value(json_array_get(inh, 0)) != 3)
		fail_msg("the app inherited descriptors: %s", json_dumps(inh, 0));
	long pid = atol(jstr(env, "pid"));
	int app_port = atoi(jstr(env, "port"));
	json_decref(env);
	call(rt.port, true, "GET", "/write", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);

	/* the code lives in the runtime's private in-memory filesystem: from outside, its mount
	 * point is empty (or, without namespaces, a 0700 directory on /dev/shm) */
	s = status_json(rt.port, true);
	const char *kind = jstr(s, "code_fs.kind");
	struct stat sb;
	assert_int_equal(stat(jstr(s, "code_fs.path"), &sb), 0);
	if (!strcmp(kind, "private-namespace")) {
		DIR *d = opendir(jstr(s, "code_fs.path"));
		struct dirent *de;
		int entries = 0;
		while ((de = readdir(d)))
			entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
		assert_int_equal(entries, 0);
	} else {
		assert_string_equal(kind, "shm-0700");
		assert_int_equal(sb.st_mode & 0777, 0700);
	}
	char fs_path[4200];
	snprintf(fs_path, sizeof(fs_path), "%s", jstr(s, "code_fs.path"));
	json_decref(s);

	/* one provisioning only: the same again (over the serving identity) or a new one */
	size_t n;
	char *again = envelope(g_owner, prov_cert, rt.manifest_sha256, g_key, false, &n);
	refused(rt.port, true, again, n, 409, "provision.state");
	free(again);

	/* a killed app comes back, and is served again; while it is down, an impostor cannot
	 * take its port and receive the clients' decrypted requests (the runtime holds it) */
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	assert_true(app_port > 0);
	for (int i = 0; i < 600; i++) {
		int imp = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(imp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(imp, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		struct sockaddr_in isa = {.sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
					  .sin_port = htons((uint16_t)app_port)};
		int b = bind(imp, (struct sockaddr *)&isa, sizeof(isa));
		close(imp);
		if (b == 0)
			fail_msg("an impostor bound the app's port %d after %d ms", app_port, i);
		usleep(1000);
	}
	wait_status(rt.port, true, "app.restarts", "1");
	wait_status(rt.port, true, "app.healthy", "true");
	call(rt.port, true, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);

	/* SIGTERM: a clean stop that takes the app and the in-memory code with it */
	env = app_env(rt.port);
	pid = atol(jstr(env, "pid"));
	json_decref(env);
	st = rt_stop(&rt);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kill((pid_t)pid, 0), -1);
	assert_int_equal(stat(fs_path, &sb), -1);
}

/* Every wrong provisioning is refused with its own 4xx and changes nothing; then the valid one
 * is accepted, once. */
static void test_provisioning_refusals(void **state)
{
	(void)state;
	struct rtp a, b;
	struct resp r;
	size_t n;
	start_mode(&a, "refuse-a", CK_MODE_ZERO_TRUST);
	start_mode(&b, "refuse-b", CK_MODE_ZERO_TRUST);
	uint8_t cert_a[32], cert_b[32];
	served_cert(a.port, cert_a);
	served_cert(b.port, cert_b);

	/* wrongly signed: another owner key */
	char *wrong = envelope(g_other, cert_a, a.manifest_sha256, g_key, false, &n);
	refused(a.port, true, wrong, n, 403, "provision.signature");
	free(wrong);
	/* unsigned: the signature zeroed */
	char *good = envelope(g_owner, cert_a, a.manifest_sha256, g_key, false, &n);
	char *uns = strdup(good);
	memset(strstr(uns, "\"signature\":\"") + 13, '0', 128);
	refused(a.port, true, uns, n, 403, "provision.signature");
	free(uns);
	/* not JSON at all */
	assert_int_equal(provision(a.port, true, "hello", 5, &r), 400);
	resp_free(&r);
	/* replayed: a provisioning made for instance A, sent to instance B */
	refused(b.port, true, good, n, 403, "provision.binding");
	/* oversize: refused before it is parsed */
	size_t big = 200 * 1024;
	char *huge = malloc(big);
	memset(huge, '{', big);
	assert_int_equal(provision(a.port, true, huge, big, &r), 413);
	resp_free(&r);
	free(huge);

	/* nothing changed: still waiting, no app, every refusal the gate saw counted (the
	 * oversize body was refused by the proxy before it reached the gate) */
	json_t *s = status_json(a.port, true);
	assert_string_equal(jstr(s, "state"), "provisioning");
	assert_string_equal(jstr(s, "provisioning.state"), "open");
	assert_string_equal(jstr(s, "provisioning.refused"), "3");
	assert_string_equal(jstr(s, "app.running"), "false");
	json_decref(s);

	/* the valid one: accepted once; a second valid one (another key) is refused */
	assert_int_equal(provision(a.port, true, good, n, &r), 200);
	resp_free(&r);
	assert_int_equal(provision(a.port, true, good, n, &r), 409);
	resp_free(&r);
	free(good);
	uint8_t other_key[CK_PKG_KEY_LEN] = {1};
	char *second = envelope(g_owner, cert_a, a.manifest_sha256, other_key, false, &n);
	assert_int_equal(provision(a.port, true, second, n, &r), 409);
	resp_free(&r);
	free(second);
	wait_status(a.port, true, "state", "serving");
	rt_stop(&a);
	rt_stop(&b);
}

/* A package that is not what the manifest says is never started: refused at boot when its
 * hash differs, refused at provisioning when its code's fingerprint differs or its key is
 * wrong (and the gate stays open). */
static void test_package_mismatch(void **state)
{
	(void)state;
	struct rtp rt;
	struct resp r;
	char mpath[4200];
	size_t n;

	/* the node hands over a package the manifest does not name: the runtime refuses to boot */
	snprintf(mpath, sizeof(mpath), "%s/swap.manifest", g_dir);
	manifest(mpath, CK_MODE_ZERO_TRUST, NULL, NULL, rt.manifest_sha256);
	const char *swap[] = {"--backend", "sim",	  "--sim-pki",	g_pki,
			      "--package", g_pkg_bad,	  "--manifest", mpath,
			      "--listen",  "127.0.0.1:0", NULL};
	assert_false(rt_start(&rt, "swap", swap));
	char *log = rt_log(&rt);
	if (!strstr(log, "the manifest says"))
		fail_msg("boot with another package: %s", log);
	free(log);

	/* a manifest whose fingerprint is not the package's code */
	uint8_t fp[32];
	memset(fp, 0xab, 32);
	snprintf(mpath, sizeof(mpath), "%s/fp.manifest", g_dir);
	manifest(mpath, CK_MODE_ZERO_TRUST, fp, NULL, rt.manifest_sha256);
	const char *args[] = {"--backend",  "sim", "--sim-pki", g_pki,	       "--package", g_pkg,
			      "--manifest", mpath, "--listen",	"127.0.0.1:0", NULL};
	assert_true(rt_start(&rt, "fp", args));
	uint8_t cert[32];
	served_cert(rt.port, cert);
	char *env = envelope(g_owner, cert, rt.manifest_sha256, g_key, false, &n);
	refused(rt.port, true, env, n, 422, "package.fingerprint");
	free(env);
	uint8_t wrong_key[CK_PKG_KEY_LEN];
	memset(wrong_key, 7, sizeof(wrong_key));
	env = envelope(g_owner, cert, rt.manifest_sha256, wrong_key, false, &n);
	refused(rt.port, true, env, n, 422, "package.auth");
	free(env);
	json_t *s = status_json(rt.port, true);
	assert_string_equal(jstr(s, "state"), "provisioning");
	assert_string_equal(jstr(s, "app.running"), "false");
	assert_string_equal(jstr(s, "provisioning.state"), "open");
	json_decref(s);
	call(rt.port, true, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 503);
	resp_free(&r);
	rt_stop(&rt);
}

/* Owner cert: after provisioning the runtime serves the owner's certificate with the
 * provisioned key, and the evidence endpoint binds that key. */
static void test_owner_cert(void **state)
{
	(void)state;
	struct rtp rt;
	struct resp r;
	size_t n;
	start_mode(&rt, "oc", CK_MODE_OWNER_CERT);
	uint8_t cert[32];
	served_cert(rt.port, cert);
	/* without the owner's TLS chain and key: refused, the gate stays open */
	char *env = envelope(g_owner, cert, rt.manifest_sha256, g_key, false, &n);
	refused(rt.port, true, env, n, 422, "owner-cert");
	free(env);
	/* the manifest's chain with a key that is not its certificate's: refused, named */
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *kb = BIO_new(BIO_s_mem());
	char *pem, *mine = g_key_text;
	PEM_write_bio_PrivateKey(kb, other, NULL, NULL, 0, NULL, NULL);
	long pl = BIO_get_mem_data(kb, &pem);
	g_key_text = strndup(pem, (size_t)pl);
	env = envelope(g_owner, cert, rt.manifest_sha256, g_key, true, &n);
	free(g_key_text);
	g_key_text = mine;
	refused(rt.port, true, env, n, 422, "/CN=e2e.localhost");
	free(env);
	BIO_free(kb);
	EVP_PKEY_free(other);

	appraise_and_provision(&rt, CK_MODE_OWNER_CERT, true);
	wait_status(rt.port, true, "state", "serving");
	call(rt.port, true, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	uint8_t want[32];
	{
		BIO *b = BIO_new_mem_buf(g_chain_text, -1);
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		uint8_t *der = NULL;
		int dl = i2d_X509(x, &der);
		EVP_Digest(der, (size_t)dl, want, NULL, EVP_sha256(), NULL);
		OPENSSL_free(der);
		X509_free(x);
		BIO_free(b);
	}
	assert_memory_equal(r.cert_sha256, want, 32); /* the owner's certificate */
	resp_free(&r);
	char target[64];
	snprintf(target, sizeof(target), "127.0.0.1:%u", rt.port);
	json_t *v = verify_serving(target, CK_MODE_OWNER_CERT);
	assert_string_equal(jstr(v, "key_bound"), "true");
	json_decref(v);
	rt_stop(&rt);
}

/* Operator TLS: plain HTTP for the node on the same port, evidence still served (binding no
 * key, and saying so); provisioning only over the RA-TLS certificate. */
static void test_operator_tls(void **state)
{
	(void)state;
	struct rtp rt;
	struct resp r;
	size_t n;
	start_mode(&rt, "op", CK_MODE_OPERATOR_TLS);
	call(rt.port, false, "GET", "/.well-known/cloak/status", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	uint8_t cert[32];
	served_cert(rt.port, cert);
	char *env = envelope(g_owner, cert, rt.manifest_sha256, g_key, false, &n);
	assert_int_equal(provision(rt.port, false, env, n, &r), 403); /* over plain HTTP */
	assert_non_null(strstr(r.body, "RA-TLS"));
	resp_free(&r);
	free(env);

	appraise_and_provision(&rt, CK_MODE_OPERATOR_TLS, false);
	wait_status(rt.port, false, "state", "serving");
	call(rt.port, false, "GET", "/", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello from inside the enclave\n");
	resp_free(&r);
	char target[64];
	snprintf(target, sizeof(target), "http://127.0.0.1:%u", rt.port);
	json_t *v = verify_serving(target, CK_MODE_OPERATOR_TLS);
	assert_non_null(strstr(jstr(v, "who_can_read"), "operator"));
	json_decref(v);
	rt_stop(&rt);
}

/* base64 (with padding) into a fresh buffer. */
static uint8_t *unb64(const char *b64, size_t *len)
{
	assert_non_null(b64);
	uint8_t *out = malloc(strlen(b64) + 1);
	int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)strlen(b64));
	assert_true(n >= 0);
	*len = (size_t)n - (strlen(b64) - strcspn(b64, "=")); /* padding */
	return out;
}

/* A hardware backend: the status names it and says it is not simulated; its evidence, fetched
 * with a nonce, carries the collateral, the recorded quote `q`, and claims whose SHA-256 is
 * what the runtime wrote as report data (the first 32 bytes of the file `report_data`). */
static void check_hw_evidence(uint16_t port, const char *backend, const uint8_t *q, size_t qn,
			      const char *report_data)
{
	struct resp r;
	size_t n, cl;
	uint8_t h[32];
	json_t *s = status_json(port, true);
	assert_string_equal(jstr(s, "backend"), backend);
	assert_string_equal(jstr(s, "simulated"), "false");
	json_decref(s);
	call(port, true, "GET", "/.well-known/cloak/evidence?nonce=00112233", NULL, 0, &r);
	assert_int_equal(r.status, 200);
	json_t *b = json_loads(r.body, 0, NULL);
	assert_non_null(json_object_get(b, "collateral"));
	uint8_t *got = unb64(json_string_value(json_object_get(b, "quote")), &n);
	assert_int_equal(n, qn);
	assert_memory_equal(got, q, qn);
	uint8_t *claims = unb64(json_string_value(json_object_get(b, "claims")), &cl);
	EVP_Digest(claims, cl, h, NULL, EVP_sha256(), NULL);
	uint8_t *rd = tu_read(report_data, &n);
	assert_int_equal(n, 64);
	assert_memory_equal(rd, h, 32);
	free(rd);
	free(claims);
	free(got);
	json_decref(b);
	resp_free(&r);
}

/* The sgx backend over a fake /dev/attestation that returns a recorded real quote: the
 * runtime writes SHA-256(claims) as report data, serves the real quote with the given
 * collateral, and (once provisioned) writes the code mount's key and runs the app on a UNIX
 * socket. */
static void test_sgx_backend_fake_device(void **state)
{
	(void)state;
	char att[4200], p[4300], mpath[4200], appdir[4200], coll[4200];
	struct rtp rt;
	struct resp r;
	size_t qn, n;
	snprintf(att, sizeof(att), "%s/attestation", g_dir);
	mkdir(att, 0755);
	snprintf(p, sizeof(p), "%s/keys", att);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/attestation_type", att);
	write_text(p, "dcap\n", 0644);
	snprintf(p, sizeof(p), "%s/user_report_data", att);
	write_text(p, "", 0644);
	uint8_t *q = tu_read("sgx-dcap/dcap-qvl/sgx_quote.bin", &qn);
	snprintf(p, sizeof(p), "%s/quote", att);
	FILE *f = fopen(p, "w");
	fwrite(q, 1, qn, f);
	fclose(f);
	snprintf(coll, sizeof(coll), "%s/sgx-dcap/dcap-qvl/sgx_quote_collateral.json",
		 tu_vectors());
	snprintf(appdir, sizeof(appdir), "%s/sgx-app", g_dir);
	mkdir(appdir, 0700);
	/* the code of a previous run that was killed: replaced, not a reason to fail */
	snprintf(p, sizeof(p), "%s/code", appdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/code/stale", appdir);
	write_text(p, "from a run killed before it cleaned up\n", 0644);
	snprintf(mpath, sizeof(mpath), "%s/sgx.manifest", g_dir);
	manifest(mpath, CK_MODE_ZERO_TRUST, NULL, NULL, rt.manifest_sha256);
	const char *args[] = {"--backend", "sgx",	   "--attestation-dir",
			      att,	   "--collateral", coll,
			      "--package", g_pkg,	   "--manifest",
			      mpath,	   "--app-dir",	   appdir,
			      "--listen",  "127.0.0.1:0",  NULL};
	/* without collateral it refuses to start: evidence always carries its collateral */
	const char *nocoll[] = {
	    "--backend",  "sgx", "--attestation-dir", att,	     "--package", g_pkg,
	    "--manifest", mpath, "--listen",	      "127.0.0.1:0", NULL};
	assert_false(rt_start(&rt, "sgx-nocoll", nocoll));
	assert_true(rt_start(&rt, "sgx", args));
	/* the evidence: the recorded quote, the collateral given, and claims whose hash is what
	 * the runtime wrote to user_report_data */
	snprintf(p, sizeof(p), "%s/user_report_data", att);
	check_hw_evidence(rt.port, "sgx", q, qn, p);

	/* provisioned: the code mount's key is written, the app runs on a UNIX socket */
	uint8_t cert[32];
	served_cert(rt.port, cert);
	char *env = envelope(g_owner, cert, rt.manifest_sha256, g_key, false, &n);
	assert_int_equal(provision(rt.port, true, env, n, &r), 200);
	resp_free(&r);
	free(env);
	wait_status(rt.port, true, "state", "serving");
	snprintf(p, sizeof(p), "%s/keys/cloak_code", att);
	uint8_t *k = tu_read(p, &n);
	assert_int_equal(n, 16);
	free(k);
	json_t *e = app_env(rt.port);
	assert_string_equal(jstr(e, "port"), "(none)");
	assert_non_null(strstr(jstr(e, "socket"), "app.sock"));
	json_decref(e);
	resp_free(&r);
	free(q);
	rt_stop(&rt);
	struct stat sb;
	snprintf(p, sizeof(p), "%s/code", appdir);
	assert_int_equal(stat(p, &sb), -1); /* nothing of the code outlives the runtime */
}

/* A fake configfs-tsm kernel for one report entry: each time `inblob` is written (inotify),
 * wait for the reader of `outblob` (a FIFO), bump `generation` as the kernel does for that
 * write, and hand out the recorded quote. Runs until killed. */
static void fake_tsm_kernel(const char *entry, const uint8_t *quote, size_t len, int ready)
{
	char fifo[4300], gen[4300], in[4300], g[32];
	snprintf(fifo, sizeof(fifo), "%s/outblob", entry);
	snprintf(gen, sizeof(gen), "%s/generation", entry);
	snprintf(in, sizeof(in), "%s/inblob", entry);
	int ino = inotify_init1(IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, in, IN_CLOSE_WRITE) < 0)
		_exit(1);
	if (write(ready, "k", 1) != 1) /* watching: the runtime may start */
		_exit(1);
	close(ready);
	char ev[4096];
	for (unsigned n = 1;; n++) {
		if (read(ino, ev, sizeof(ev)) <= 0) /* the runtime wrote its report data */
			_exit(1);
		int fd = open(fifo, O_WRONLY);
		if (fd < 0)
			_exit(1);
		FILE *f = fopen(gen, "w");
		snprintf(g, sizeof(g), "%u\n", n);
		fputs(g, f);
		fclose(f);
		size_t off = 0;
		while (off < len) {
			ssize_t k = write(fd, quote + off, len - off);
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		close(fd);
	}
}

/* The tsm backend over a fake configfs-tsm entry returning a recorded real TDX quote: the
 * runtime writes SHA-256(claims) to inblob, checks the generation, names the provider, and
 * serves the quote with the collateral given. */
static void test_tsm_backend_fake_configfs(void **state)
{
	(void)state;
	char entry[4200], p[4300], mpath[4200], appdir[4200], coll[4200];
	struct rtp rt;
	size_t qn;
	snprintf(entry, sizeof(entry), "%s/tsm-entry", g_dir);
	mkdir(entry, 0755);
	snprintf(p, sizeof(p), "%s/inblob", entry);
	write_text(p, "", 0644);
	snprintf(p, sizeof(p), "%s/generation", entry);
	write_text(p, "0\n", 0644);
	snprintf(p, sizeof(p), "%s/provider", entry);
	write_text(p, "tdx_guest\n", 0644);
	snprintf(p, sizeof(p), "%s/outblob", entry);
	assert_int_equal(mkfifo(p, 0644), 0);
	uint8_t *q = tu_read("tdx/dcap-qvl/tdx_quote.bin", &qn);
	int ready[2];
	char k;
	assert_int_equal(pipe(ready), 0);
	pid_t kernel = fork();
	if (kernel == 0)
		fake_tsm_kernel(entry, q, qn, ready[1]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &k, 1), 1);
	close(ready[0]);
	snprintf(coll, sizeof(coll), "%s/tdx/dcap-qvl/tdx_quote_collateral.json", tu_vectors());
	snprintf(appdir, sizeof(appdir), "%s/tsm-app", g_dir);
	mkdir(appdir, 0700);
	snprintf(mpath, sizeof(mpath), "%s/tsm.manifest", g_dir);
	manifest(mpath, CK_MODE_ZERO_TRUST, NULL, NULL, rt.manifest_sha256);
	const char *args[] = {"--backend", "tsm",	   "--attestation-dir",
			      entry,	   "--collateral", coll,
			      "--package", g_pkg,	   "--manifest",
			      mpath,	   "--app-dir",	   appdir,
			      "--listen",  "127.0.0.1:0",  NULL};
	bool started = rt_start(&rt, "tsm", args);
	if (!started) {
		kill(kernel, SIGKILL);
		waitpid(kernel, NULL, 0);
		dump_logs();
		fail_msg("the runtime did not start with the tsm backend");
	}
	/* the recorded TDX quote, and SHA-256 of the claims (with our nonce) in inblob */
	snprintf(p, sizeof(p), "%s/inblob", entry);
	check_hw_evidence(rt.port, "tsm-tdx", q, qn, p);
	rt_stop(&rt);
	kill(kernel, SIGKILL);
	waitpid(kernel, NULL, 0);
	free(q);
}

/* Fresh quotes block the runtime while the TEE makes them: beyond a burst, nonce-bound
 * evidence is refused (429) for a while; cached evidence, status and the rest are not. */
/* A TLS connection to the runtime that has sent `req` (the answer is read by tls_answer). */
static SSL *tls_send(uint16_t port, SSL_CTX *ctx, const char *req)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	assert_int_equal(SSL_connect(ssl), 1);
	if (req)
		assert_int_equal(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
	return ssl;
}

static char *tls_answer(SSL *ssl)
{
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1);
	int k;
	while ((k = SSL_read(ssl, buf + n, (int)(cap - n))) > 0)
		if ((n += (size_t)k) == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	buf[n] = 0;
	close(SSL_get_fd(ssl));
	SSL_free(ssl);
	return buf;
}

/* The answer `body` to nonce `nonce`: a bundle whose claims carry the batch root, and a proof
 * that the nonce is in it. */
static void check_batched(const char *body, const uint8_t nonce[8])
{
	struct ck_bundle b;
	struct ck_claims c;
	uint8_t leaf[32];
	struct ck_err e;
	if (ck_bundle_parse(body, strlen(body), &b, &e) < 0)
		fail_msg("bundle: %s", e.msg);
	assert_true(b.has_nonce_proof);
	assert_int_equal(ck_claims_parse(b.claims, b.claims_len, &c, NULL), 0);
	assert_true(c.has_nonce_root);
	ck_merkle_leaf(nonce, 8, leaf);
	assert_true(ck_merkle_verify(leaf, &b.nonce_proof, c.nonce_root));
	leaf[0] ^= 1; /* another nonce is not in it */
	assert_false(ck_merkle_verify(leaf, &b.nonce_proof, c.nonce_root));
	ck_bundle_free(&b);
}

/*
 * Fresh evidence is not a scarce resource: nonces that arrive together are answered by one quote
 * (their Merkle root in its claims, each with its proof); one address may keep at most
 * RT_NONCE_PER_SOURCE waiting, the rest told 429 with Retry-After; and while another address
 * floods, cloak verify --nonce is answered every time.
 */
static void test_fresh_evidence_batches(void **state)
{
	(void)state;
	enum { N = 100 };
	struct rtp rt;
	struct resp r;
	start_mode(&rt, "rate", CK_MODE_ZERO_TRUST);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	static SSL *conns[N];
	uint8_t nonces[N][8];
	for (int i = 0; i < N; i++) { /* all connected first, then all asked at once */
		conns[i] = tls_send(rt.port, ctx, NULL);
		for (int k = 0; k < 8; k++)
			nonces[i][k] = (uint8_t)(i * 8 + k);
	}
	for (int i = 0; i < N; i++) {
		char req[256];
		snprintf(req, sizeof(req),
			 "GET /.well-known/cloak/evidence?nonce=%02x%02x%02x%02x%02x%02x%02x%02x "
			 "HTTP/1.1\r\nHost: e2e.localhost\r\nConnection: close\r\n\r\n",
			 nonces[i][0], nonces[i][1], nonces[i][2], nonces[i][3], nonces[i][4],
			 nonces[i][5], nonces[i][6], nonces[i][7]);
		assert_int_equal(SSL_write(conns[i], req, (int)strlen(req)), (int)strlen(req));
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		char *a = tls_answer(conns[i]), *body = strstr(a, "\r\n\r\n");
		if (!strncmp(a, "HTTP/1.1 200 ", 13) && body) {
			check_batched(body + 4, nonces[i]);
			ok++;
		} else if (!strncmp(a, "HTTP/1.1 429 ", 13) &&
			   strstr(a, "\r\nRetry-After: 1\r\n") && strstr(a, "\"rate\"")) {
			refused++;
		} else {
			fail_msg("fresh evidence %d: %.200s", i, a);
		}
		free(a);
	}
	json_t *s = status_json(rt.port, true);
	long quotes = atol(jstr(s, "fresh_evidence.quotes"));
	json_decref(s);
	if (ok < RT_NONCE_PER_SOURCE_TEST || refused < 1 || quotes * 8 > ok)
		fail_msg("%d answered by %ld quotes, %d refused: want many answers per quote, and "
			 "refusals past one address's share",
			 ok, quotes, refused);
	call(rt.port, true, "GET", "/.well-known/cloak/evidence", NULL, 0, &r);
	assert_int_equal(r.status, 200); /* cached: always served */
	resp_free(&r);

	/* another address floods; a verifier's fresh quotes are still answered, every time */
	char cmd[8600], target[64];
	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/cli/flood_evidence.py' %u 4 16 127.0.0.2",
		 CLOAK_SOURCE_DIR, rt.port);
	FILE *flood = popen(cmd, "r");
	assert_non_null(flood);
	usleep(500 * 1000);
	snprintf(target, sizeof(target), "127.0.0.1:%u", rt.port);
	for (int i = 0; i < 5; i++) {
		int st;
		json_t *v = verify(target, "--nonce", &st);
		if (st != 0)
			fail_msg("cloak verify --nonce %d during a flood: exit %d", i, st);
		json_decref(v);
	}
	char counts[256] = "";
	size_t cn = fread(counts, 1, sizeof(counts) - 1, flood);
	counts[cn] = 0;
	pclose(flood);
	if (!strstr(counts, "\"200\""))
		fail_msg("the flooder was answered nothing: %s", counts);
	s = status_json(rt.port, true);
	assert_string_equal(jstr(s, "state"), "provisioning");
	json_decref(s);
	SSL_CTX_free(ctx);
	rt_stop(&rt);
}

/* Bad invocations: a clear message naming the bad value, exit status 2. */
static void test_usage(void **state)
{
	(void)state;
	struct rtp rt;
	const char *bad_backend[] = {"--backend", "tpm",      "--package",   "x", "--manifest",
				     "y",	  "--listen", "127.0.0.1:0", NULL};
	assert_false(rt_start(&rt, "usage1", bad_backend));
	char *log = rt_log(&rt);
	assert_non_null(strstr(log, "'tpm'"));
	free(log);
	const char *bad_listen[] = {"--backend", "sim",	      "--sim-pki",  g_pki,
				    "--package", g_pkg,	      "--manifest", "/nonexistent",
				    "--listen",	 "localhost", NULL};
	assert_false(rt_start(&rt, "usage2", bad_listen));
	log = rt_log(&rt);
	assert_non_null(strstr(log, "/nonexistent"));
	free(log);
	/* an address with something after the port: refused, named, exit 2 */
	char good[4200];
	uint8_t mh[32];
	snprintf(good, sizeof(good), "%s/usage.manifest", g_dir);
	manifest(good, CK_MODE_ZERO_TRUST, NULL, NULL, mh);
	const char *junk_listen[] = {"--backend", "sim",	   "--sim-pki",	 g_pki,
				     "--package", g_pkg,	   "--manifest", good,
				     "--listen",  "127.0.0.1:80x", NULL};
	assert_false(rt_start(&rt, "usage-listen", junk_listen));
	assert_true(WIFEXITED(rt.exit_status) && WEXITSTATUS(rt.exit_status) == 2);
	log = rt_log(&rt);
	if (!strstr(log, "--listen: '127.0.0.1:80x'"))
		fail_msg("a bad --listen: %s", log);
	free(log);
	/* a manifest that is there but not a manifest: its path is in the message */
	char bad[4200];
	snprintf(bad, sizeof(bad), "%s/not-a-manifest.json", g_dir);
	write_text(bad, "{\"cloak_manifest\":2}", 0644);
	const char *bad_manifest[] = {"--backend", "sim",	  "--sim-pki",	g_pki,
				      "--package", g_pkg,	  "--manifest", bad,
				      "--listen",  "127.0.0.1:0", NULL};
	assert_false(rt_start(&rt, "usage3", bad_manifest));
	log = rt_log(&rt);
	if (!strstr(log, bad) || !strstr(log, "manifest.format"))
		fail_msg("a bad manifest: %s", log);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zero_trust),
	    cmocka_unit_test(test_provisioning_refusals),
	    cmocka_unit_test(test_package_mismatch),
	    cmocka_unit_test(test_owner_cert),
	    cmocka_unit_test(test_operator_tls),
	    cmocka_unit_test(test_sgx_backend_fake_device),
	    cmocka_unit_test(test_tsm_backend_fake_configfs),
	    cmocka_unit_test(test_fresh_evidence_batches),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
