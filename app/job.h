/* job: cc-backend's Job object (COMPAT a.3) in C, decoded from and encoded to
 * its JSON (meta.json, start_job bodies, API answers).
 *
 * A job's strings and arrays live in the arena passed to the decoder; json-c
 * members (metaData, footprint, ...) are registered in that arena's cleanup. */
#ifndef JOBSCOPE_JOB_H
#define JOBSCOPE_JOB_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum job_state {
	JOB_BOOT_FAIL, JOB_CANCELLED, JOB_COMPLETED, JOB_DEADLINE, JOB_FAILED, JOB_NODE_FAIL,
	JOB_OUT_OF_MEMORY, JOB_PENDING, JOB_PREEMPTED, JOB_RUNNING, JOB_SUSPENDED, JOB_TIMEOUT,
	JOB_STATE__MAX
};
enum job_shared { JOB_SHARED_NONE, JOB_SHARED_SINGLE_USER, JOB_SHARED_MULTI_USER, JOB_SHARED__MAX };

struct job_resource {
	const char *hostname;
	int32_t *hwthreads;
	size_t nhwthreads;
	const char **accelerators;
	size_t naccelerators;
	const char *configuration;  /* NULL when absent */
};

struct job_tag {
	int64_t id;
	const char *type, *name, *scope;
};

struct job {
	int64_t id;                 /* database id; 0 = none */
	int64_t job_id;
	const char *cluster, *subcluster, *partition, *project, *user;
	enum job_shared shared;
	enum job_state state;
	struct job_tag *tags;
	size_t ntags;
	struct job_resource *resources;
	size_t nresources;
	struct json_object *meta_data;        /* object of strings, or NULL */
	struct json_object *footprint;        /* object metric_stat -> number, or NULL */
	struct json_object *energy_footprint; /* object metric -> kWh, or NULL */
	struct json_object *statistics;       /* metric -> {unit,avg,min,max}, or NULL */
	double energy;
	int64_t array_job_id, walltime, requested_memory, submit_time, start_time;
	int32_t duration, smt, monitoring_status, num_acc, num_hwthreads, num_nodes;
	bool has_state, has_shared, has_monitoring_status, has_start_time;
};

enum job_decode_flags {
	JOB_STRICT = 1 << 0,   /* unknown keys are errors (REST bodies, -import-job) */
	JOB_LEGACY = 1 << 1,   /* accept the old integer "exclusive" and map it to "shared" */
};

const char *job_state_name(enum job_state s);
int job_state_parse(const char *s, enum job_state *out);  /* -1 if unknown */
const char *job_shared_name(enum job_shared s);
int job_shared_parse(const char *s, enum job_shared *out);

/* Decode a Job object.  Keys match case-insensitively, as Go's decoder does.
 * -1 with a sentence in err ("numNodes: expected an integer, got a string",
 * "json: unknown field \"foo\""). */
int job_from_json(struct arena *a, struct json_object *o, unsigned flags, struct job *out,
		  char *err, size_t errlen);
/* Parse text and decode. */
int job_parse(struct arena *a, const char *text, size_t len, unsigned flags, struct job *out,
	      char *err, size_t errlen);

enum job_encode_flags {
	JOB_WITH_STATISTICS = 1 << 0, /* meta.json has statistics; API answers mostly not */
	JOB_WITH_META = 1 << 1,       /* include metaData */
};
/* Encode in cc-backend's field order with its omitempty rules; the caller owns the result. */
struct json_object *job_to_json(const struct job *j, unsigned flags);
/* resources as a JSON array (for the database's jsonb column) */
struct json_object *job_resources_json(const struct job *j);
const char *job_meta(const struct job *j, const char *key);

#endif
