/*
 * failoverctl: control tool for failoverd.
 *
 * Not implemented yet: this program only answers --help and --version so the
 * build and the packaging have their final shape. Its issue fills it in.
 */
#include <stdio.h>
#include <string.h>

static void
usage(FILE *f)
{
	fprintf(f, "usage: failoverctl [--help] [--version]\n"
	    "control tool for failoverd (not implemented yet)\n");
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("failoverctl %s\n", VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 1;
}
