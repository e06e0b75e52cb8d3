/* usercfg: per-user UI settings (COMPAT d.3).
 *
 * Stored in the configuration table under cc-backend's flattened keys, the
 * value a JSON text (upstream's updateConfiguration / POST
 * /frontend/configuration/), so that settings survive a switch in either
 * direction.  What jobscope itself reads back:
 *   metricConfig_jobListMetrics[:<cluster>]  job-list sparklines (array of names)
 *   plotConfiguration_plotsPerRow            job view grid (1, 2, 3, 4 or 6)
 *   plotConfiguration_colorBackground        threshold background of job view plots
 *   plot_list_jobsPerPage                    the list size the settings page offers
 * Defaults come from config.json's ui section, then cc-backend's defaults. */
#ifndef JOBSCOPE_USERCFG_H
#define JOBSCOPE_USERCFG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct arena;
struct req;

#define USERCFG_MAX_KEYS 200        /* keys per user */
#define USERCFG_MAX_KEY 200         /* bytes of a key */
#define USERCFG_MAX_VALUE 16384     /* bytes of a value's JSON text */
#define USERCFG_MAX_LIST_METRICS 8  /* as many sparklines as a job-list row shows */

#define USERCFG_JOB_LIST_METRICS "metricConfig_jobListMetrics"
#define USERCFG_PLOTS_PER_ROW "plotConfiguration_plotsPerRow"
#define USERCFG_COLOR_BACKGROUND "plotConfiguration_colorBackground"
#define USERCFG_JOBS_PER_PAGE "plot_list_jobsPerPage"

/* The viewer's settings as one object {key: value} (owned by the request
 * arena); empty for anonymous requests and when the database fails.  Read
 * once per request (with the session when session_load found one), so a
 * change saved during the request shows from the next one on. */
struct json_object *usercfg_load(struct req *r);

/* Is key acceptable (1..USERCFG_MAX_KEY bytes of UTF-8, no control characters)? */
bool usercfg_key_valid(const char *key);
enum usercfg_status { USERCFG_OK, USERCFG_INVALID, USERCFG_FULL, USERCFG_DB };
/* Upsert one key; value is a JSON text (checked: size, depth, UTF-8).
 * INVALID/FULL come with a sentence in err; DB with the database's message. */
enum usercfg_status usercfg_set(struct arena *a, const char *username, const char *key,
				const char *value, char *err, size_t errlen);
/* Remove one key (back to the default); -1 on a database error. */
int usercfg_delete(struct arena *a, const char *username, const char *key);

/* Effective values (user, else ui section, else cc-backend's default). */
int usercfg_plots_per_row(struct json_object *cfg);       /* 1, 2, 3, 4 or 6 */
bool usercfg_color_background(struct json_object *cfg);
int usercfg_jobs_per_page(struct json_object *cfg);      /* 10, 25, 50 or 100 */
/* Bootstrap column classes for n plots per row ("col-xxl-4 col-lg-6" for 3). */
const char *usercfg_plot_col_class(int per_row);
bool usercfg_plots_per_row_valid(long n);
bool usercfg_jobs_per_page_valid(long n);
/* The user's own job-list metrics for a list of one cluster (key
 * "metricConfig_jobListMetrics:<cluster>") or of all clusters (cluster NULL:
 * the plain key): NULL-terminated arena array of at most max names, or NULL
 * when the user has chosen none. */
const char **usercfg_job_list_metrics(struct arena *a, struct json_object *cfg, const char *cluster, size_t max);
/* The job-list metrics without the user's choice: ui.metric-config (the
 * cluster's job-list-metrics, else the global one), else cc-backend's default
 * cpu_load, flops_any, mem_bw, mem_used (the job list's own rule). */
const char **usercfg_default_job_list_metrics(struct arena *a, const char *cluster, size_t max);
/* "metricConfig_jobListMetrics" or "metricConfig_jobListMetrics:<cluster>" */
const char *usercfg_job_list_key(struct arena *a, const char *cluster);

#endif
