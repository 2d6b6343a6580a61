/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodeapi.c - the owner's side of a node's API (docs/node.md), for cloak's node commands: the
 * node named by --node, else $CLOAK_NODE; its API certificate pinned by SHA-256 (given with
 * --node-fingerprint, else remembered on first use in the owner's directory,
 * nodes/HOST_PORT.sha256, and a changed one refused loudly); the token from $CLOAK_TOKEN, else
 * --token-file (mode 0600). The certificate is checked before the token is sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/dns.h"
#include "cloak/fileio.h"
#include "cloak/owner.h"

#define NODE_ANSWER_MAX (4u << 20)
#define NODE_TOKEN_MAX	80

/* The pin file for a node: nodes/HOST_PORT.sha256 in the owner's directory. */
static int pin_path(const struct ck_target *t, char out[PATH_MAX], struct ck_err *e)
{
	char name[CK_TARGET_HOST_MAX + 32];
	snprintf(name, sizeof(name), "nodes/%s_%u.sha256", t->host, t->port);
	for (char *c = name + 6; *c; c++)
		if (*c == ':' || *c == '/')
			*c = '_';
	return ck_owner_path(name, out, PATH_MAX, e);
}

/* The peer's certificate against the pin: given, remembered, or (first use) remembered now. */
static int check_pin(const struct node_conn *nc, const struct ck_target *t, struct ck_err *e)
{
	X509 *x = ck_client_peer(&nc->c);
	unsigned char *der = NULL;
	uint8_t h[32], want[32];
	char hex[65], path[PATH_MAX];
	int n = x ? i2d_X509(x, &der) : -1;
	if (n <= 0)
		return ck_errf(e, CK_E_TLS, "the node showed no certificate");
	EVP_Digest(der, (size_t)n, h, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	ck_hex_encode(h, 32, hex);
	if (nc->fingerprint) {
		if (ck_hex_decode_exact(nc->fingerprint, strlen(nc->fingerprint), want, 32,
					"--node-fingerprint", e) < 0)
			return -1;
		return CRYPTO_memcmp(h, want, 32) ? ck_errf(e, CK_E_TLS,
							    "the node's API certificate is %s, "
							    "not the --node-fingerprint given",
							    hex)
						  : 0;
	}
	uint8_t *b;
	size_t bl;
	struct ck_err re;
	if (pin_path(t, path, e) < 0)
		return -1;
	if (ck_read_file(path, 128, &b, &bl, &re) == 0) {
		int same = bl >= 64 && !memcmp(b, hex, 64);
		free(b);
		return same ? 0
			    : ck_errf(e, CK_E_TLS,
				      "THE NODE'S API CERTIFICATE CHANGED: it is %s, not the one "
				      "pinned in %s. Someone may be in between; if the operator "
				      "really replaced it, check the new fingerprint with them "
				      "and remove that file",
				      hex, path);
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	*slash = 0;
	char *up = strrchr(dir, '/');
	if (up) { /* the owner's directory, then nodes/ */
		*up = 0;
		mkdir(dir, 0700);
		*up = '/';
	}
	mkdir(dir, 0700);
	hex[64] = '\n';
	if (ck_write_file(path, hex, 65, 0600, e) < 0)
		return -1;
	fprintf(stderr, "cloak: pinned the node's API certificate (sha256 %.64s) in %s\n", hex,
		path);
	return 0;
}

static int token(const struct node_conn *nc, char out[NODE_TOKEN_MAX + 1], struct ck_err *e)
{
	const char *env = getenv("CLOAK_TOKEN");
	if (env && *env) {
		if (strlen(env) > NODE_TOKEN_MAX)
			return ck_errf(e, CK_E_AUTH, "$CLOAK_TOKEN is not a token");
		strcpy(out, env);
		return 0;
	}
	if (!nc->token_file)
		return ck_errf(e, CK_E_USAGE,
			       "no token: set $CLOAK_TOKEN or give --token-file FILE");
	struct stat st;
	uint8_t *b;
	size_t n;
	if (stat(nc->token_file, &st) == 0 && (st.st_mode & 077))
		return ck_errf(e, CK_E_KEY,
			       "--token-file: '%s' is readable by others: chmod 600 it",
			       nc->token_file);
	if (ck_read_file(nc->token_file, 256, &b, &n, e) < 0)
		return ck_err_wrap(e, "--token-file");
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	int r = n && n <= NODE_TOKEN_MAX && !memchr(b, '\n', n)
		    ? 0
		    : ck_errf(e, CK_E_AUTH, "--token-file: '%s' holds no token", nc->token_file);
	if (r == 0) {
		memcpy(out, b, n);
		out[n] = 0;
	}
	OPENSSL_cleanse(b, n);
	free(b);
	return r;
}

int node_call(struct node_conn *nc, const char *method, const char *path, json_t **answer,
	      struct ck_err *e)
{
	char *text;
	size_t len;
	*answer = NULL;
	if (node_call_text(nc, method, path, &text, &len, e) < 0)
		return -1;
	*answer = json_loadb(text, len, 0, NULL);
	free(text);
	if (!*answer)
		return ck_errf(e, CK_E_HTTP, "the node's answer to %s %s is not JSON", method,
			       path);
	return 0;
}

int node_call_text(struct node_conn *nc, const char *method, const char *path, char **text,
		   size_t *len, struct ck_err *e)
{
	struct ck_target t;
	const char *url = nc->url ? nc->url : getenv("CLOAK_NODE");
	char tok[NODE_TOKEN_MAX + 1], auth[NODE_TOKEN_MAX + 32];
	*text = NULL;
	*len = 0;
	if (!url || !*url)
		return ck_errf(e, CK_E_USAGE, "no node: give --node URL or set $CLOAK_NODE");
	if (ck_target_parse(url, &t, e) < 0 || !t.tls)
		return ck_errf(e, CK_E_USAGE, "--node: '%s' is not an https:// URL", url);
	if (token(nc, tok, e) < 0)
		return -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method()); /* the pin decides, below */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	struct ck_client_resp r = {0};
	int ret = -1;
	snprintf(auth, sizeof(auth), "Bearer %s", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	if (ck_client_open(&nc->c, &t, ctx, 0, e) < 0 || check_pin(nc, &t, e) < 0)
		goto out;
	nc->c.auth = auth; /* only now that the certificate is the pinned one */
	if (ck_client_request(&nc->c, method, path, NULL, NULL, 0, NODE_ANSWER_MAX, &r, e) < 0)
		goto out;
	if (r.status >= 400) {
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		const char *code = json_string_value(json_object_get(j, "error")),
			   *msg = json_string_value(json_object_get(j, "message"));
		ck_errf(e, code && !strcmp(code, "auth") ? CK_E_AUTH : CK_E_HTTP,
			"the node refused %s %s (%d %s): %s", method, path, r.status,
			code ? code : "?", msg ? msg : "(no message)");
		json_decref(j);
		goto out;
	}
	*text = r.body;
	*len = r.len;
	r.body = NULL;
	ret = 0;
out:
	OPENSSL_cleanse(auth, sizeof(auth));
	ck_client_resp_free(&r);
	ck_client_close(&nc->c);
	SSL_CTX_free(ctx);
	return ret;
}

bool cli_app_name(const char *name)
{
	if (ck_dns_label(name, strlen(name)))
		return true;
	cli_errx("'%s' is not an app name (1-63 of a-z, 0-9, '-')", name);
	return false;
}

int cli_node_exit(const struct ck_err *e)
{
	return ck_err_is(e, CK_E_USAGE) || ck_err_is(e, CK_E_KEY) ? EXIT_USAGE : EXIT_REJECTED;
}

#define NO struct node_cmd_opts
const struct ck_opt node_cmd_opts[] = {NODE_CONN_OPTS(NO), CK_OPT_JSON(NO, json), CK_OPT_END};
#undef NO

int node_app_call(struct node_conn *nc, const char *method, const char *name, const char *suffix,
		  json_t **answer)
{
	char path[128];
	struct ck_err e;
	*answer = NULL;
	if (!cli_app_name(name))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/apps/%s%s", name, suffix);
	if (node_call(nc, method, path, answer, &e) < 0) {
		cli_err(&e);
		return cli_node_exit(&e);
	}
	return EXIT_OK;
}
