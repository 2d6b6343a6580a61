/* SPDX-License-Identifier: Apache-2.0 */
/* nodedir.c - the node's data directory; the contract is in include/cloak/nodedir.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cloak/dns.h"
#include "cloak/fileio.h"
#include "cloak/nodedir.h"
#include "cloak/sim.h"
#include "cloak/store.h"
#include "evidence/x509util.h"

#define CK_DOMAIN_SAN_MAX                                                                          \
	(32 + CK_DNS_NAME_MAX) /* "DNS:localhost,IP:127.0.0.1,DNS:" and a domain */

static int join(const char *dir, const char *name, char buf[PATH_MAX], struct ck_err *err)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= PATH_MAX)
		return ck_errf(err, CK_E_USAGE, "'%s/%s' is too long", dir, name);
	return 0;
}

int ck_node_path(const struct ck_node_dir *d, const char *name, char buf[PATH_MAX],
		 struct ck_err *err)
{
	return join(d->path, name, buf, err);
}

/* The API's key and self-signed certificate, as PEM files in `dir`. */
static int api_identity(const char *dir, const char *domain, ck_time_t now, struct ck_err *err)
{
	char kp[PATH_MAX], cp[PATH_MAX], san[CK_DOMAIN_SAN_MAX];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	int ret = -1;
	uint8_t serial[16];
	snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1%s%s", domain ? ",DNS:" : "",
		 domain ? domain : "");
	if (!key || !x || !nm || !kb || !cb || RAND_bytes(serial, sizeof(serial)) != 1) {
		ck_errf(err, CK_E_NOMEM, "out of memory for the API's key");
		goto out;
	}
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
		 X509_set_version(x, 2) == 1 &&
		 X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"cloakd",
					    -1, -1, 0) == 1 &&
		 X509_set_subject_name(x, nm) == 1 && X509_set_issuer_name(x, nm) == 1 &&
		 ASN1_TIME_set(X509_getm_notBefore(x), (time_t)now - 300) &&
		 ASN1_TIME_set(X509_getm_notAfter(x),
			       (time_t)now + (time_t)CK_NODE_API_CERT_DAYS * 86400) &&
		 X509_set_pubkey(x, key) == 1 &&
		 ck_x509_add_conf_ext(x, x, NID_subject_alt_name, san) == 0 &&
		 ck_x509_add_conf_ext(x, x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		 ck_x509_add_conf_ext(x, x, NID_ext_key_usage, "serverAuth") == 0 &&
		 X509_sign(x, key, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		ck_errf(err, CK_E_CERT_FORMAT, "cannot make the API's certificate");
		goto out;
	}
	char *kt, *ct;
	long kl, cl;
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x) || (kl = BIO_get_mem_data(kb, &kt)) <= 0 ||
	    (cl = BIO_get_mem_data(cb, &ct)) <= 0) {
		ck_errf(err, CK_E_NOMEM, "cannot encode the API's key");
		goto out;
	}
	if (join(dir, CK_NODE_API_KEY, kp, err) < 0 || join(dir, CK_NODE_API_CERT, cp, err) < 0 ||
	    ck_write_file(kp, kt, (size_t)kl, 0600, err) < 0 ||
	    ck_write_file(cp, ct, (size_t)cl, 0644, err) < 0)
		goto out;
	ret = 0;
out:
	if (kb) { /* the key's PEM: wiped before it is freed */
		char *kt2;
		long kl2 = BIO_get_mem_data(kb, &kt2);
		if (kl2 > 0)
			OPENSSL_cleanse(kt2, (size_t)kl2);
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_NAME_free(nm);
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}

/* The admin token, in the store and in DIR/admin.token. */
static int admin_token(const char *dir, ck_time_t now, struct ck_err *err)
{
	char db[PATH_MAX], tp[PATH_MAX], tok[CK_TOKEN_STR_LEN + 2];
	struct ck_store *s;
	if (join(dir, CK_NODE_DB, db, err) < 0 || join(dir, CK_NODE_ADMIN_TOKEN, tp, err) < 0 ||
	    ck_store_open(db, &s, err) < 0)
		return -1;
	int r = ck_store_token_create(s, "admin", true, now, tok, err);
	ck_store_close(s);
	if (r < 0)
		return -1;
	tok[CK_TOKEN_STR_LEN] = '\n';
	r = ck_write_file(tp, tok, CK_TOKEN_STR_LEN + 1, 0600, err);
	OPENSSL_cleanse(tok, sizeof(tok));
	return r;
}

int ck_node_dir_init(const char *dir, bool sim, const char *domain, ck_time_t now,
		     struct ck_err *err)
{
	char tmp[PATH_MAX], sub[PATH_MAX];
	if (access(dir, F_OK) == 0)
		return ck_errf(err, CK_E_USAGE, "'%s' already exists", dir);
	if (domain && !ck_dns_name(domain, strlen(domain))) /* nothing else in the SAN list */
		return ck_errf(err, CK_E_USAGE, "--domain: '%s' is not a DNS name", domain);
	int n = snprintf(tmp, sizeof(tmp), "%s.init-XXXXXX", dir);
	if (n < 0 || n >= (int)sizeof(tmp) || !mkdtemp(tmp))
		return ck_errf(err, CK_E_IO, "cannot create a directory beside '%s': %s", dir,
			       strerror(errno));
	int ret = -1;
	if (chmod(tmp, 0700) < 0 || join(tmp, CK_NODE_APPS, sub, err) < 0 || mkdir(sub, 0700) < 0) {
		ck_errf(err, CK_E_IO, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (api_identity(tmp, domain, now, err) < 0 || admin_token(tmp, now, err) < 0)
		goto out;
	if (sim && (join(tmp, CK_NODE_SIM_PKI, sub, err) < 0 || ck_sim_init(sub, now, err) < 0))
		goto out;
	if (rename(tmp, dir) < 0) {
		ck_errf(err, CK_E_IO, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(errno));
		goto out;
	}
	return 0;
out:
	ck_fs_remove_tree(tmp);
	return ret;
}

int ck_node_dir_open(const char *dir, struct ck_node_dir *d, struct ck_err *err)
{
	struct stat st;
	char p[PATH_MAX];
	memset(d, 0, sizeof(*d));
	if (snprintf(d->path, sizeof(d->path), "%s", dir) >= (int)sizeof(d->path))
		return ck_errf(err, CK_E_USAGE, "'%.64s...' is too long", dir);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ck_errf(err, CK_E_IO, "'%s' is not a node's data directory (cloakd init)",
			       dir);
	if ((st.st_mode & 077) || st.st_uid != geteuid())
		return ck_errf(err, CK_E_USAGE,
			       "'%s' must be mode 0700 and ours (it is %03o, uid %u)", dir,
			       st.st_mode & 0777, (unsigned)st.st_uid);
	struct ck_store *s;
	if (ck_node_path(d, CK_NODE_DB, p, err) < 0 || ck_store_open(p, &s, err) < 0)
		return -1;
	ck_store_close(s);
	if (ck_node_path(d, CK_NODE_API_CERT, p, err) < 0)
		return -1;
	FILE *f = fopen(p, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!x)
		return ck_errf(err, CK_E_CERT_FORMAT, "'%s' is not a PEM certificate", p);
	uint8_t *der = NULL;
	int dl = i2d_X509(x, &der);
	if (dl > 0)
		EVP_Digest(der, (size_t)dl, d->api_sha256, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	int ret = ck_node_path(d, CK_NODE_API_KEY, p, err);
	f = ret == 0 ? fopen(p, "r") : NULL;
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (ret == 0 && (!k || X509_check_private_key(x, k) != 1))
		ret = ck_errf(err, CK_E_KEY, "'%s' is not the key of the API's certificate", p);
	if (ret == 0 && (lstat(p, &st) < 0 || (st.st_mode & 077)))
		ret = ck_errf(err, CK_E_KEY, "'%s' is readable by others: chmod 600 it", p);
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	if (ret == 0 && ck_node_path(d, CK_NODE_SIM_PKI, p, err) == 0)
		d->sim = access(p, F_OK) == 0;
	return ret;
}
