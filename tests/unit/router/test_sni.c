/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ClientHello's server name, from real ClientHellos OpenSSL writes (TLS 1.3 and 1.2, with
 * and without SNI), whole, cut at every byte, split across records, and changed byte by byte;
 * and the refusals by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "cloak/sni.h"
#include "testutil.h"

/* The first bytes a client writes: its ClientHello record(s). */
static size_t hello_alpn(const char *sni, int max_version, const char *alpn, size_t alpn_len,
			 uint8_t *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	SSL *ssl = SSL_new(ctx);
	if (alpn)
		SSL_set_alpn_protos(ssl, (const unsigned char *)alpn, (unsigned)alpn_len);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rb, wb);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	assert_int_equal(SSL_connect(ssl), -1); /* wants the server's answer */
	int n = BIO_read(wb, out, (int)cap);
	assert_true(n > 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

static size_t hello(const char *sni, int max_version, uint8_t *out, size_t cap)
{
	return hello_alpn(sni, max_version, NULL, 0, out, cap);
}

/* The same handshake bytes re-framed into records of at most `step` bytes. */
static size_t resplit(const uint8_t *in, size_t n, size_t step, uint8_t *out)
{
	size_t hl = (size_t)in[3] << 8 | in[4], o = 0;
	assert_int_equal(hl + 5, n); /* OpenSSL writes one record */
	for (size_t at = 0; at < hl; at += step) {
		size_t k = hl - at < step ? hl - at : step;
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)k;
		memcpy(out + o, in + 5 + at, k);
		o += k;
	}
	return o;
}

static void test_real_hellos(void **s)
{
	(void)s;
	static uint8_t buf[8192], split[16384];
	char name[CK_SNI_NAME_MAX + 1];
	struct ck_err e;
	const char *names[] = {"app.localhost", "shop.node.example",
			       "a-very-long-label-that-is-fine.but-still-a-dns-name.example"};
	int versions[] = {0, TLS1_2_VERSION};
	for (size_t v = 0; v < 2; v++)
		for (size_t i = 0; i < 3; i++) {
			size_t n = hello(names[i], versions[v], buf, sizeof(buf));
			int r = ck_sni_parse(buf, n, name, &e);
			if (r <= 0)
				fail_msg("%s: %s", names[i], e.msg);
			assert_int_equal(r, (int)strlen(names[i]));
			assert_string_equal(name, names[i]);
			for (size_t k = 0; k < n; k++) /* a prefix: more bytes needed */
				assert_int_equal(ck_sni_parse(buf, k, name, NULL), 0);
			size_t m = resplit(buf, n, 37, split);
			assert_int_equal(ck_sni_parse(split, m, name, &e), (int)strlen(names[i]));
			assert_string_equal(name, names[i]);
		}
	/* upper case is folded */
	size_t n = hello("APP.Example", 0, buf, sizeof(buf));
	assert_int_equal(ck_sni_parse(buf, n, name, &e), 11);
	assert_string_equal(name, "app.example");
	/* no SNI at all */
	n = hello(NULL, 0, buf, sizeof(buf));
	assert_int_equal(ck_sni_parse(buf, n, name, &e), -1);
	assert_string_equal(e.code, CK_E_SNI);
	assert_non_null(strstr(e.msg, "no SNI"));
}

/* Every byte changed: never a crash, never a read past the input (ASan), a name only if valid. */
static void test_every_byte_changed(void **s)
{
	(void)s;
	static uint8_t buf[8192], m[8192];
	char name[CK_SNI_NAME_MAX + 1];
	size_t n = hello("app.localhost", 0, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(m, buf, n);
			m[i] ^= (uint8_t)(1 << bit);
			int r = ck_sni_parse(m, n, name, NULL);
			if (r > 0)
				for (int k = 0; k < r; k++)
					assert_non_null(strchr(
					    "abcdefghijklmnopqrstuvwxyz0123456789-.", name[k]));
		}
}

static void test_refused(void **s)
{
	(void)s;
	char name[CK_SNI_NAME_MAX + 1];
	struct ck_err e;
	struct {
		const char *what, *bytes;
		size_t n;
		const char *says;
	} bad[] = {
	    {"plain HTTP", "GET / HTTP/1.1\r\n\r\n", 18, "not a TLS handshake"},
	    {"SSL 2 style", "\x80\x2e\x01\x03\x01", 5, "not a TLS handshake"},
	    {"record version 4.0", "\x16\x04\x00\x00\x05\x01\x00\x00\x01\x00", 10,
	     "not a TLS record version"},
	    {"an empty record", "\x16\x03\x01\x00\x00", 5, "record of 0"},
	    {"a ServerHello", "\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, "not a ClientHello"},
	    {"a ClientHello of 1 MiB", "\x16\x03\x01\x00\x04\x01\x10\x00\x00", 9, "over"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ck_sni_parse((const uint8_t *)bad[i].bytes, bad[i].n, name, &e) != -1)
			fail_msg("%s: not refused", bad[i].what);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("%s: '%s'", bad[i].what, e.msg);
	}
	/* names that are not DNS names, written into a real ClientHello's SNI */
	static uint8_t buf[8192];
	const char *bad_names[] = {"a..b", "a.b.",	 "-",	      "x_y.example",
				   "a b",  "-a.example", "a-.example"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		char ok[64];
		memset(ok, 'q', strlen(bad_names[i]));
		ok[strlen(bad_names[i])] = 0;
		size_t n = hello(ok, 0, buf, sizeof(buf)), l = strlen(ok);
		/* the host_name entry itself (type 0, 16-bit length, the name), not some byte of
		 * the random or a key share that happens to read "q" */
		uint8_t entry[3 + 64] = {0, (uint8_t)(l >> 8), (uint8_t)l};
		memcpy(entry + 3, ok, l);
		uint8_t *at = memmem(buf, n, entry, 3 + l);
		assert_non_null(at);
		memcpy(at + 3, bad_names[i], l);
		int r = ck_sni_parse(buf, n, name, &e);
		if (r != -1)
			fail_msg("'%s' accepted", bad_names[i]);
	}
}

/* ALPN: cloak's protocol found among others (TLS 1.3 and 1.2), absent when not offered or when
 * only a prefix of it is; a malformed protocol list refused. */
static void test_alpn(void **s)
{
	(void)s;
	static uint8_t buf[8192];
	struct ck_hello h;
	struct ck_err e;
	static const char both[] = "\x02h2\x0e" CK_ALPN_CLOAK, h2[] = "\x02h2",
			  prefix[] = "\x05cloak";
	int versions[] = {0, TLS1_2_VERSION};
	for (size_t v = 0; v < 2; v++) {
		size_t n = hello_alpn("app.localhost", versions[v], both, sizeof(both) - 1, buf,
				      sizeof(buf));
		assert_int_equal(ck_hello_parse(buf, n, &h, &e), 13);
		assert_true(h.alpn_cloak);
		n = hello_alpn("app.localhost", versions[v], h2, sizeof(h2) - 1, buf, sizeof(buf));
		assert_int_equal(ck_hello_parse(buf, n, &h, &e), 13);
		assert_false(h.alpn_cloak);
		n = hello_alpn("app.localhost", versions[v], prefix, sizeof(prefix) - 1, buf,
			       sizeof(buf));
		assert_int_equal(ck_hello_parse(buf, n, &h, &e), 13);
		assert_false(h.alpn_cloak);
		n = hello("app.localhost", versions[v], buf, sizeof(buf));
		assert_int_equal(ck_hello_parse(buf, n, &h, &e), 13);
		assert_false(h.alpn_cloak);
	}
	/* the list "h2", its protocol length byte made 3: it runs past the list */
	size_t n = hello_alpn("app.localhost", 0, h2, sizeof(h2) - 1, buf, sizeof(buf));
	for (size_t i = 0; i + 7 < n; i++)
		if (buf[i] == 0 && buf[i + 1] == 16 && buf[i + 2] == 0 && buf[i + 3] == 5 &&
		    buf[i + 4] == 0 && buf[i + 5] == 3 && buf[i + 6] == 2) {
			buf[i + 6] = 3;
			assert_int_equal(ck_hello_parse(buf, n, &h, &e), -1);
			assert_non_null(strstr(e.msg, "ALPN"));
			assert_false(h.alpn_cloak);
			return;
		}
	fail_msg("no ALPN extension found in the ClientHello");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alpn),
	    cmocka_unit_test(test_real_hellos),
	    cmocka_unit_test(test_every_byte_changed),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
