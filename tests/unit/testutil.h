/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests: files from the attestation vectors, the manifest. */
#ifndef CLOAK_TESTUTIL_H
#define CLOAK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>

#include "cloak/collateral.h"
#include "cloak/owner.h"
#include "cloak/timeutil.h"

/* $CLOAK_VECTORS (set by CTest) or ../shared/attestation-vectors. */
const char *tu_vectors(void);
/* Reads a file under the vectors dir (or an absolute path); fails the test if missing. */
uint8_t *tu_read(const char *rel, size_t *len);
/* The parsed manifest.json (borrowed; lives for the process). */
json_t *tu_manifest(void);
ck_time_t tu_time(const char *rfc3339);
/* Loads a QuoteCollateralV3 file from the vectors. */
void tu_collateral(const char *rel, struct ck_collateral *c);
/* A fresh temporary directory name (not created), under $TMPDIR. */
char *tu_tmpname(const char *tag);
/* A fresh owner key at DIR/NAME.key (DIR is created if missing); fails the test otherwise. */
struct ck_owner_key *tu_owner_key(const char *dir, const char *name);
/* tu_tmpname, created (0700). */
char *tu_mkdtemp(const char *tag);
/* Removes the tree at `path` (rm -rf); fails the test if it cannot. */
void tu_rm(const char *path);
/* tu_rm, then frees the name (a tu_tmpname or tu_mkdtemp). */
void tu_rmtree(char *dir);

/* A scratch directory for one test program: tu_scratch_setup / tu_scratch_teardown are cmocka
 * group fixtures that make and remove tu_base; tu_path(rel) is a path beneath it (eight
 * rotating buffers, so a few may be used in one call). */
extern char *tu_base;
int tu_scratch_setup(void **state);
int tu_scratch_teardown(void **state);
const char *tu_path(const char *rel);
/* Writes a file whole with `mode`; fails the test otherwise. */
void tu_write(const char *path, const void *data, size_t len, unsigned mode);

/* Servers for the tests' real processes: a listening socket on a free loopback port (*port), and
 * a loop, for a forked server process, that accepts forever and serves each connection in its
 * own child with `conn` (which must return when done; the child then exits). */
int tu_listen_any(uint16_t *port);
/* A TCP connection to 127.0.0.1:port, reads and writes timing out after 5 s; fails the test if
 * it cannot connect. */
int tu_dial(uint16_t port);
void tu_serve_forked(int lfd, void (*conn)(int fd)) __attribute__((noreturn));

#endif
