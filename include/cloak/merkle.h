/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merkle.h - the Merkle tree that lets one quote answer many verifiers' nonces at once
 * (docs/ratls.md, "Fresh evidence in batches").
 *
 * The tree of RFC 9162 §2.1.1 over the nonces of a batch, in the order they were taken:
 *   leaf    = SHA-256(0x00 ‖ nonce)
 *   node    = SHA-256(0x01 ‖ left ‖ right)
 *   root    = MTH(leaves): for n > 1 leaves, split at the largest power of two below n
 * and a proof of one nonce is its inclusion proof (its index, the tree's size, and the sibling
 * hashes from the leaf up), checked as RFC 9162 §2.1.3.2 checks it. A batch of one nonce has
 * root = its leaf and an empty path. Nothing here allocates.
 */
#ifndef CLOAK_MERKLE_H
#define CLOAK_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CK_MERKLE_MAX_DEPTH  16				 /* proof hashes at most... */
#define CK_MERKLE_MAX_LEAVES (1u << CK_MERKLE_MAX_DEPTH) /* ...for this many leaves */

struct ck_merkle_proof {
	uint32_t index, size; /* the nonce's leaf, of `size` leaves */
	size_t len;	      /* hashes in path */
	uint8_t path[CK_MERKLE_MAX_DEPTH][32];
};

/* The leaf hash of one nonce. */
void ck_merkle_leaf(const uint8_t *nonce, size_t len, uint8_t out[32]);

/* The root of `n` leaf hashes (1 <= n <= CK_MERKLE_MAX_LEAVES), and, for each leaf i with
 * proofs != NULL, its proof in proofs[i]. `scratch` holds n hashes (overwritten). Returns 0,
 * or -1 for an n out of range. */
int ck_merkle_build(const uint8_t (*leaves)[32], size_t n, uint8_t (*scratch)[32], uint8_t root[32],
		    struct ck_merkle_proof *proofs);

/* true when `proof` shows that `leaf` is in the tree whose root is `root`. */
bool ck_merkle_verify(const uint8_t leaf[32], const struct ck_merkle_proof *proof,
		      const uint8_t root[32]);

#endif
