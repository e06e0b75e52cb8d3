#include "config.h"
#include "job.h"
#include "arena.h"
#include "jsonio.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const state_names[JOB_STATE__MAX] = {
	[JOB_BOOT_FAIL] = "boot_fail", [JOB_CANCELLED] = "cancelled", [JOB_COMPLETED] = "completed",
	[JOB_DEADLINE] = "deadline", [JOB_FAILED] = "failed", [JOB_NODE_FAIL] = "node_fail",
	[JOB_OUT_OF_MEMORY] = "out_of_memory", [JOB_PENDING] = "pending", [JOB_PREEMPTED] = "preempted",
	[JOB_RUNNING] = "running", [JOB_SUSPENDED] = "suspended", [JOB_TIMEOUT] = "timeout",
};
static const char *const shared_names[JOB_SHARED__MAX] = {
	[JOB_SHARED_NONE] = "none", [JOB_SHARED_SINGLE_USER] = "single_user",
	[JOB_SHARED_MULTI_USER] = "multi_user",
};

const char *job_state_name(enum job_state s) { return s < JOB_STATE__MAX ? state_names[s] : "?"; }
const char *job_shared_name(enum job_shared s) { return s < JOB_SHARED__MAX ? shared_names[s] : "?"; }

int job_state_parse(const char *s, enum job_state *out)
{
	for (int i = 0; i < JOB_STATE__MAX; i++)
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum job_state)i;
			return 0;
		}
	return -1;
}

int job_shared_parse(const char *s, enum job_shared *out)
{
	for (int i = 0; i < JOB_SHARED__MAX; i++)
		if (strcmp(s, shared_names[i]) == 0) {
			*out = (enum job_shared)i;
			return 0;
		}
	return -1;
}

enum ftype { F_STR, F_I64, F_I32, F_F64, F_STATE, F_SHARED, F_TAGS, F_RES, F_STRMAP, F_NUMMAP,
	     F_STATS, F_IGNORE, F_EXCLUSIVE };

struct field {
	const char *name;
	enum ftype type;
	size_t off;
};

#define O(m) offsetof(struct job, m)
/* cc-backend's serialisation order (COMPAT a.3) */
static const struct field fields[] = {
	{"cluster", F_STR, O(cluster)},
	{"subCluster", F_STR, O(subcluster)},
	{"partition", F_STR, O(partition)},
	{"project", F_STR, O(project)},
	{"user", F_STR, O(user)},
	{"shared", F_SHARED, 0},
	{"jobState", F_STATE, 0},
	{"tags", F_TAGS, 0},
	{"resources", F_RES, 0},
	{"energyFootprint", F_NUMMAP, O(energy_footprint)},
	{"footprint", F_NUMMAP, O(footprint)},
	{"metaData", F_STRMAP, O(meta_data)},
	{"concurrentJobs", F_IGNORE, 0},
	{"energy", F_F64, O(energy)},
	{"arrayJobId", F_I64, O(array_job_id)},
	{"walltime", F_I64, O(walltime)},
	{"requestedMemory", F_I64, O(requested_memory)},
	{"jobId", F_I64, O(job_id)},
	{"duration", F_I32, O(duration)},
	{"smt", F_I32, O(smt)},
	{"monitoringStatus", F_I32, O(monitoring_status)},
	{"numAcc", F_I32, O(num_acc)},
	{"numHwthreads", F_I32, O(num_hwthreads)},
	{"numNodes", F_I32, O(num_nodes)},
	{"statistics", F_STATS, O(statistics)},
	{"id", F_I64, O(id)},
	{"submitTime", F_I64, O(submit_time)},
	{"startTime", F_I64, O(start_time)},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int type_err(char *err, size_t errlen, const char *key, const char *want, struct json_object *v)
{
	snprintf(err, errlen, "%s: expected %s, got %s", key, want, jsonio_type_name(v));
	return -1;
}

static int get_int(struct json_object *v, const char *key, int64_t min, int64_t max, int64_t *out,
		   char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_int))
		return type_err(err, errlen, key, "an integer", v);
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < min || x > max) {
		snprintf(err, errlen, "%s: %lld is out of range", key, (long long)x);
		return -1;
	}
	*out = x;
	return 0;
}

static const char *dup_str(struct arena *a, struct json_object *v)
{
	return arena_strndup(a, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

static int decode_resources(struct arena *a, struct json_object *v, unsigned flags, struct job *j,
			    char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return type_err(err, errlen, "resources", "an array", v);
	size_t n = json_object_array_length(v);
	j->resources = arena_calloc(a, n ? n : 1, sizeof(*j->resources));
	j->nresources = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(v, i);
		struct job_resource *res = &j->resources[i];
		char key[64];
		snprintf(key, sizeof(key), "resources[%zu]", i);
		if (!json_object_is_type(r, json_type_object))
			return type_err(err, errlen, key, "an object", r);
		json_object_object_foreach(r, k, rv) {
			if (json_object_is_type(rv, json_type_null))
				continue;
			if (strcasecmp(k, "hostname") == 0) {
				if (!json_object_is_type(rv, json_type_string))
					return type_err(err, errlen, "resources[].hostname", "a string", rv);
				res->hostname = dup_str(a, rv);
			} else if (strcasecmp(k, "configuration") == 0) {
				if (!json_object_is_type(rv, json_type_string))
					return type_err(err, errlen, "resources[].configuration", "a string", rv);
				res->configuration = dup_str(a, rv);
			} else if (strcasecmp(k, "hwthreads") == 0) {
				if (!json_object_is_type(rv, json_type_array))
					return type_err(err, errlen, "resources[].hwthreads", "an array of integers", rv);
				size_t m = json_object_array_length(rv);
				res->hwthreads = arena_calloc(a, m ? m : 1, sizeof(int32_t));
				res->nhwthreads = m;
				for (size_t t = 0; t < m; t++) {
					int64_t x;
					if (get_int(json_object_array_get_idx(rv, t), "resources[].hwthreads[]", 0, INT32_MAX, &x, err, errlen) < 0)
						return -1;
					res->hwthreads[t] = (int32_t)x;
				}
			} else if (strcasecmp(k, "accelerators") == 0) {
				if (!json_object_is_type(rv, json_type_array))
					return type_err(err, errlen, "resources[].accelerators", "an array of strings", rv);
				size_t m = json_object_array_length(rv);
				res->accelerators = arena_calloc(a, m ? m : 1, sizeof(char *));
				res->naccelerators = m;
				for (size_t t = 0; t < m; t++) {
					struct json_object *e = json_object_array_get_idx(rv, t);
					if (!json_object_is_type(e, json_type_string))
						return type_err(err, errlen, "resources[].accelerators[]", "a string", e);
					res->accelerators[t] = dup_str(a, e);
				}
			} else if (flags & JOB_STRICT) {
				snprintf(err, errlen, "json: unknown field \"%s\"", k);
				return -1;
			}
		}
		if (!res->hostname)
			res->hostname = "";
	}
	return 0;
}

static int decode_tags(struct arena *a, struct json_object *v, unsigned flags, struct job *j,
		       char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return type_err(err, errlen, "tags", "an array", v);
	size_t n = json_object_array_length(v);
	j->tags = arena_calloc(a, n ? n : 1, sizeof(*j->tags));
	j->ntags = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(v, i);
		struct job_tag *tag = &j->tags[i];
		if (!json_object_is_type(t, json_type_object))
			return type_err(err, errlen, "tags[]", "an object", t);
		json_object_object_foreach(t, k, tv) {
			if (json_object_is_type(tv, json_type_null))
				continue;
			const char **dst = strcasecmp(k, "type") == 0 ? &tag->type :
					   strcasecmp(k, "name") == 0 ? &tag->name :
					   strcasecmp(k, "scope") == 0 ? &tag->scope : NULL;
			if (strcasecmp(k, "id") == 0) {
				if (get_int(tv, "tags[].id", 0, INT64_MAX, &tag->id, err, errlen) < 0)
					return -1;
			} else if (dst) {
				if (!json_object_is_type(tv, json_type_string))
					return type_err(err, errlen, "tags[].type/name/scope", "a string", tv);
				*dst = dup_str(a, tv);
			} else if (flags & JOB_STRICT) {
				snprintf(err, errlen, "json: unknown field \"%s\"", k);
				return -1;
			}
		}
		if (!tag->type)
			tag->type = "";
		if (!tag->name)
			tag->name = "";
		if (!tag->scope || !*tag->scope)
			tag->scope = "global";
	}
	return 0;
}

static int check_map(struct json_object *v, const char *key, bool strings, char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return type_err(err, errlen, key, "an object", v);
	json_object_object_foreach(v, k, mv) {
		(void)k;
		if (strings ? !json_object_is_type(mv, json_type_string)
			    : !(json_object_is_type(mv, json_type_int) || json_object_is_type(mv, json_type_double)))
			return type_err(err, errlen, key, strings ? "an object of strings" : "an object of numbers", mv);
	}
	return 0;
}

static int set_field(struct arena *a, const struct field *f, struct json_object *v, unsigned flags,
		     struct job *j, char *err, size_t errlen)
{
	char *base = (char *)j;
	int64_t x;
	if (json_object_is_type(v, json_type_null))
		return 0; /* as Go: null leaves the field alone */
	switch (f->type) {
	case F_STR:
		if (!json_object_is_type(v, json_type_string))
			return type_err(err, errlen, f->name, "a string", v);
		*(const char **)(base + f->off) = dup_str(a, v);
		return 0;
	case F_I64:
		if (get_int(v, f->name, INT64_MIN, INT64_MAX, &x, err, errlen) < 0)
			return -1;
		*(int64_t *)(base + f->off) = x;
		if (f->off == O(start_time))
			j->has_start_time = true;
		return 0;
	case F_I32:
		if (get_int(v, f->name, INT32_MIN, INT32_MAX, &x, err, errlen) < 0)
			return -1;
		*(int32_t *)(base + f->off) = (int32_t)x;
		if (f->off == O(monitoring_status))
			j->has_monitoring_status = true;
		return 0;
	case F_F64:
		if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
			return type_err(err, errlen, f->name, "a number", v);
		*(double *)(base + f->off) = json_object_get_double(v);
		return 0;
	case F_STATE:
		if (!json_object_is_type(v, json_type_string))
			return type_err(err, errlen, f->name, "a string", v);
		if (json_object_get_string_len(v) == 0)
			return 0; /* cc-slurm-adapter sends "" at start */
		if (job_state_parse(json_object_get_string(v), &j->state) < 0) {
			snprintf(err, errlen, "jobState: invalid job state \"%.40s\"", json_object_get_string(v));
			return -1;
		}
		j->has_state = true;
		return 0;
	case F_SHARED:
		if (!json_object_is_type(v, json_type_string))
			return type_err(err, errlen, f->name, "a string", v);
		if (json_object_get_string_len(v) == 0)
			return 0;
		if (job_shared_parse(json_object_get_string(v), &j->shared) < 0) {
			snprintf(err, errlen, "shared: expected none, single_user or multi_user, got \"%.40s\"", json_object_get_string(v));
			return -1;
		}
		j->has_shared = true;
		return 0;
	case F_EXCLUSIVE:
		/* archive v1/v2 and cc-slurm-sync: 0 -> multi_user, 1 -> none, 2 -> single_user */
		if (get_int(v, "exclusive", 0, 2, &x, err, errlen) < 0)
			return -1;
		if (!j->has_shared) {
			j->shared = x == 0 ? JOB_SHARED_MULTI_USER : x == 1 ? JOB_SHARED_NONE : JOB_SHARED_SINGLE_USER;
			j->has_shared = true;
		}
		return 0;
	case F_TAGS:
		return decode_tags(a, v, flags, j, err, errlen);
	case F_RES:
		return decode_resources(a, v, flags, j, err, errlen);
	case F_STRMAP:
	case F_NUMMAP:
		if (check_map(v, f->name, f->type == F_STRMAP, err, errlen) < 0)
			return -1;
		*(struct json_object **)(base + f->off) = arena_cleanup_add(a, jsonio_put, json_object_get(v));
		return 0;
	case F_STATS:
		if (!json_object_is_type(v, json_type_object))
			return type_err(err, errlen, f->name, "an object", v);
		*(struct json_object **)(base + f->off) = arena_cleanup_add(a, jsonio_put, json_object_get(v));
		return 0;
	case F_IGNORE:
		return 0;
	}
	return 0;
}

int job_from_json(struct arena *a, struct json_object *o, unsigned flags, struct job *j,
		  char *err, size_t errlen)
{
	memset(j, 0, sizeof(*j));
	j->smt = 1;
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "expected a JSON object, got %s", o ? jsonio_type_name(o) : "nothing");
		return -1;
	}
	static const struct field exclusive = {"exclusive", F_EXCLUSIVE, 0};
	json_object_object_foreach(o, k, v) {
		const struct field *f = NULL;
		for (size_t i = 0; i < NFIELDS; i++)
			if (strcasecmp(k, fields[i].name) == 0) {
				f = &fields[i];
				break;
			}
		if (!f && strcasecmp(k, "exclusive") == 0 && (flags & JOB_LEGACY || !(flags & JOB_STRICT)))
			f = &exclusive;
		if (!f) {
			if (flags & JOB_STRICT) {
				snprintf(err, errlen, "json: unknown field \"%.60s\"", k);
				return -1;
			}
			continue; /* archives carry extra keys (stopTime, ...) */
		}
		if (set_field(a, f, v, flags, j, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int job_parse(struct arena *a, const char *text, size_t len, unsigned flags, struct job *out,
	      char *err, size_t errlen)
{
	struct json_object *o = jsonio_parse(text, len, err, errlen);
	if (!o)
		return -1;
	arena_cleanup_add(a, jsonio_put, o);
	return job_from_json(a, o, flags, out, err, errlen);
}

const char *job_meta(const struct job *j, const char *key)
{
	return j->meta_data ? jsonio_str(j->meta_data, key) : NULL;
}

struct json_object *job_resources_json(const struct job *j)
{
	struct json_object *arr = json_object_new_array_ext((int)j->nresources);
	for (size_t i = 0; i < j->nresources; i++) {
		const struct job_resource *r = &j->resources[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "hostname", json_object_new_string(r->hostname));
		if (r->nhwthreads) {
			struct json_object *h = json_object_new_array_ext((int)r->nhwthreads);
			for (size_t t = 0; t < r->nhwthreads; t++)
				json_object_array_add(h, json_object_new_int(r->hwthreads[t]));
			json_object_object_add(o, "hwthreads", h);
		}
		if (r->naccelerators) {
			struct json_object *acc = json_object_new_array_ext((int)r->naccelerators);
			for (size_t t = 0; t < r->naccelerators; t++)
				json_object_array_add(acc, json_object_new_string(r->accelerators[t]));
			json_object_object_add(o, "accelerators", acc);
		}
		if (r->configuration && *r->configuration)
			json_object_object_add(o, "configuration", json_object_new_string(r->configuration));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *map_or_null(struct json_object *m)
{
	return m ? json_object_get(m) : NULL;
}

struct json_object *job_to_json(const struct job *j, unsigned flags)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "cluster", json_object_new_string(j->cluster ? j->cluster : ""));
	json_object_object_add(o, "subCluster", json_object_new_string(j->subcluster ? j->subcluster : ""));
	if (j->partition && *j->partition)
		json_object_object_add(o, "partition", json_object_new_string(j->partition));
	json_object_object_add(o, "project", json_object_new_string(j->project ? j->project : ""));
	json_object_object_add(o, "user", json_object_new_string(j->user ? j->user : ""));
	json_object_object_add(o, "shared", json_object_new_string(job_shared_name(j->shared)));
	json_object_object_add(o, "jobState", json_object_new_string(job_state_name(j->state)));
	if (j->ntags) {
		struct json_object *tags = json_object_new_array_ext((int)j->ntags);
		for (size_t i = 0; i < j->ntags; i++) {
			struct json_object *t = json_object_new_object();
			json_object_object_add(t, "id", json_object_new_int64(j->tags[i].id));
			json_object_object_add(t, "type", json_object_new_string(j->tags[i].type));
			json_object_object_add(t, "name", json_object_new_string(j->tags[i].name));
			json_object_object_add(t, "scope", json_object_new_string(j->tags[i].scope));
			json_object_array_add(tags, t);
		}
		json_object_object_add(o, "tags", tags);
	}
	json_object_object_add(o, "resources", job_resources_json(j));
	json_object_object_add(o, "energyFootprint", map_or_null(j->energy_footprint));
	json_object_object_add(o, "footprint", map_or_null(j->footprint));
	json_object_object_add(o, "metaData", flags & JOB_WITH_META ? map_or_null(j->meta_data) : NULL);
	struct json_object *cj = json_object_new_object();
	json_object_object_add(cj, "items", NULL);
	json_object_object_add(cj, "count", json_object_new_int(0));
	json_object_object_add(o, "concurrentJobs", cj);
	json_object_object_add(o, "energy", json_object_new_double(round(j->energy * 100) / 100));
	if (j->array_job_id)
		json_object_object_add(o, "arrayJobId", json_object_new_int64(j->array_job_id));
	if (j->walltime)
		json_object_object_add(o, "walltime", json_object_new_int64(j->walltime));
	if (j->requested_memory)
		json_object_object_add(o, "requestedMemory", json_object_new_int64(j->requested_memory));
	json_object_object_add(o, "jobId", json_object_new_int64(j->job_id));
	json_object_object_add(o, "duration", json_object_new_int(j->duration));
	if (j->smt)
		json_object_object_add(o, "smt", json_object_new_int(j->smt));
	if (j->monitoring_status)
		json_object_object_add(o, "monitoringStatus", json_object_new_int(j->monitoring_status));
	if (j->num_acc)
		json_object_object_add(o, "numAcc", json_object_new_int(j->num_acc));
	if (j->num_hwthreads)
		json_object_object_add(o, "numHwthreads", json_object_new_int(j->num_hwthreads));
	json_object_object_add(o, "numNodes", json_object_new_int(j->num_nodes));
	json_object_object_add(o, "statistics", flags & JOB_WITH_STATISTICS ? map_or_null(j->statistics) : NULL);
	if (j->id)
		json_object_object_add(o, "id", json_object_new_int64(j->id));
	if (j->submit_time)
		json_object_object_add(o, "submitTime", json_object_new_int64(j->submit_time));
	json_object_object_add(o, "startTime", json_object_new_int64(j->start_time));
	return o;
}
