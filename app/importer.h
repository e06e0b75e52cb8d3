/* importer: -init-db (rebuild jobs and tags from the job archive) and
 * -import-job (single jobs into the archive and the database). */
#ifndef JOBSCOPE_IMPORTER_H
#define JOBSCOPE_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct archive;
struct buf;

/* Rebuild job, tag and jobtag from every meta.json of the archive, in one
 * transaction: listing on a few threads, parsing on nthreads (at least 4, as
 * reads may wait on the disk) while the listing goes on, rows streamed with
 * COPY, secondary indexes and jobtag's foreign keys put back after the load,
 * progress on a terminal, a summary at the end.  Running
 * jobs in the database are lost, as with cc-backend.  0 or -1. */
int importer_init_db(struct archive *ar, int nthreads, FILE *out);

/* For tests: the COPY row -init-db makes of one meta.json text for the job
 * directory key (database id 1), followed by a line "tag\t<type>\t<name>"
 * per tag; fast = false takes the json-c path only.  0, or -1 with why. */
int importer_meta_row(struct archive *ar, const char *key, const char *text, size_t len, bool fast,
		      struct buf *row, char *why, size_t whylen);

/* "meta.json:data.json[,meta.json:data.json...]" */
int importer_import_jobs(struct archive *ar, const char *spec, FILE *out);

#endif
