/* SPDX-License-Identifier: Apache-2.0 */
/* cloak measure: the measurement a sim enclave of this cloak-runtime reports (MRENCLAVE). */
#include <stdio.h>

#include "cli.h"
#include "cloak/codec.h"

struct measure_opts {
	const char *runtime;
	bool json;
};

#define MO struct measure_opts
static const struct ck_opt opts[] = {
    CK_OPT_ARG("runtime", 0, "FILE", MO, runtime,
	       "the cloak-runtime to measure (default: the one beside cloak)"),
    CK_OPT_JSON(MO, json), CK_OPT_END};
#undef MO

static const struct ck_opt_spec spec = {
    .name = "cloak measure",
    .operands = "",
    .about = "Prints the MRENCLAVE a simulated enclave running this cloak-runtime reports: the\n"
	     "SHA-256 of the binary (docs/runtime.md). Pin it in a policy (\"mrenclave\") so that\n"
	     "a node that swaps in another runtime is refused before any secret is sent. On SGX\n"
	     "the measurement is Gramine's of the signed manifest, not this.",
    .opts = opts};

int cmd_measure(int argc, char **argv)
{
	struct measure_opts o = {0};
	struct ck_err e;
	char path[PATH_MAX], hex[65];
	uint8_t h[32];
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (cli_measure_runtime(o.runtime, h, path, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	ck_hex_encode(h, 32, hex);
	if (o.json)
		cli_print_json(json_pack("{s:s, s:s, s:b}", "mrenclave", hex, "runtime", path,
					 "simulated", 1));
	else
		printf("%s\n", hex);
	return EXIT_OK;
}
