/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cloak/codec.h"

/* see codec.h */
void ck_hex_encode(const uint8_t *in, size_t len, char *out)
{
	/* Branch-free nibble to ASCII: 0-9 -> '0'..'9', 10-15 -> 'a'..'f'. */
	for (size_t i = 0; i < len; i++) {
		unsigned hi = in[i] >> 4, lo = in[i] & 0xf;
		out[2 * i] = (char)(hi + '0' + (((9u - hi) >> 8) & ('a' - '0' - 10)));
		out[2 * i + 1] = (char)(lo + '0' + (((9u - lo) >> 8) & ('a' - '0' - 10)));
	}
	out[2 * len] = '\0';
}

/* Returns the nibble value, or -1; constant time over the input character. */
static int hexval(unsigned char c)
{
	int v = -1;
	int d = c - '0', l = (c | 0x20) - 'a';
	/* mask is all-ones when the condition holds */
	int is_d = ((unsigned)d <= 9u) ? -1 : 0;
	int is_l = ((unsigned)l <= 5u) ? -1 : 0;
	v = (v & ~is_d) | (d & is_d);
	v = (v & ~is_l) | ((l + 10) & is_l);
	return v;
}

int ck_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t outlen,
			const char *what, struct ck_err *err)
{
	if (hexlen != 2 * outlen)
		return ck_errf(err, CK_E_ENCODING, "%s: expected %zu hex digits, got %zu", what,
			       2 * outlen, hexlen);
	int bad = 0;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
		bad |= (hi | lo) < 0;
		out[i] = (uint8_t)(((unsigned)hi << 4) | ((unsigned)lo & 0xfu));
	}
	if (bad) {
		memset(out, 0, outlen);
		return ck_errf(err, CK_E_ENCODING, "%s: not a hex string: '%.40s%s'", what, hex,
			       hexlen > 40 ? "..." : "");
	}
	return 0;
}

int ck_hex_decode_alloc(const char *hex, size_t hexlen, uint8_t **out, size_t *outlen,
			const char *what, struct ck_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (hexlen % 2)
		return ck_errf(err, CK_E_ENCODING, "%s: odd number of hex digits (%zu)", what,
			       hexlen);
	uint8_t *buf = malloc(hexlen / 2 + 1);
	if (!buf)
		return ck_errf(err, CK_E_NOMEM, "%s: out of memory", what);
	if (ck_hex_decode_exact(hex, hexlen, buf, hexlen / 2, what, err) < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = hexlen / 2;
	return 0;
}

char *ck_b64_encode(const uint8_t *in, size_t len)
{
	if (len > (SIZE_MAX / 4) * 3 - 3 || len > (size_t)INT32_MAX / 2)
		return NULL;
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int b64_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int ck_b64_decode_alloc(const char *in, size_t inlen, uint8_t **out, size_t *outlen,
			const char *what, struct ck_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (inlen % 4 || inlen > (size_t)INT32_MAX / 2)
		return ck_errf(err, CK_E_ENCODING, "%s: base64 length %zu is not a multiple of 4",
			       what, inlen);
	size_t pad = 0;
	for (size_t i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=' && i >= inlen - 2) {
			pad++;
			continue;
		}
		if (!b64_ok(c) || pad)
			return ck_errf(err, CK_E_ENCODING,
				       "%s: invalid base64 character 0x%02x at offset %zu", what, c,
				       i);
	}
	if (pad == 1 && in[inlen - 1] != '=')
		return ck_errf(err, CK_E_ENCODING, "%s: misplaced base64 padding", what);
	uint8_t *buf = malloc(inlen / 4 * 3 + 1);
	if (!buf)
		return ck_errf(err, CK_E_NOMEM, "%s: out of memory", what);
	int n = inlen ? EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen) : 0;
	if (n < 0) {
		free(buf);
		return ck_errf(err, CK_E_ENCODING, "%s: invalid base64", what);
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

bool ck_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool ck_all_zero(const void *a, size_t len)
{
	const volatile uint8_t *x = a;
	uint8_t d = 0;
	for (size_t i = 0; i < len; i++)
		d |= x[i];
	return d == 0;
}
