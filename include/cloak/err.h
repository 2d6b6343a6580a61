/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.h - errors as values.
 *
 * Every fallible libcloak function takes a `struct ck_err *` (which MAY be NULL) and returns 0 on
 * success or -1 on failure, after filling the error with a stable machine-readable code (one of
 * the CK_E_* strings below; scripts match on them) and a one-line human message that quotes the
 * offending value. libcloak never prints: only the CLI and the daemon log turn errors into text.
 */
#ifndef CLOAK_ERR_H
#define CLOAK_ERR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define CK_ERR_MSG_MAX 320

struct ck_err {
	const char *code;	  /* static string, CK_E_*; NULL when no error */
	char msg[CK_ERR_MSG_MAX]; /* NUL-terminated, never contains secrets */
};

/* Fills `e` (if not NULL) and returns -1, so callers can write `return ck_errf(...)`. */
int ck_errf(struct ck_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* true when `e` holds an error with this code. */
static inline bool ck_err_is(const struct ck_err *e, const char *code)
{
	return e && e->code && strcmp(e->code, code) == 0;
}

/* Prefixes the message of an already-filled error with "ctx: ". Returns -1. */
int ck_err_wrap(struct ck_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- input and format errors ------------------------------------------------------------- */
#define CK_E_IO		   "io"		 /* a file could not be read or written */
#define CK_E_INTERRUPTED   "interrupted" /* stopped by a signal; nothing was left behind */
#define CK_E_USAGE	   "usage"	 /* bad argument to a library call or CLI */
#define CK_E_NOMEM	   "nomem"
#define CK_E_TOO_LARGE	   "input.too_large" /* an input exceeds a named limit */
#define CK_E_ENCODING	   "input.encoding"  /* bad hex/base64/PEM/DER/time text */
#define CK_E_JSON	   "input.json"	     /* not JSON, or not the expected JSON shape */
#define CK_E_POLICY_FORMAT "policy.format"   /* the policy file itself is malformed */

/* --- quote structure (attestation-formats.md §A) ------------------------------------------- */
#define CK_E_QUOTE_TRUNCATED "quote.truncated"
#define CK_E_QUOTE_VERSION   "quote.version"
#define CK_E_QUOTE_KEY_TYPE  "quote.key_type"
#define CK_E_QUOTE_TEE_TYPE  "quote.tee_type"
#define CK_E_QUOTE_VENDOR    "quote.vendor_id"
#define CK_E_QUOTE_FORMAT    "quote.format"	 /* inconsistent sizes, bad body/cert type */
#define CK_E_QUOTE_CERTS     "quote.cert_chain"	 /* certification data is not a PCK chain */
#define CK_E_UNSUPPORTED     "quote.unsupported" /* parsed, but not appraised by this version */

/* --- certificates, CRLs, trust anchor ------------------------------------------------------ */
#define CK_E_ROOT_UNTRUSTED  "root.untrusted"  /* chain ends in a root that is not pinned */
#define CK_E_SIM_NOT_ALLOWED "root.simulation" /* sim root, and simulation not allowed */
#define CK_E_CERT_FORMAT     "cert.format"     /* unparsable or wrong role (CN, CA flag) */
#define CK_E_CERT_SIGNATURE  "cert.signature"  /* a certificate's signature is invalid */
#define CK_E_CRL_FORMAT	     "crl.format"
#define CK_E_CRL_SIGNATURE   "crl.signature"
#define CK_E_CRL_ISSUER	     "crl.issuer"	/* CRL not issued by the expected CA */
#define CK_E_CA_REVOKED	     "cert.ca_revoked"	/* intermediate or TCB signer in root CRL */
#define CK_E_PCK_REVOKED     "cert.pck_revoked" /* PCK leaf in the PCK CRL */
#define CK_E_PCK_EXTENSION   "pck.extension"	/* SGX extension missing or malformed */
#define CK_E_EXPIRED	     "time.expired"	/* an item is past its notAfter/nextUpdate */
#define CK_E_NOT_YET_VALID   "time.not_yet_valid"

/* --- collateral ---------------------------------------------------------------------------- */
#define CK_E_COLLATERAL	       "collateral.format"
#define CK_E_TCB_INFO_SIG      "tcb_info.signature"
#define CK_E_TCB_INFO_MISMATCH "tcb_info.mismatch" /* FMSPC / PCEID / id / TEE type */
#define CK_E_QE_ID_SIG	       "qe_identity.signature"
#define CK_E_QE_ID_MISMATCH    "qe_identity.mismatch" /* QE report does not match the identity */
#define CK_E_CHAIN_MISMATCH    "collateral.chain_mismatch" /* collateral and quote roots differ */

/* --- quote signatures and bindings (attestation-formats.md §B.2) --------------------------- */
#define CK_E_QE_REPORT_SIG   "qe_report.signature"
#define CK_E_QE_REPORT_DATA  "qe_report.data"
#define CK_E_QUOTE_SIGNATURE "quote.signature"
#define CK_E_TCB_NO_MATCH    "tcb.not_supported" /* no TCB level matches the platform / QE */

/* --- packages ----------------------------------------------------------------------------- */
#define CK_E_PKG_FORMAT	     "package.format"  /* not a cloak package, or a bad header */
#define CK_E_PKG_VERSION     "package.version" /* made by a newer cloak */
#define CK_E_PKG_AUTH	     "package.auth" /* a chunk failed authentication: tampered, wrong key */
#define CK_E_PKG_SIZE	     "package.size" /* the file is longer or shorter than its header says */
#define CK_E_PKG_TREE	     "package.tree" /* a file, path or link that cannot be packaged */
#define CK_E_PKG_TAR	     "package.tar"  /* the decrypted archive breaks cloak's tar profile */
#define CK_E_PKG_LIMIT	     "package.limit"	   /* too many entries, too large, too deep */
#define CK_E_PKG_FINGERPRINT "package.fingerprint" /* the tree is not the one expected */
#define CK_E_PKG_CHANGED     "package.changed"	   /* the file changed between check and write */
#define CK_E_MANIFEST	     "manifest.format"
#define CK_E_CONFIG	     "config.format" /* cloak.toml (toml.h): line, column, what */
#define CK_E_KEY	     "key" /* a key file is missing, malformed or unsafe */

/* --- RA-TLS ------------------------------------------------------------------------------- */
#define CK_E_CLAIMS	    "claims.format"	   /* the CBOR claims are malformed */
#define CK_E_RATLS_FORMAT   "ratls.format"	   /* an evidence extension is malformed */
#define CK_E_RATLS_NONE	    "ratls.no_evidence"	   /* the certificate carries no evidence */
#define CK_E_KEY_BINDING    "ratls.key_binding"	   /* the evidence does not bind this TLS key */
#define CK_E_CLAIMS_BINDING "ratls.claims_binding" /* report data is not SHA-256(claims) */
#define CK_E_EXPECT	    "ratls.expectation"	   /* a claim is not what the verifier expects */
#define CK_E_NONCE	    "ratls.nonce"	   /* the fresh quote does not carry our nonce */
#define CK_E_TLS	    "tls"		   /* the connection or handshake failed */
#define CK_E_HTTP	    "http"		   /* the evidence endpoint answered badly */

/* --- provisioning ------------------------------------------------------------------------- */
#define CK_E_PROV_FORMAT    "provision.format"	  /* malformed, unknown field, bad value */
#define CK_E_PROV_SIGNATURE "provision.signature" /* not signed by the manifest's owner key */
#define CK_E_PROV_BINDING   "provision.binding"	  /* for another enclave or manifest */
#define CK_E_SEAL	    "seal"		  /* a sealed message that does not open */
#define CK_E_PROV_STATE	    "provision.state"	  /* already provisioned, or not accepting */
#define CK_E_ROUTE	    "route"		  /* a runtime endpoint asked for wrongly */
#define CK_E_RATE	    "rate"		  /* too many fresh quotes asked for: retry later */

/* --- HTTP --------------------------------------------------------------------------------- */
#define CK_E_HTTP_SYNTAX "http.syntax" /* a malformed or ambiguous message */
#define CK_E_HTTP_LIMIT	 "http.limit"  /* a head, header count or line over its limit */
#define CK_E_SNI	 "sni" /* not a ClientHello naming one server (the router refuses it) */

/* --- the node ---------------------------------------------------------------------------- */
#define CK_E_STORE     "store"	   /* the node's database cannot be opened, migrated or written */
#define CK_E_AUTH      "auth"	   /* no valid owner token */
#define CK_E_IMSG      "imsg"	   /* a malformed message between the node's processes */
#define CK_E_CONFLICT  "conflict"  /* the name is taken (an app, an owner) */
#define CK_E_NOT_FOUND "not_found" /* no such app (or not the caller's) */
#define CK_E_LIMIT     "limit"	   /* a node limit is reached: apps, uploads, failed logins */

/* --- policy rules (the verdict) ------------------------------------------------------------ */
#define CK_E_POL_STATUS	     "policy.tcb_status"
#define CK_E_POL_ADVISORY    "policy.advisory"
#define CK_E_POL_DEBUG	     "policy.debug"
#define CK_E_POL_MEASUREMENT "policy.measurement"
#define CK_E_POL_SIMULATION  "policy.simulation"
#define CK_E_POL_REPORT_DATA "policy.report_data"

#endif
