/* SPDX-License-Identifier: Apache-2.0 */
/*
 * applog.h - the app's output, for its owner's eyes only (DESIGN §8). The runtime seals each
 * chunk the app writes to its standard output or error (at most CK_LOG_CHUNK_MAX bytes) to the
 * manifest's log_key (X25519) and writes it as one line among its own, on its standard error,
 * which the node stores and streams:
 *
 *   cloak-log 1 epoch EPK               a new epoch (each start of a runtime): its fresh
 *                                       X25519 public key, 64 hex digits
 *   cloak-log 1 SEQ CT                  record SEQ (decimal: 0, 1, ... within the epoch), CT
 *                                       base64 of AES-256-GCM(chunk) ‖ tag, under the key
 *                                       HKDF-SHA256(X25519(eph, log_key), salt "cloak log v1",
 *                                       info EPK ‖ log_key), nonce 4 zero bytes ‖ SEQ (u64 BE),
 *                                       additional data EPK
 *
 * So the node sees when and how much, never what. A reader holding the private key opens the
 * records in order: one whose SEQ is past the next expected is reported with the number
 * missing (dropped, or cut by the node's size cap); one before it (reordered, replayed) or
 * that does not open (tampered, another key) is an error. A log key file is
 * "x25519:<64 hex of the private key>\n", mode 0600.
 */
#ifndef CLOAK_APPLOG_H
#define CLOAK_APPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_LOG_KEY_LEN	 32
#define CK_LOG_CHUNK_MAX 4096
#define CK_LOG_LINE_MAX	 6144 /* a record line, newline included: 12 + 20 + 1 + 5484 + 1 */
#define CK_LOG_PREFIX	 "cloak-log 1 "

/* A fresh log key pair (the owner's). */
int ck_log_keygen(uint8_t priv[CK_LOG_KEY_LEN], uint8_t pub[CK_LOG_KEY_LEN], struct ck_err *err);
/* The key file: written (refusing to replace one), or read (with its public half). */
int ck_log_key_write(const char *path, const uint8_t priv[CK_LOG_KEY_LEN], struct ck_err *err);
int ck_log_key_load(const char *path, uint8_t priv[CK_LOG_KEY_LEN], uint8_t pub[CK_LOG_KEY_LEN],
		    struct ck_err *err);

/* The writer (the runtime): a fresh epoch to `log_pub`, its line into `line` (*n bytes, newline
 * included); then one record line per chunk. Wipe it when done. */
struct ck_log_writer {
	uint8_t key[32], epk[32];
	uint64_t seq;
};
int ck_log_writer_new(struct ck_log_writer *w, const uint8_t log_pub[CK_LOG_KEY_LEN],
		      char line[CK_LOG_LINE_MAX], size_t *n, struct ck_err *err);
int ck_log_seal(struct ck_log_writer *w, const uint8_t *chunk, size_t len,
		char line[CK_LOG_LINE_MAX], size_t *n, struct ck_err *err);
void ck_log_writer_wipe(struct ck_log_writer *w);

/* The reader (the owner). */
enum ck_log_kind {
	CK_LOG_OTHER,  /* not a log line: the runtime's own, in clear */
	CK_LOG_EPOCH,  /* a new epoch began (a runtime started) */
	CK_LOG_RECORD, /* a chunk of the app's output, in out[0..*len) */
};
struct ck_log_reader {
	uint8_t priv[32], pub[32], key[32], epk[32];
	bool in_epoch;
	uint64_t next;
};
void ck_log_reader_init(struct ck_log_reader *r, const uint8_t priv[CK_LOG_KEY_LEN],
			const uint8_t pub[CK_LOG_KEY_LEN]);
/* One line (its newline not included). For a record, *missing is how many records before it
 * never came (0 when in order). -1 (CK_E_SEAL) for a record that is malformed, comes before any
 * epoch or before the next expected, or does not open; the reader stays as it was. */
int ck_log_open(struct ck_log_reader *r, const char *line, size_t n, uint8_t out[CK_LOG_CHUNK_MAX],
		size_t *len, uint64_t *missing, enum ck_log_kind *kind, struct ck_err *err);
void ck_log_reader_wipe(struct ck_log_reader *r);

#endif
