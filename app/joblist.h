/* joblist: one page of a filtered, sorted job list from the database, as a
 * json-c model for templates (the job list and the user page share it).
 * Keyset paging: the page after/before a (sort value, id) cursor, never OFFSET. */
#ifndef JOBSCOPE_JOBLIST_H
#define JOBSCOPE_JOBLIST_H

#include <json-c/json.h>
#include <stdint.h>

#include "jobquery.h"

struct req;

#define JOBLIST_COUNT_CAP 2000

struct joblist_page {
	int items_per_page;            /* 10, 25, 50 or 100 */
	const char *after, *before;    /* cursors "<value>:<id>" from the URL */
};

/* Read itemsPerPage/after/before; -1 with err on bad values. */
int joblist_page_from_params(const struct kvlist *params, struct joblist_page *p, char *err, size_t errlen);
/* Run the list for viewer r->user and add to model: "jobs" (rows), "count"
 * (exact up to JOBLIST_COUNT_CAP, then "more than …" with count_capped),
 * "next_url"/"prev_url" (this path with the other parameters kept).
 * 0, or -1 on a database error (err set). */
int joblist_fill(struct req *r, const struct job_filter *f, const struct job_sort *s,
		 const struct joblist_page *p, struct json_object *model, char *err, size_t errlen);
/* Helpers shared with other pages */
void joblist_format_duration(int64_t secs, char *out, size_t n);
void joblist_format_time(int64_t epoch, char *out, size_t n);
const char *joblist_state_class(const char *state);

#endif
