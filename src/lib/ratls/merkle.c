/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merkle.c - the nonce batch tree; the contract is in include/cloak/merkle.h.
 *
 * Built bottom-up: each level pairs neighbours and carries an unpaired last node up as it is.
 * That is the same tree as RFC 9162's split at the largest power of two (tests compare both),
 * and a proof is the sibling of the node at each level that has one.
 */
#include <string.h>

#include <openssl/evp.h>

#include "cloak/codec.h"
#include "cloak/merkle.h"

static void node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t b[65];
	b[0] = 0x01;
	memcpy(b + 1, l, 32);
	memcpy(b + 33, r, 32);
	EVP_Digest(b, sizeof(b), out, NULL, EVP_sha256(), NULL);
}

void ck_merkle_leaf(const uint8_t *nonce, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	static const uint8_t zero = 0x00;
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, &zero, 1) == 1 && EVP_DigestUpdate(c, nonce, len) == 1 &&
	    EVP_DigestFinal_ex(c, out, NULL) == 1) {
		EVP_MD_CTX_free(c);
		return;
	}
	EVP_MD_CTX_free(c);
	memset(out, 0, 32); /* out of memory: a root nothing verifies against */
}

int ck_merkle_build(const uint8_t (*leaves)[32], size_t n, uint8_t (*scratch)[32], uint8_t root[32],
		    struct ck_merkle_proof *proofs)
{
	if (n == 0 || n > CK_MERKLE_MAX_LEAVES)
		return -1;
	memcpy(scratch, leaves, n * 32);
	for (size_t i = 0; proofs && i < n; i++)
		proofs[i] = (struct ck_merkle_proof){.index = (uint32_t)i, .size = (uint32_t)n};
	for (size_t width = n, span = 1; width > 1; width = (width + 1) / 2, span *= 2) {
		/* the leaves under node j of this level are [j*span, (j+1)*span) */
		for (size_t i = 0; proofs && i < n; i++) {
			size_t j = i / span, sib = j ^ 1;
			if (sib < width)
				memcpy(proofs[i].path[proofs[i].len++], scratch[sib], 32);
		}
		for (size_t j = 0; j < width / 2; j++)
			node(scratch[2 * j], scratch[2 * j + 1], scratch[j]);
		if (width & 1)
			memmove(scratch[width / 2], scratch[width - 1], 32);
	}
	memcpy(root, scratch[0], 32);
	return 0;
}

bool ck_merkle_verify(const uint8_t leaf[32], const struct ck_merkle_proof *p,
		      const uint8_t root[32])
{
	uint8_t r[32];
	size_t idx = p->index, width = p->size, k = 0;
	if (width == 0 || width > CK_MERKLE_MAX_LEAVES || idx >= width ||
	    p->len > CK_MERKLE_MAX_DEPTH)
		return false;
	memcpy(r, leaf, 32);
	for (; width > 1; idx /= 2, width = (width + 1) / 2) {
		if ((idx ^ 1) >= width)
			continue; /* the last node of an odd level: carried up */
		if (k == p->len)
			return false;
		if (idx & 1)
			node(p->path[k], r, r);
		else
			node(r, p->path[k], r);
		k++;
	}
	return k == p->len && ck_ct_equal(r, root, 32);
}
