/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/atomic_file.c: a first write and a replacement leave exactly
 * the new bytes and no temp file, an empty file is a file, and each failure
 * returns -errno and leaves the old contents in place. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"

static char dir[] = "/tmp/spillway-atomic-XXXXXX";

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

/* Depth first: the files, the temp directory a test made, then dir. */
static void
teardown(void)
{
	cr_assert_eq(nftw(dir, remove_entry, 4, FTW_DEPTH | FTW_PHYS), 0);
}

/* The whole file, NUL-terminated; its length in *len. */
static char *
slurp(const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf = malloc(4096);
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, 4095, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
entry_count(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

TestSuite(atomic_file, .init = setup, .fini = teardown);

Test(atomic_file, writes_then_replaces)
{
	size_t len;
	char *got;

	cr_assert_eq(atomic_file_write(dir, "state", "first\n", 6), 0);
	got = slurp("state", &len);
	cr_assert_eq(len, 6);
	cr_assert_str_eq(got, "first\n");
	free(got);
	cr_assert_eq(atomic_file_write(dir, "state", "2\n", 2), 0);
	got = slurp("state", &len);
	cr_assert_eq(len, 2);
	cr_assert_str_eq(got, "2\n");
	free(got);
	cr_assert_eq(entry_count(), 1, "the temp file is gone");
}

Test(atomic_file, empty_contents)
{
	size_t len;
	char *got;

	cr_assert_eq(atomic_file_write(dir, "empty", NULL, 0), 0);
	got = slurp("empty", &len);
	cr_assert_eq(len, 0);
	free(got);
}

Test(atomic_file, missing_directory)
{
	char missing[PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/no/such", dir);
	cr_assert_eq(atomic_file_write(missing, "state", "x", 1), -ENOENT);
}

Test(atomic_file, name_too_long)
{
	char name[PATH_MAX];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(atomic_file_write(dir, name, "x", 1), -ENAMETOOLONG);
}

/* The temp file cannot be created (a directory stands in its place): the
 * error comes back and the old contents stay. */
Test(atomic_file, failure_keeps_old_contents)
{
	char tmp[PATH_MAX];
	size_t len;
	char *got;

	cr_assert_eq(atomic_file_write(dir, "state", "old\n", 4), 0);
	snprintf(tmp, sizeof(tmp), "%s/state.tmp", dir);
	cr_assert_eq(mkdir(tmp, 0755), 0);
	cr_assert_eq(atomic_file_write(dir, "state", "new\n", 4), -EISDIR);
	got = slurp("state", &len);
	cr_assert_str_eq(got, "old\n");
	free(got);
}
