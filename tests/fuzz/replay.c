/* Run inputs through a fuzz target without libFuzzer: every file under
 * the directories (or the files) named on the command line, or, with no
 * argument, the target's seeds and regression inputs: for replay_NAME,
 * FUZZ_DIR/seeds/NAME and FUZZ_DIR/regressions/NAME. A finding aborts, so
 * `make check` fails on it. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

static size_t replay_count;

static int
replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
replay_path(const char *path, bool must_exist)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (!must_exist)
			return;
		fprintf(stderr, "replay: %s: cannot stat\n", path);
		exit(1);
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (d == NULL) {
			fprintf(stderr, "replay: %s: cannot open\n", path);
			exit(1);
		}
		/* In order, so that a failure is the same on every run. */
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xasprintf("%s/%s", path, de->d_name);
		}
		closedir(d);
		if (n > 0)
			qsort(names, n, sizeof(*names), replay_cmp);
		for (size_t i = 0; i < n; i++) {
			replay_path(names[i], true);
			free(names[i]);
		}
		free(names);
		return;
	}
	size_t len;
	char *err = NULL;
	char *data = read_file(path, (size_t)1 << 24, &len, &err);
	if (data == NULL) {
		fprintf(stderr, "replay: %s\n", err);
		exit(1);
	}
	printf("replay: %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	replay_count++;
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		for (int i = 1; i < argc; i++)
			replay_path(argv[i], true);
	else {
		const char *base = strrchr(argv[0], '/');
		char *dir;

		base = base ? base + 1 : argv[0];
		if (strncmp(base, "replay_", 7) != 0) {
			fprintf(stderr, "replay: run as replay_NAME, or name "
			    "the inputs\n");
			return 1;
		}
		dir = xasprintf("%s/seeds/%s", FUZZ_DIR, base + 7);
		replay_path(dir, false);
		free(dir);
		dir = xasprintf("%s/regressions/%s", FUZZ_DIR, base + 7);
		replay_path(dir, false);
		free(dir);
	}
	printf("replay: %zu inputs, no finding\n", replay_count);
	return 0;
}
