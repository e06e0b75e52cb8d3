/* file: small file-system helpers shared by the archive backend and uploads. */
#ifndef JOBSCOPE_FILE_H
#define JOBSCOPE_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Replace path with data atomically: a unique temporary file beside it
 * (mkostemp, so threads and processes never share one), written in full,
 * mode 0644, fsync'ed when sync is true, then renamed over path.  A failure
 * leaves path as it was and no temporary behind.  -1 with "path: reason". */
int file_write_atomic(const char *path, const void *data, size_t len, bool sync, char *err, size_t errlen);

#endif
