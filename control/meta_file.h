/* SPDX-License-Identifier: Apache-2.0 */
/* meta.properties in the log directory, in Kafka's KRaft format (version=1,
 * cluster.id, node.id, directory.id), so an operator's tools read it as they
 * read Kafka's. @thread control */
#ifndef CONTROL_META_FILE_H
#define CONTROL_META_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Create dir if needed; read meta.properties or write a new one with a fresh
 * cluster id (or cluster_id_cfg when set). A stored node.id or cluster.id
 * that differs from the configured one is an error, as in Kafka. Writes the
 * 22-char cluster id to cluster_id (23 bytes). 0 or -errno with err set. */
int meta_file_open(const char *dir, int32_t node_id, const char *cluster_id_cfg,
		   char *cluster_id, char *err, size_t err_size);

/* The other log dirs (JBOD): each gets its own meta.properties (its own
 * directory.id) with the first dir's cluster_id; one that names another
 * cluster or node is an error, as Kafka refuses to start. A dir that
 * cannot be read or written is only logged: storage takes it offline.
 * 0 or -EINVAL with err set. */
int meta_file_open_more(const char *const *dirs, int count, int32_t node_id,
			const char *cluster_id, char *err, size_t err_size);

#endif
