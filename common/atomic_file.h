/* SPDX-License-Identifier: Apache-2.0 */
/* Replace a small file so that after a crash it holds either the old or the
 * new contents: write <dir>/<name>.tmp, fdatasync it, rename it over
 * <dir>/<name>, fsync dir. For the control thread's state files
 * (meta.properties, topics, the producer id block); storage/ writes its own
 * files through storage/sio.h so that the simulator can fail them. */
#ifndef COMMON_ATOMIC_FILE_H
#define COMMON_ATOMIC_FILE_H

#include <stddef.h>

/* 0, or -errno (-ENAMETOOLONG for a path over PATH_MAX, -EIO for a short
 * write). On failure the temp file is removed and <dir>/<name> is either
 * untouched or, if only the directory fsync failed, already replaced. */
int atomic_file_write(const char *dir, const char *name, const void *buf, size_t len);

#endif
