/* The store directory each store test starts from (store_fixture.h). */
#include "autoconfig.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"

char dir[64];
int dfd = -1;

void
rm_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	struct dirent *e;
	DIR *d;

	if (fd < 0) {
		unlinkat(parent, name, 0);
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rm_tree(dirfd(d), e->d_name);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void
store_fixture_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
}

void
store_fixture_teardown(void)
{
	close(dfd);
	dfd = -1;
	rm_tree(AT_FDCWD, dir);
}

struct store *
open_store(void)
{
	struct store *st = NULL;
	char err[512];
	enum store_result r = store_open(dfd, &st, err, sizeof(err));

	ck_assert_msg(r == STORE_OK, "store_open: %s", err);
	return st;
}
