/* proxymgrd: keeps HAProxy in step with service discovery. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "log.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: proxymgrd -c FILE [-d] [--check]\n"
"\n"
"Keeps a local HAProxy in step with service discovery: renders haproxy.cfg\n"
"from service definitions, holds the listen sockets itself and reloads\n"
"HAProxy without refusing or resetting a connection.\n"
"\n"
"  -c, --config FILE  proxymgr.yml to run from (required)\n"
"  -d, --debug        log debug messages too\n"
"      --check        load everything, print the haproxy.cfg it would run,\n"
"                     validate it with `haproxy -c` and exit: 0 if all is\n"
"                     well, 1 on any error\n"
"  -V, --version      print the version and exit\n"
"  -h, --help         print this help and exit\n"
"\n"
"Signals: SIGHUP re-reads FILE; SIGTERM or SIGINT stop HAProxy gracefully\n"
"and exit.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_file = NULL;
	bool debug = false, check = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:dVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_file = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			printf("proxymgrd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "proxymgrd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (config_file == NULL) {
		fprintf(stderr, "proxymgrd: -c FILE is required\n");
		usage(stderr);
		return 2;
	}
	log_init(debug);
	return check ? daemon_check(config_file) : daemon_run(config_file);
}
