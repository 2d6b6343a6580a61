/* SPDX-License-Identifier: Apache-2.0 */
/* The nonce batch tree: the same root as RFC 9162's recursive definition for every size up to
 * 300, every proof verifies, and a proof for anything else (another nonce, another index, an
 * index outside the tree, a changed hash, a hash too many or too few) does not. (The size is
 * not bound by the root: a proof says only that the nonce is one of the batch.) */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cloak/bundle.h"
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

/* A bundle with its nonce proof: written by ck_bundle_with_proof, read back the same; a proof
 * that is not exactly {index < size, size, at most 16 hashes of 64 hex digits} is refused. */
static void test_bundle_nonce_proof(void **s)
{
	(void)s;
	uint8_t q[48] = {3, 0};
	struct ck_bundle b = {.quote = q, .quote_len = sizeof(q)}, back;
	struct ck_merkle_proof p = {.index = 5, .size = 9, .len = 4};
	for (size_t k = 0; k < p.len; k++)
		memset(p.path[k], 0x10 + (int)k, 32);
	char *base = ck_bundle_dump(&b);
	assert_non_null(base);
	char *one = ck_bundle_with_proof(base, strlen(base), &p);
	assert_non_null(one);
	struct ck_err e;
	if (ck_bundle_parse(one, strlen(one), &back, &e) < 0)
		fail_msg("%s: %s", e.msg, one);
	assert_true(back.has_nonce_proof);
	assert_int_equal(back.nonce_proof.index, 5);
	assert_int_equal(back.nonce_proof.size, 9);
	assert_int_equal(back.nonce_proof.len, 4);
	assert_memory_equal(back.nonce_proof.path, p.path, 4 * 32);
	ck_bundle_free(&back);
	free(one);
	const char *bad[] = {
	    "{\"index\":9,\"size\":9,\"path\":[]}",
	    "{\"index\":0,\"size\":0,\"path\":[]}",
	    "{\"index\":-1,\"size\":9,\"path\":[]}",
	    "{\"index\":0,\"size\":9}",
	    "{\"index\":0,\"size\":9,\"path\":[],\"x\":1}",
	    "{\"index\":0,\"size\":9,\"path\":[\"00\"]}",
	    "{\"index\":0,\"size\":9,\"path\":[1]}",
	    "{\"index\":0,\"size\":9,\"path\":\"x\"}",
	    "[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		snprintf(text, sizeof(text), "%.*s,\"nonce_proof\":%s}", (int)strlen(base) - 1, base,
			 bad[i]);
		if (ck_bundle_parse(text, strlen(text), &back, &e) == 0)
			fail_msg("proof %zu accepted: %s", i, bad[i]);
	}
	/* 17 hashes: more than any batch has */
	char text[4096];
	int n = snprintf(text, sizeof(text), "%.*s,\"nonce_proof\":{\"index\":0,\"size\":9,\"path\":[",
			 (int)strlen(base) - 1, base);
	for (int k = 0; k < 17; k++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"%064d\"", k ? "," : "", 0);
	snprintf(text + n, sizeof(text) - (size_t)n, "]}}");
	assert_int_equal(ck_bundle_parse(text, strlen(text), &back, &e), -1);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_rfc9162_roots_and_proofs),
					   cmocka_unit_test(test_bundle_nonce_proof)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
