/* SPDX-License-Identifier: Apache-2.0 */
/* Reads and writes <log.dir>/meta.properties. Written once, atomically
 * (temp file, fsync, rename, fsync dir); afterwards only read and checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/log.h"
#include "common/uuid.h"
#include "control/meta_file.h"
#include "control/metadata.h"

#define META_FILE_NAME "meta.properties"

static int
meta_file_mkdirs(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		path[i] = dir[i];
	}
	return 0;
}

static int
meta_file_write(const char *dir, int32_t node_id, const char *cluster_id)
{
	struct kp_uuid dir_id;
	char dir_id_text[UUID_TEXT_BYTES];
	time_t now = time(NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	md_uuid_random(&dir_id);
	uuid_to_text(dir_id.b, dir_id_text);
	f = open_memstream(&text, &len);
	if (f == NULL)
		return -errno;
	fprintf(f, "#\n#%s", ctime(&now));
	fprintf(f, "cluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
		cluster_id, dir_id_text, node_id);
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = atomic_file_write(dir, META_FILE_NAME, text, len);
	free(text);
	return rc;
}

static int
meta_file_read(FILE *f, const char *path, int32_t node_id, char *cluster_id,
	       char *err, size_t err_size)
{
	char line[512];
	long stored_node = -1;

	cluster_id[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "cluster.id=", 11) == 0 && strlen(line + 11) == 22)
			memcpy(cluster_id, line + 11, 23);
		else if (strncmp(line, "node.id=", 8) == 0 || strncmp(line, "broker.id=", 10) == 0)
			stored_node = strtol(strchr(line, '=') + 1, NULL, 10);
	}
	if (strlen(cluster_id) != 22) {
		snprintf(err, err_size, "%s: missing or malformed cluster.id", path);
		return -EINVAL;
	}
	if (stored_node != node_id) {
		snprintf(err, err_size, "%s: stored node.id %ld does not match configured "
			 "node.id %d", path, stored_node, node_id);
		return -EINVAL;
	}
	return 0;
}

int
meta_file_open_more(const char *const *dirs, int count, int32_t node_id,
		    const char *cluster_id, char *err, size_t err_size)
{
	char stored[23];
	int rc;

	for (int i = 0; i < count; i++) {
		rc = meta_file_open(dirs[i], node_id, cluster_id, stored, err, err_size);
		if (rc == -EINVAL)
			return rc;
		if (rc != 0)
			log_warn("control", "log dir %s: %s", dirs[i], err);
	}
	err[0] = '\0';
	return 0;
}

int
meta_file_open(const char *dir, int32_t node_id, const char *cluster_id_cfg,
	       char *cluster_id, char *err, size_t err_size)
{
	char path[4096];
	FILE *f;
	int rc = meta_file_mkdirs(dir);

	if (rc != 0) {
		snprintf(err, err_size, "log.dirs: cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, META_FILE_NAME);
	f = fopen(path, "r");
	if (f != NULL) {
		rc = meta_file_read(f, path, node_id, cluster_id, err, err_size);
		fclose(f);
		if (rc == 0 && cluster_id_cfg != NULL && cluster_id_cfg[0] != '\0' &&
		    strcmp(cluster_id_cfg, cluster_id) != 0) {
			snprintf(err, err_size, "spillway.cluster.id: %s does not match the stored "
				 "cluster.id %s in %s", cluster_id_cfg, cluster_id, path);
			rc = -EINVAL;
		}
		return rc;
	}
	if (errno != ENOENT) {
		rc = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (cluster_id_cfg != NULL && cluster_id_cfg[0] != '\0') {
		if (strlen(cluster_id_cfg) != 22) {
			snprintf(err, err_size, "spillway.cluster.id: '%s' is not a 22-character "
				 "base64 cluster id", cluster_id_cfg);
			return -EINVAL;
		}
		memcpy(cluster_id, cluster_id_cfg, 23);
	} else {
		struct kp_uuid id;

		md_uuid_random(&id);
		uuid_to_text(id.b, cluster_id);
	}
	rc = meta_file_write(dir, node_id, cluster_id);
	if (rc != 0)
		snprintf(err, err_size, "%s: cannot write: %s", path, strerror(-rc));
	return rc;
}
