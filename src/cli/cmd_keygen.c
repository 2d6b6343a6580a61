/* SPDX-License-Identifier: Apache-2.0 */
/* cloak keygen: the owner's Ed25519 key, created if absent; prints its public half. */
#include <stdio.h>

#include "cli.h"
#include "cloak/owner.h"

struct keygen_opts {
	const char *path;
	bool json;
};

static const struct ck_opt opts[] = {
    CK_OPT_ARG("owner-key", 0, "FILE", struct keygen_opts, path, "where the key is (or goes)"),
    CK_OPT_JSON(struct keygen_opts, json), CK_OPT_END};

static const struct ck_opt_spec spec = {
    .name = "cloak keygen",
    .operands = "",
    .about = "Creates the owner key (Ed25519, mode 0600) if it does not exist yet, and prints\n"
	     "its public half, which deploy manifests name as the only key that may provision\n"
	     "the app. Default location: $CLOAK_CONFIG_DIR, $XDG_CONFIG_HOME/cloak or\n"
	     "~/.config/cloak.",
    .opts = opts};

int cmd_keygen(int argc, char **argv)
{
	struct keygen_opts o = {0};
	char def[4096];
	bool created;
	int ex;
	if (ck_opts_parse(&spec, argc, argv, &o, &ex) < 0)
		return ex;
	const char *path = o.path;
	bool json = o.json;
	struct ck_err e;
	struct ck_owner_key *k;
	if (!path) {
		if (ck_owner_key_default_path(def, sizeof(def), &e) < 0) {
			cli_err(&e);
			return EXIT_USAGE;
		}
		path = def;
	}
	if (ck_owner_key_load(path, true, &k, &created, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	uint8_t pub[CK_OWNER_PUB_LEN];
	char s[CK_OWNER_PUB_STR_LEN + 1];
	ck_owner_key_public(k, pub);
	ck_owner_key_free(k);
	ck_owner_pub_format(pub, s);
	if (json)
		cli_print_json(
		    json_pack("{s:s, s:s, s:b}", "owner_key", s, "path", path, "created", created));
	else
		printf("%s\n%s %s\n", s, created ? "created" : "existing", path);
	return EXIT_OK;
}
