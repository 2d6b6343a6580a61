/* SPDX-License-Identifier: Apache-2.0 */
/* cloak fingerprint: the fingerprint of a tree, without encrypting anything. */
#include <stdio.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/package.h"

static const struct ck_opt_spec spec = {
    .name = "cloak fingerprint",
    .operands = "DIR",
    .about = "Prints the SHA-256 of DIR's deterministic tar: the same on any machine for the\n"
	     "same files, whoever owns them and whenever they were written."};

int cmd_fingerprint(int argc, char **argv)
{
	bool json;
	int ex, operand = ck_opts_one_operand(&spec, argc, argv, &json, &ex);
	if (operand < 0)
		return ex;
	struct ck_pack_result res;
	struct ck_err e;
	if (ck_fingerprint_dir(argv[operand], &res, &e) < 0) {
		cli_err(&e);
		return ck_err_is(&e, CK_E_IO) ? EXIT_USAGE : EXIT_REJECTED;
	}
	char fp[65];
	ck_hex_encode(res.fingerprint, 32, fp);
	if (json)
		cli_print_json(json_pack("{s:s, s:I, s:I}", "fingerprint", fp, "entries",
					 (json_int_t)res.entries, "tar_bytes",
					 (json_int_t)res.tar_len));
	else
		printf("%s\n", fp);
	return EXIT_OK;
}
