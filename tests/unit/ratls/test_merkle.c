/* SPDX-License-Identifier: Apache-2.0 */
/* The nonce batch tree: the same root as RFC 9162's recursive definition for every size up to
 * 300, every proof verifies, and a proof for anything else (another nonce, another index, an
 * index outside the tree, a changed hash, a hash too many or too few) does not. (The size is
 * not bound by the root: a proof says only that the nonce is one of the batch.) */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cloak/merkle.h"
#include "testutil.h"

/* MTH of RFC 9162 §2.1.1, recursively. */
static void mth(const uint8_t (*leaves)[32], size_t n, uint8_t out[32])
{
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t b[65];
	b[0] = 1;
	mth(leaves, k, b + 1);
	mth(leaves + k, n - k, b + 33);
	EVP_Digest(b, sizeof(b), out, NULL, EVP_sha256(), NULL);
}

static void test_rfc9162_roots_and_proofs(void **s)
{
	(void)s;
	enum { MAX = 300 };
	static uint8_t leaves[MAX][32], scratch[MAX][32];
	static struct ck_merkle_proof proofs[MAX];
	for (size_t i = 0; i < MAX; i++) {
		uint8_t nonce[8] = {(uint8_t)i, (uint8_t)(i >> 8), 'n'};
		ck_merkle_leaf(nonce, sizeof(nonce), leaves[i]);
	}
	for (size_t n = 1; n <= MAX; n++) {
		uint8_t root[32], want[32];
		assert_int_equal(ck_merkle_build(leaves, n, scratch, root, proofs), 0);
		mth(leaves, n, want);
		if (memcmp(root, want, 32))
			fail_msg("root of %zu leaves differs from RFC 9162's", n);
		for (size_t i = 0; i < n; i++) {
			if (!ck_merkle_verify(leaves[i], &proofs[i], root))
				fail_msg("proof %zu of %zu does not verify", i, n);
			struct ck_merkle_proof p = proofs[i];
			if (n > 1) {
				assert_false(ck_merkle_verify(leaves[(i + 1) % n], &p, root));
				p.index = (uint32_t)((i + 1) % n);
				assert_false(ck_merkle_verify(leaves[i], &p, root));
				p = proofs[i];
				p.path[0][5] ^= 1;
				assert_false(ck_merkle_verify(leaves[i], &p, root));
				p = proofs[i];
				p.len--;
				assert_false(ck_merkle_verify(leaves[i], &p, root));
			}
			p = proofs[i];
			p.size = (uint32_t)i; /* an index outside the tree */
			assert_false(ck_merkle_verify(leaves[i], &p, root));
			p = proofs[i];
			if (p.len < CK_MERKLE_MAX_DEPTH) {
				memset(p.path[p.len++], 0, 32);
				assert_false(ck_merkle_verify(leaves[i], &p, root));
			}
		}
	}
	/* a batch of one: the root is the leaf, the path empty */
	uint8_t root[32];
	assert_int_equal(ck_merkle_build(leaves, 1, scratch, root, proofs), 0);
	assert_memory_equal(root, leaves[0], 32);
	assert_int_equal(proofs[0].len, 0);
	assert_int_equal(ck_merkle_build(leaves, 0, scratch, root, proofs), -1);
	struct ck_merkle_proof bad = {.index = 3, .size = 2};
	assert_false(ck_merkle_verify(leaves[0], &bad, root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_rfc9162_roots_and_proofs)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
