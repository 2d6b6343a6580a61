#include "cli.h"
int cmd_collateral(int argc, char **argv){(void)argc;(void)argv;return 2;}
