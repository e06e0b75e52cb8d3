/* /monitoring/jobs/: the filterable, sortable job list (COMPAT g). */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/arena.h"
#include "../app/job.h"
#include "../app/joblist.h"
#include "../app/jobquery.h"
#include "../app/jsonio.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/usercfg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* the filter form's current values and choices */
static void form_model(struct req *r, const struct job_filter *f, const struct job_sort *s,
		       const struct joblist_page *p, struct json_object *m)
{
	struct json_object *form = json_object_new_object();
	struct json_object *clusters = json_object_new_array();
	const struct archive *ar = the_app->archive;
	for (size_t i = 0; ar && i < ar->nclusters; i++) {
		struct json_object *c = json_object_new_object();
		add_s(c, "name", ar->clusters[i].name);
		if (f->cluster && strcmp(f->cluster, ar->clusters[i].name) == 0)
			json_object_object_add(c, "selected", json_object_new_boolean(1));
		json_object_array_add(clusters, c);
	}
	json_object_object_add(form, "clusters", clusters);
	struct json_object *states = json_object_new_array();
	for (int st = 0; st < JOB_STATE__MAX; st++) {
		struct json_object *o = json_object_new_object();
		add_s(o, "name", job_state_name((enum job_state)st));
		if (f->states & (1u << st))
			json_object_object_add(o, "checked", json_object_new_boolean(1));
		json_object_array_add(states, o);
	}
	json_object_object_add(form, "states", states);
	add_s(form, "user", f->nusers == 1 ? f->users[0] : "");
	add_s(form, "project", f->project);
	add_s(form, "jobName", f->job_name);
	add_s(form, "node", f->node);
	const char *jid = req_param(r, "jobId");
	add_s(form, "jobId", jid);
	static const char *const ranges[] = {"duration", "numNodes"};
	for (size_t i = 0; i < 2; i++)
		add_s(form, ranges[i], req_param(r, ranges[i]));
	static const char *const presets[] = {"", "last6h", "last24h", "last7d", "last30d"};
	struct json_object *st = json_object_new_array();
	for (size_t i = 0; i < 5; i++) {
		struct json_object *o = json_object_new_object();
		add_s(o, "value", presets[i]);
		add_s(o, "label", i == 0 ? "any time" : presets[i]);
		const char *cur = f->start_time_name ? f->start_time_name : "";
		if (strcmp(cur, presets[i]) == 0)
			json_object_object_add(o, "selected", json_object_new_boolean(1));
		json_object_array_add(st, o);
	}
	json_object_object_add(form, "start_presets", st);
	static const struct {
		const char *value, *label;
		enum job_sort_key key;
	} sorts[] = {
		{"startTime", "Start time", SORT_START_TIME}, {"duration", "Duration", SORT_DURATION},
		{"numNodes", "Nodes", SORT_NUM_NODES}, {"numHWThreads", "HW threads", SORT_NUM_HWTHREADS},
		{"numAcc", "Accelerators", SORT_NUM_ACC}, {"energy", "Energy", SORT_ENERGY},
	};
	struct json_object *so = json_object_new_array();
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		struct json_object *o = json_object_new_object();
		add_s(o, "value", sorts[i].value);
		add_s(o, "label", sorts[i].label);
		if (s->key == sorts[i].key)
			json_object_object_add(o, "selected", json_object_new_boolean(1));
		json_object_array_add(so, o);
	}
	if (s->key == SORT_FOOTPRINT) {
		struct json_object *o = json_object_new_object();
		add_s(o, "value", s->footprint);
		add_s(o, "label", s->footprint);
		json_object_object_add(o, "selected", json_object_new_boolean(1));
		json_object_array_add(so, o);
	}
	json_object_object_add(form, "sorts", so);
	json_object_object_add(form, "asc", json_object_new_boolean(!s->desc));
	static const int sizes[] = {10, 25, 50, 100};
	struct json_object *ps = json_object_new_array();
	for (size_t i = 0; i < 4; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "value", json_object_new_int(sizes[i]));
		if (p->items_per_page == sizes[i])
			json_object_object_add(o, "selected", json_object_new_boolean(1));
		json_object_array_add(ps, o);
	}
	json_object_object_add(form, "page_sizes", ps);
	json_object_object_add(m, "form", form);
}

int h_jobs_list(struct req *r, struct resp *w)
{
	struct job_filter f;
	struct job_sort s;
	struct joblist_page p;
	char err[256];
	if (jobquery_filter_from_params(r->a, &r->params, (int64_t)time(NULL), &f, err, sizeof(err)) < 0 ||
	    jobquery_sort_from_params(&r->params, &s, err, sizeof(err)) < 0 ||
	    joblist_page_from_params(&r->params, &p, err, sizeof(err)) < 0) {
		w->error = arena_strdup(r->a, err);
		return 400;
	}
	if (!req_param(r, "itemsPerPage")) /* the user's setting (/config/) when the URL says nothing */
		p.items_per_page = usercfg_jobs_per_page(usercfg_load(r));
	struct json_object *m = page_model(r, w, "Jobs");
	form_model(r, &f, &s, &p, m);
	if (joblist_fill(r, &f, &s, &p, m, err, sizeof(err)) < 0) {
		w->error = "The job list could not be read from the database.";
		return 503;
	}
	return page_render(r, w, 200, "jobs", m);
}
