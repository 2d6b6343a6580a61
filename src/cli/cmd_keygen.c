/* SPDX-License-Identifier: Apache-2.0 */
/* cloak keygen: the owner's Ed25519 key, created if absent; prints its public half. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cloak/owner.h"

static const char usage[] =
	"Usage: cloak keygen [--owner-key FILE] [--json]\n"
	"\n"
	"Creates the owner key (Ed25519, mode 0600) if it does not exist yet, and prints its\n"
	"public half, which deploy manifests name as the only key that may provision the app.\n"
	"Default location: $CLOAK_CONFIG_DIR, $XDG_CONFIG_HOME/cloak or ~/.config/cloak.\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"owner-key", required_argument, NULL, 'O'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *path = NULL;
	char def[4096];
	bool json = false, created;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'O')
			path = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'h')
			return fputs(usage, stdout), EXIT_OK;
		else
			return fputs(usage, stderr), EXIT_USAGE;
	}
	if (optind != argc)
		return fputs(usage, stderr), EXIT_USAGE;
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
		cli_print_json(json_pack("{s:s, s:s, s:b}", "owner_key", s, "path", path, "created",
					 created));
	else
		printf("%s\n%s %s\n", s, created ? "created" : "existing", path);
	return EXIT_OK;
}
