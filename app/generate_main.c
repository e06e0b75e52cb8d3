/* jobscope-generate: write a synthetic job archive (see generate.h).
 *
 *   jobscope-generate -archive DIR [-cluster FILE]... -jobs N -seed S [-days D]
 *                     [-end EPOCH] [-users U] [-projects P] [-meta-only] [-threads T]
 *
 * The same seed, arguments and -end give byte-identical files, whatever
 * -threads says; without -end the window ends now. */
#include "config.h"
#include "generate.h"
#include "flags.h"
#include "jsonio.h"
#include "str.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLUSTER_FILES 64

static struct {
	const char *archive;
	const char *clusters[MAX_CLUSTER_FILES];
	size_t nclusters;
	int64_t jobs, seed, days, end, users, projects, threads;
	bool meta_only, help;
} fl;
static struct flag_list cluster_list = {fl.clusters, 0, MAX_CLUSTER_FILES};

static const struct flag flagdefs[] = {
	{"archive", FLAG_STR, &fl.archive, 0, 0, "DIR: the job archive to write (created when missing)"},
	{"cluster", FLAG_LIST, &cluster_list, 0, 0, "FILE: a cluster.json to copy into the archive (repeatable; default: the archive's clusters)"},
	{"jobs", FLAG_INT, &fl.jobs, 1, GEN_MAX_JOBS, "N: number of jobs (default 1000)"},
	{"seed", FLAG_INT, &fl.seed, 0, INT64_MAX, "S: random seed (default 1)"},
	{"days", FLAG_INT, &fl.days, 1, 3650, "D: start times fall into the D days before -end (default 30)"},
	{"end", FLAG_INT, &fl.end, 86400 * 3650LL, 4102444800LL, "EPOCH: end of the time window (default now; give it for identical output)"},
	{"users", FLAG_INT, &fl.users, 1, 100000, "U: number of users (default 150)"},
	{"projects", FLAG_INT, &fl.projects, 1, 100000, "P: number of projects (default 40)"},
	{"meta-only", FLAG_BOOL, &fl.meta_only, 0, 0, "write meta.json with statistics but no data files"},
	{"threads", FLAG_INT, &fl.threads, 1, 256, "T: worker threads (default: the number of cores)"},
	{"help", FLAG_BOOL, &fl.help, 0, 0, "this text"},
};
#define NFLAGS (sizeof(flagdefs) / sizeof(flagdefs[0]))

static void usage(FILE *f)
{
	flags_usage(f, "jobscope-generate -archive DIR [-cluster FILE]... [flags]", flagdefs, NFLAGS);
}

static int parse_flags(int argc, char **argv)
{
	if (flags_parse("jobscope-generate", flagdefs, NFLAGS, argc, argv) < 0)
		return -1;
	fl.nclusters = cluster_list.n;
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_options o;
	gen_options_init(&o);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	fl.jobs = o.jobs;
	fl.seed = (int64_t)o.seed;
	fl.days = o.days;
	fl.end = o.end;
	fl.users = o.users;
	fl.projects = o.projects;
	fl.threads = cores > 0 ? cores : 1;
	if (parse_flags(argc, argv) < 0)
		return 2;
	if (fl.help) {
		usage(stdout);
		return 0;
	}
	if (!fl.archive || !*fl.archive) {
		fprintf(stderr, "jobscope-generate: -archive DIR is required (see -help)\n");
		return 2;
	}
	jsonio_init();
	/* each job's data comes and goes in blocks of megabytes: keep them in
	 * the heap rather than mapping and faulting them in anew for every job */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	o.archive = fl.archive;
	o.clusters = fl.clusters;
	o.nclusters = fl.nclusters;
	o.jobs = fl.jobs;
	o.seed = (uint64_t)fl.seed;
	o.days = (int)fl.days;
	o.end = fl.end;
	o.users = (int)fl.users;
	o.projects = (int)fl.projects;
	o.meta_only = fl.meta_only;
	o.threads = (int)fl.threads;
	o.progress = isatty(fileno(stderr)) ? stderr : NULL;

	struct gen_summary s;
	char err[1024];
	if (gen_run(&o, &s, err, sizeof(err)) < 0) {
		fprintf(stderr, "jobscope-generate: %s\n", err);
		return 1;
	}
	printf("generated %lld jobs in %s (", (long long)s.jobs, o.archive);
	for (size_t i = 0; i < s.nclusters; i++)
		printf("%s%s %lld", i ? ", " : "", s.clusters[i], (long long)s.cluster_jobs[i]);
	printf("): %lld files, %.1f MB, %.1f s (%.0f jobs/s)\n", (long long)s.files, (double)s.bytes / 1e6, s.seconds,
	       s.seconds > 0 ? (double)s.jobs / s.seconds : 0.0);
	return 0;
}
