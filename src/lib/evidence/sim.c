/* SPDX-License-Identifier: Apache-2.0 */
/* The simulation PKI (see sim.h). Test and development use only: NOT A REAL TEE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cloak/appraise.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/pck.h"
#include "cloak/quote.h"
#include "cloak/sim.h"
#include "cert.h"
#include "evidence/x509util.h"

#define SIM_FILE_MAX (64 * 1024)
#define DAY	     86400

static const uint8_t SIM_FMSPC[6] = {0xc1, 0x0a, 0x4b, 0x00, 0x00, 0x00};
static const uint8_t SIM_QE_ATTRIBUTES[16] = {0x11};
static const uint8_t SIM_QE_ATTR_MASK[16] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#define SIM_QE_PRODID 1

struct ck_sim_pki {
	X509 *root, *pck_ca, *tcb;
	EVP_PKEY *root_key, *pck_ca_key, *tcb_key, *pck_key, *ak;
	uint8_t fmspc[6];
};

/* One TCB level of the sim ladder. */
struct sim_level {
	uint8_t svn;
	enum ck_tcb_status status;
	const char *adv[2];
};
static const struct sim_level LADDER[] = {
    {8, CK_TCB_UP_TO_DATE, {NULL}},
    {7, CK_TCB_SW_HARDENING_NEEDED, {"CLOAK-SIM-0001"}},
    {6, CK_TCB_CONFIGURATION_NEEDED, {"CLOAK-SIM-0002"}},
    {5, CK_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED, {"CLOAK-SIM-0001", "CLOAK-SIM-0002"}},
    {4, CK_TCB_OUT_OF_DATE, {"CLOAK-SIM-0003"}},
    {3, CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED, {"CLOAK-SIM-0002", "CLOAK-SIM-0003"}},
    {2, CK_TCB_REVOKED, {"CLOAK-SIM-0004"}},
};
#define N_LADDER (sizeof(LADDER) / sizeof(LADDER[0]))

static const struct {
	uint16_t isvsvn;
	enum ck_tcb_status status;
} QE_LADDER[] = {{8, CK_TCB_UP_TO_DATE}, {6, CK_TCB_OUT_OF_DATE}, {4, CK_TCB_REVOKED}};

int ck_sim_svn_for_status(enum ck_tcb_status status)
{
	for (size_t i = 0; i < N_LADDER; i++)
		if (LADDER[i].status == status)
			return LADDER[i].svn;
	return 1;
}

void ck_sim_free(struct ck_sim_pki *p)
{
	if (!p)
		return;
	X509_free(p->root);
	X509_free(p->pck_ca);
	X509_free(p->tcb);
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->pck_ca_key);
	EVP_PKEY_free(p->tcb_key);
	EVP_PKEY_free(p->pck_key);
	EVP_PKEY_free(p->ak);
	free(p);
}

static void sim_qe_mrsigner(uint8_t out[32])
{
	static const char label[] = "cloak simulated quoting enclave (NOT A REAL TEE)";
	EVP_Digest(label, sizeof(label) - 1, out, NULL, EVP_sha256(), NULL);
}

/* ---- certificates ------------------------------------------------------------------------ */

static X509_NAME *sim_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();
	if (n &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
				       0) &&
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)CK_SIM_MARKER,
				       -1, -1, 0))
		return n;
	X509_NAME_free(n);
	return NULL;
}

static int random_serial(X509 *x)
{
	uint8_t b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] &= 0x7f;
	b[0] |= 0x01;
	BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

enum role { ROLE_ROOT, ROLE_CA, ROLE_TCB, ROLE_LEAF };

/* Issues a certificate for `key` named `cn`, signed by issuer/issuer_key (self when NULL). */
static X509 *issue_cert(enum role role, const char *cn, EVP_PKEY *key, X509 *issuer,
			EVP_PKEY *issuer_key, ck_time_t not_before, ck_time_t not_after,
			const struct ck_pck_ext *pck)
{
	X509 *x = X509_new();
	X509_NAME *name = sim_name(cn);
	int ok = x && name && X509_set_version(x, 2) && random_serial(x) == 0 &&
		 X509_set_subject_name(x, name) &&
		 X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
		 ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
		 ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) && X509_set_pubkey(x, key);
	X509 *iss = issuer ? issuer : x;
	if (ok) {
		switch (role) {
		case ROLE_ROOT:
			ok = !ck_x509_add_conf_ext(x, iss, NID_basic_constraints,
						   "critical,CA:TRUE,pathlen:1") &&
			     !ck_x509_add_conf_ext(x, iss, NID_key_usage,
						   "critical,keyCertSign,cRLSign");
			break;
		case ROLE_CA:
			ok = !ck_x509_add_conf_ext(x, iss, NID_basic_constraints,
						   "critical,CA:TRUE,pathlen:0") &&
			     !ck_x509_add_conf_ext(x, iss, NID_key_usage,
						   "critical,keyCertSign,cRLSign");
			break;
		case ROLE_TCB:
		case ROLE_LEAF:
			ok = !ck_x509_add_conf_ext(x, iss, NID_basic_constraints,
						   "critical,CA:FALSE") &&
			     !ck_x509_add_conf_ext(x, iss, NID_key_usage,
						   "critical,digitalSignature,nonRepudiation");
			break;
		}
	}
	if (ok && pck) {
		uint8_t *der = NULL;
		size_t dlen;
		ok = ck_pck_ext_encode(pck, &der, &dlen, NULL) == 0 &&
		     ck_x509_add_raw_ext(x, CK_PCK_EXT_OID, der, dlen) == 0;
		free(der);
	}
	if (ok)
		ok = X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static EVP_PKEY *p256_keygen(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* ---- files ------------------------------------------------------------------------------- */

#define SIM_PATH_MAX 4352 /* directory names are limited to 4000 bytes in ck_sim_init */

/* dir + "/" + name into out; names that do not fit are cut (and then fail to open). */
static void join(char out[SIM_PATH_MAX], const char *dir, const char *name)
{
	size_t dl = strnlen(dir, 4000), nl = strnlen(name, 256);
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, nl);
	out[dl + 1 + nl] = 0;
}

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
		     struct ck_err *err)
{
	char path[4096];
	BIO *b = BIO_new(BIO_s_mem());
	int ok = b && (cert ? PEM_write_bio_X509(b, cert)
			    : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
	char *data;
	long n = ok ? BIO_get_mem_data(b, &data) : 0;
	if (!ok || n <= 0) {
		BIO_free(b);
		return ck_errf(err, CK_E_NOMEM, "cannot encode %s", name);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = ck_write_file(path, data, (size_t)n, cert ? 0644 : 0600, err);
	BIO_free(b); /* the private key's PEM is in the BIO's buffer: BIO_free clears nothing, */
	return r;    /* but the memory is freed at once and never written elsewhere */
}

static int read_bio(const char *dir, const char *name, BIO **out, struct ck_err *err)
{
	char path[4096];
	uint8_t *buf;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (ck_read_file(path, SIM_FILE_MAX, &buf, &len, err) < 0)
		return -1;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || BIO_write(b, buf, (int)len) != (int)len) {
		BIO_free(b);
		OPENSSL_cleanse(buf, len);
		free(buf);
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	*out = b;
	return 0;
}

static X509 *load_cert(const char *dir, const char *name, struct ck_err *err)
{
	BIO *b;
	if (read_bio(dir, name, &b, err) < 0)
		return NULL;
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!x)
		ck_errf(err, CK_E_CERT_FORMAT, "%s/%s is not a PEM certificate", dir, name);
	return x;
}

static EVP_PKEY *load_key(const char *dir, const char *name, struct ck_err *err)
{
	BIO *b;
	if (read_bio(dir, name, &b, err) < 0)
		return NULL;
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!k)
		ck_errf(err, CK_E_ENCODING, "%s/%s is not a PEM private key", dir, name);
	return k;
}

static void rm_tree_files(const char *dir)
{
	static const char *const names[] = {"root.pem",	  "root.key",	     "pck-ca.pem",
					    "pck-ca.key", "tcb-signing.pem", "tcb-signing.key",
					    "pck.key",	  "ak.key",	     "pki.json"};
	char path[SIM_PATH_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		join(path, dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int ck_sim_init(const char *dir, ck_time_t now, struct ck_err *err)
{
	char tmp[4096 + 32];
	struct ck_sim_pki p = {0};
	int ret = -1;
	if (strlen(dir) > 4000)
		return ck_errf(err, CK_E_USAGE, "directory name too long");
	if (access(dir, F_OK) == 0)
		return ck_errf(err, CK_E_USAGE,
			       "'%s' already exists: a sim PKI is never overwritten", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dir, (long)getpid());
	if (mkdir(tmp, 0700) < 0)
		return ck_errf(err, CK_E_IO, "cannot create '%s': %s", tmp, strerror(errno));

	ck_time_t nb = now - DAY, na = now + 20 * 365 * (ck_time_t)DAY;
	memcpy(p.fmspc, SIM_FMSPC, 6);
	if (!(p.root_key = p256_keygen()) || !(p.pck_ca_key = p256_keygen()) ||
	    !(p.tcb_key = p256_keygen()) || !(p.pck_key = p256_keygen()) ||
	    !(p.ak = p256_keygen())) {
		ck_errf(err, CK_E_NOMEM, "key generation failed");
		goto out;
	}
	p.root =
	    issue_cert(ROLE_ROOT, "Cloak Sim SGX Root CA", p.root_key, NULL, NULL, nb, na, NULL);
	p.pck_ca = p.root ? issue_cert(ROLE_CA, "Cloak Sim SGX PCK Platform CA", p.pck_ca_key,
				       p.root, p.root_key, nb, na, NULL)
			  : NULL;
	p.tcb = p.root ? issue_cert(ROLE_TCB, "Cloak Sim SGX TCB Signing", p.tcb_key, p.root,
				    p.root_key, nb, na, NULL)
		       : NULL;
	if (!p.pck_ca || !p.tcb) {
		ck_errf(err, CK_E_NOMEM, "certificate issuance failed");
		goto out;
	}
	char fm[13], meta[256];
	ck_hex_encode(p.fmspc, 6, fm);
	int n = snprintf(meta, sizeof(meta),
			 "{\"cloak_sim_pki\": 1, \"fmspc\": \"%s\", \"pceid\": \"0000\", "
			 "\"warning\": \"" CK_SIM_MARKER "\"}\n",
			 fm);
	char path[SIM_PATH_MAX];
	join(path, tmp, "pki.json");
	if (write_pem(tmp, "root.pem", p.root, NULL, err) < 0 ||
	    write_pem(tmp, "root.key", NULL, p.root_key, err) < 0 ||
	    write_pem(tmp, "pck-ca.pem", p.pck_ca, NULL, err) < 0 ||
	    write_pem(tmp, "pck-ca.key", NULL, p.pck_ca_key, err) < 0 ||
	    write_pem(tmp, "tcb-signing.pem", p.tcb, NULL, err) < 0 ||
	    write_pem(tmp, "tcb-signing.key", NULL, p.tcb_key, err) < 0 ||
	    write_pem(tmp, "pck.key", NULL, p.pck_key, err) < 0 ||
	    write_pem(tmp, "ak.key", NULL, p.ak, err) < 0 ||
	    ck_write_file(path, meta, (size_t)n, 0644, err) < 0)
		goto out;
	if (rename(tmp, dir) < 0) {
		ck_errf(err, CK_E_IO, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		rm_tree_files(tmp);
	X509_free(p.root);
	X509_free(p.pck_ca);
	X509_free(p.tcb);
	EVP_PKEY_free(p.root_key);
	EVP_PKEY_free(p.pck_ca_key);
	EVP_PKEY_free(p.tcb_key);
	EVP_PKEY_free(p.pck_key);
	EVP_PKEY_free(p.ak);
	return ret;
}

int ck_sim_load(const char *dir, struct ck_sim_pki **out, struct ck_err *err)
{
	struct ck_sim_pki *p = calloc(1, sizeof(*p));
	*out = NULL;
	if (!p)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	memcpy(p->fmspc, SIM_FMSPC, 6);
	if (!(p->root = load_cert(dir, "root.pem", err)) ||
	    !(p->pck_ca = load_cert(dir, "pck-ca.pem", err)) ||
	    !(p->tcb = load_cert(dir, "tcb-signing.pem", err)) ||
	    !(p->root_key = load_key(dir, "root.key", err)) ||
	    !(p->pck_ca_key = load_key(dir, "pck-ca.key", err)) ||
	    !(p->tcb_key = load_key(dir, "tcb-signing.key", err)) ||
	    !(p->pck_key = load_key(dir, "pck.key", err)) ||
	    !(p->ak = load_key(dir, "ak.key", err))) {
		ck_sim_free(p);
		return ck_err_wrap(err, "sim PKI '%s'", dir);
	}
	if (!ck_x509_name_contains(X509_get_subject_name(p->root), CK_SIM_MARKER)) {
		ck_sim_free(p);
		return ck_errf(err, CK_E_ROOT_UNTRUSTED, "'%s' is not a sim PKI (root lacks '%s')",
			       dir, CK_SIM_MARKER);
	}
	*out = p;
	return 0;
}

/* ---- quotes ------------------------------------------------------------------------------ */

void ck_sim_quote_opts_default(struct ck_sim_quote_opts *o, ck_time_t now)
{
	memset(o, 0, sizeof(*o));
	o->pck_svn = (uint8_t)ck_sim_svn_for_status(CK_TCB_UP_TO_DATE);
	o->qe_svn = CK_SIM_QE_SVN_DEFAULT;
	o->version = 3;
	o->now = now;
}

static void put_report(uint8_t *b, const uint8_t cpusvn[16], uint32_t misc, const uint8_t attr[16],
		       const uint8_t mrenclave[32], const uint8_t mrsigner[32], uint16_t prodid,
		       uint16_t svn, const uint8_t rd[64])
{
	memset(b, 0, CK_SGX_REPORT_LEN);
	memcpy(b, cpusvn, 16);
	ck_put_le32(b + 16, misc);
	memcpy(b + 48, attr, 16);
	memcpy(b + 64, mrenclave, 32);
	memcpy(b + 128, mrsigner, 32);
	ck_put_le16(b + 256, prodid);
	ck_put_le16(b + 258, svn);
	memcpy(b + 320, rd, 64);
}

static int pem_append(BIO *b, X509 *x)
{
	return PEM_write_bio_X509(b, x) == 1 ? 0 : -1;
}

int ck_sim_quote(struct ck_sim_pki *p, const struct ck_sim_quote_opts *o, uint8_t **out,
		 size_t *outlen, struct ck_err *err)
{
	struct ck_pck_ext ext = {0};
	uint8_t cpusvn[16] = {0}, qe_mrsigner[32], ak_point[CK_P256_POINT_LEN], rd[64] = {0};
	uint8_t *q = NULL;
	X509 *leaf = NULL;
	BIO *chain = NULL;
	int ret = -1;

	*out = NULL;
	*outlen = 0;
	/* The platform: the PCK leaf carries the TCB level chosen by the caller. */
	ext.comp_svn[0] = o->pck_svn;
	ext.pcesvn = CK_SIM_PCESVN;
	memcpy(ext.fmspc, p->fmspc, 6);
	ext.sgx_type = CK_SGX_STANDARD;
	cpusvn[0] = o->pck_svn;
	memcpy(ext.cpusvn, cpusvn, 16);
	if (RAND_bytes(ext.ppid, 16) != 1)
		goto crypto;
	leaf = issue_cert(ROLE_LEAF, "Cloak Sim SGX PCK Certificate", p->pck_key, p->pck_ca,
			  p->pck_ca_key, o->now - DAY, o->now + 7 * 365 * (ck_time_t)DAY, &ext);
	chain = BIO_new(BIO_s_mem());
	if (!leaf || !chain || pem_append(chain, leaf) || pem_append(chain, p->pck_ca) ||
	    pem_append(chain, p->root) || BIO_write(chain, "", 1) != 1)
		goto crypto;
	char *pem;
	long pem_len = BIO_get_mem_data(chain, &pem);
	if (ck_p256_point(p->ak, ak_point) < 0)
		goto crypto;

	const size_t auth_len = 32;
	bool v4 = o->version == 4;
	/* v4 wraps the QE section in certification data of type 6 */
	size_t qe_sec = CK_SGX_REPORT_LEN + 64 + 2 + auth_len + 6 + (size_t)pem_len;
	size_t len = CK_SGX_SIGNED_LEN + 4 + 64 + 64 + (v4 ? 6 : 0) + qe_sec;
	if (!(q = calloc(1, len))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	/* Header. */
	ck_put_le16(q, v4 ? 4 : 3);
	ck_put_le16(q + 2, 2);
	if (!v4) { /* QE and PCE SVNs: v3 only; reserved in v4 */
		ck_put_le16(q + 8, o->qe_svn);
		ck_put_le16(q + 10, CK_SIM_PCESVN);
	}
	memcpy(q + 12, CK_INTEL_QE_VENDOR_ID, 16);
	/* ISV enclave report. */
	uint8_t attr[16] = {0x05 | (o->debug ? CK_SGX_FLAGS_DEBUG : 0), 0, 0, 0, 0, 0, 0, 0, 0xe7};
	put_report(q + 48, cpusvn, 0, attr, o->mrenclave, o->mrsigner, o->isv_prod_id, o->isv_svn,
		   o->report_data);
	size_t off = CK_SGX_SIGNED_LEN;
	ck_put_le32(q + off, (uint32_t)(len - off - 4));
	off += 4;
	uint8_t *isv_sig = q + off, *akp = q + off + 64, *qer = q + off + 128;
	memcpy(akp, ak_point + 1, 64);
	if (v4) {
		ck_put_le16(qer, CK_CERT_QE_REPORT);
		ck_put_le32(qer + 2, (uint32_t)qe_sec);
		qer += 6;
	}
	/* QE report: binds the attestation key and auth data. */
	uint8_t *auth = qer + CK_SGX_REPORT_LEN + 64 + 2;
	for (size_t i = 0; i < auth_len; i++)
		auth[i] = (uint8_t)i;
	if (ck_sha256_2(akp, 64, auth, auth_len, rd) < 0)
		goto crypto;
	sim_qe_mrsigner(qe_mrsigner);
	uint8_t zero32[32] = {0};
	put_report(qer, cpusvn, 0, SIM_QE_ATTRIBUTES, zero32, qe_mrsigner, SIM_QE_PRODID, o->qe_svn,
		   rd);
	if (ck_ecdsa_sign_raw(p->pck_key, qer, CK_SGX_REPORT_LEN, qer + CK_SGX_REPORT_LEN) < 0)
		goto crypto;
	ck_put_le16(qer + CK_SGX_REPORT_LEN + 64, (uint16_t)auth_len);
	uint8_t *cd = auth + auth_len;
	ck_put_le16(cd, CK_CERT_PCK_CHAIN);
	ck_put_le32(cd + 2, (uint32_t)pem_len);
	memcpy(cd + 6, pem, (size_t)pem_len);
	/* The quote signature by the attestation key over header + report. */
	if (ck_ecdsa_sign_raw(p->ak, q, CK_SGX_SIGNED_LEN, isv_sig) < 0)
		goto crypto;
	*out = q;
	*outlen = len;
	q = NULL;
	ret = 0;
	goto out;
crypto:
	ck_errf(err, CK_E_NOMEM, "sim quote: a cryptographic operation failed");
out:
	free(q);
	X509_free(leaf);
	BIO_free(chain);
	return ret;
}

int ck_sim_quote_pck_serial(const uint8_t *quote, size_t len, uint8_t *serial, size_t cap,
			    size_t *serial_len, struct ck_err *err)
{
	struct ck_quote q;
	X509 *c[CK_CHAIN_MAX_CERTS];
	size_t n;
	if (ck_quote_parse(quote, len, &q, err) < 0 ||
	    ck_pem_chain_parse((const char *)q.cert_data, q.cert_data_len, c, 1, CK_CHAIN_MAX_CERTS,
			       &n, "quote PCK chain", CK_E_QUOTE_CERTS, err) < 0)
		return -1;
	const ASN1_INTEGER *sn = X509_get0_serialNumber(c[0]);
	int ok = sn->length > 0 && (size_t)sn->length <= cap;
	if (ok) {
		memcpy(serial, sn->data, (size_t)sn->length);
		*serial_len = (size_t)sn->length;
	}
	ck_certs_free(c, n);
	return ok ? 0 : ck_errf(err, CK_E_CERT_FORMAT, "PCK serial number too long");
}

/* ---- collateral -------------------------------------------------------------------------- */

void ck_sim_collateral_opts_default(struct ck_sim_collateral_opts *o, ck_time_t now)
{
	memset(o, 0, sizeof(*o));
	o->issued = now - 3600;
	o->next_update = o->issued + CK_SIM_VALIDITY_DAYS * (ck_time_t)DAY;
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key, ck_time_t t0, ck_time_t t1,
			  const uint8_t *serial, size_t serial_len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)t0), *b = ASN1_TIME_set(NULL, (time_t)t1);
	int ok = crl && a && b && X509_CRL_set_version(crl, 1) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
		 X509_CRL_set1_lastUpdate(crl, a) && X509_CRL_set1_nextUpdate(crl, b);
	if (ok && serial) {
		X509_REVOKED *r = X509_REVOKED_new();
		BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
		ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
		ok = r && sn && X509_REVOKED_set_serialNumber(r, sn) &&
		     X509_REVOKED_set_revocationDate(r, a) && X509_CRL_add0_revoked(crl, r);
		if (!ok)
			X509_REVOKED_free(r);
		ASN1_INTEGER_free(sn);
		BN_free(bn);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, EVP_sha256()) > 0;
	ASN1_TIME_free(a);
	ASN1_TIME_free(b);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

static int crl_der(X509_CRL *crl, uint8_t **out, size_t *len)
{
	unsigned char *d = NULL;
	int n = crl ? i2d_X509_CRL(crl, &d) : -1; /* before d is read */
	return ck_from_openssl(d, n, out, len);
}

static char *chain_pem(X509 *a, X509 *b)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	if (bio && !pem_append(bio, a) && !pem_append(bio, b)) {
		long n = BIO_get_mem_data(bio, &data);
		if ((out = malloc((size_t)n + 1))) {
			memcpy(out, data, (size_t)n);
			out[n] = 0;
		}
	}
	BIO_free(bio);
	return out;
}

static char *signed_text(json_t *doc, EVP_PKEY *key, uint8_t sig[64], size_t *len)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!s)
		return NULL;
	*len = strlen(s);
	if (ck_ecdsa_sign_raw(key, (const uint8_t *)s, *len, sig) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static json_t *tcb_info_json(const uint8_t fmspc[6], ck_time_t issued, ck_time_t next)
{
	char fm[13], t0[CK_TIME_STR_MAX], t1[CK_TIME_STR_MAX];
	ck_hex_encode(fmspc, 6, fm);
	for (char *c = fm; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	json_t *levels = json_array();
	for (size_t i = 0; i < N_LADDER; i++) {
		json_t *comps = json_array(), *adv = json_array();
		for (int k = 0; k < CK_TCB_COMPONENTS; k++)
			json_array_append_new(
			    comps, json_pack("{s:i}", "svn", k == 0 ? LADDER[i].svn : 0));
		for (int k = 0; k < 2 && LADDER[i].adv[k]; k++)
			json_array_append_new(adv, json_string(LADDER[i].adv[k]));
		json_t *l = json_pack("{s:{s:o, s:i}, s:s, s:s}", "tcb", "sgxtcbcomponents", comps,
				      "pcesvn", CK_SIM_PCESVN, "tcbDate",
				      ck_time_format(issued - 30 * DAY, t0), "tcbStatus",
				      ck_tcb_status_name(LADDER[i].status));
		if (json_array_size(adv))
			json_object_set_new(l, "advisoryIDs", adv);
		else
			json_decref(adv);
		json_array_append_new(levels, l);
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "id", "SGX", "version", 3,
			 "issueDate", ck_time_format(issued, t0), "nextUpdate",
			 ck_time_format(next, t1), "fmspc", fm, "pceId", "0000", "tcbType", 0,
			 "tcbEvaluationDataNumber", 1, "tcbLevels", levels);
}

static json_t *qe_identity_json(ck_time_t issued, ck_time_t next)
{
	char t0[CK_TIME_STR_MAX], t1[CK_TIME_STR_MAX], mr[65], at[33], am[33];
	uint8_t mrs[32];
	sim_qe_mrsigner(mrs);
	ck_hex_encode(mrs, 32, mr);
	ck_hex_encode(SIM_QE_ATTRIBUTES, 16, at);
	ck_hex_encode(SIM_QE_ATTR_MASK, 16, am);
	json_t *levels = json_array();
	for (size_t i = 0; i < sizeof(QE_LADDER) / sizeof(QE_LADDER[0]); i++)
		json_array_append_new(
		    levels, json_pack("{s:{s:i}, s:s, s:s}", "tcb", "isvsvn", QE_LADDER[i].isvsvn,
				      "tcbDate", ck_time_format(issued - 30 * DAY, t0), "tcbStatus",
				      ck_tcb_status_name(QE_LADDER[i].status)));
	return json_pack("{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "id", "QE",
			 "version", 2, "issueDate", ck_time_format(issued, t0), "nextUpdate",
			 ck_time_format(next, t1), "tcbEvaluationDataNumber", 1, "miscselect",
			 "00000000", "miscselectMask", "FFFFFFFF", "attributes", at,
			 "attributesMask", am, "mrsigner", mr, "isvprodid", SIM_QE_PRODID,
			 "tcbLevels", levels);
}

int ck_sim_collateral(struct ck_sim_pki *p, const struct ck_sim_collateral_opts *o,
		      struct ck_collateral *c, struct ck_err *err)
{
	memset(c, 0, sizeof(*c));
	X509_CRL *root_crl = NULL, *pck_crl = NULL;
	uint8_t ca_serial[32];
	size_t ca_serial_len = 0;
	if (o->revoke_pck_ca) {
		const ASN1_INTEGER *sn = X509_get0_serialNumber(p->pck_ca);
		ca_serial_len = (size_t)sn->length <= sizeof(ca_serial) ? (size_t)sn->length : 0;
		memcpy(ca_serial, sn->data, ca_serial_len);
	}
	root_crl = make_crl(p->root, p->root_key, o->issued, o->next_update,
			    o->revoke_pck_ca ? ca_serial : NULL, ca_serial_len);
	pck_crl = make_crl(p->pck_ca, p->pck_ca_key, o->issued, o->next_update, o->revoke_serial,
			   o->revoke_serial_len);
	int ok =
	    root_crl && pck_crl && !crl_der(root_crl, &c->root_ca_crl, &c->root_ca_crl_len) &&
	    !crl_der(pck_crl, &c->pck_crl, &c->pck_crl_len) &&
	    (c->pck_crl_issuer_chain = chain_pem(p->pck_ca, p->root)) &&
	    (c->tcb_info_issuer_chain = chain_pem(p->tcb, p->root)) &&
	    (c->qe_identity_issuer_chain = chain_pem(p->tcb, p->root)) &&
	    (c->tcb_info = signed_text(
		 tcb_info_json(o->has_fmspc ? o->fmspc : p->fmspc, o->issued, o->next_update),
		 p->tcb_key, c->tcb_info_sig, &c->tcb_info_len)) &&
	    (c->qe_identity = signed_text(qe_identity_json(o->issued, o->next_update), p->tcb_key,
					  c->qe_identity_sig, &c->qe_identity_len));
	X509_CRL_free(root_crl);
	X509_CRL_free(pck_crl);
	if (!ok) {
		ck_collateral_free(c);
		return ck_errf(err, CK_E_NOMEM, "sim collateral: generation failed");
	}
	return 0;
}
