/* importer: -init-db (rebuild jobs and tags from the job archive) and
 * -import-job (single jobs into the archive and the database). */
#ifndef JOBSCOPE_IMPORTER_H
#define JOBSCOPE_IMPORTER_H

#include <stdio.h>

struct archive;

/* Rebuild job, tag and jobtag from every meta.json of the archive: parsing
 * on nthreads threads, rows streamed with COPY, secondary indexes rebuilt
 * after the load, progress on a terminal, a summary at the end.  Running
 * jobs in the database are lost, as with cc-backend.  0 or -1. */
int importer_init_db(struct archive *ar, int nthreads, FILE *out);

/* "meta.json:data.json[,meta.json:data.json...]" */
int importer_import_jobs(struct archive *ar, const char *spec, FILE *out);

#endif
