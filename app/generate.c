/* generate: a synthetic job archive; see generate.h.
 *
 * Layout of this file: the random number generator, node-list expansion,
 * the fixed tables (applications, states, words), the shared context (hosts,
 * users, projects, the time distribution), the plan of one job (everything
 * meta.json says), the metric model (phases per node, one formula per metric
 * family), meta.json, and the worker threads.
 *
 * Each job draws from two streams seeded by (seed, index): one for the plan,
 * one for the data, so that -meta-only and a full run describe the same jobs. */
#include "config.h"
#include "generate.h"
#include "archive.h"
#include "arena.h"
#include "buf.h"
#include "cluster.h"
#include "conf.h"
#include "job.h"
#include "jobdata.h"
#include "jsonio.h"
#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ====================================================================== rng
 * xoshiro256** seeded through splitmix64: small, fast, and the same
 * sequence on every platform, unlike rand(). */

struct rng {
	uint64_t s[4];
};

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t x = mix64(mix64(seed) ^ (stream * 0xd1342543de82ef95ULL)) ^ mix64(index + 0x632be59bd9b4e019ULL);
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		r->s[i] = mix64(x);
	}
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return out;
}

/* [0, 1) */
static inline double rng_unif(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* (-1, 1), triangular: the sum of two uniforms, cheap noise with a peak at 0 */
static inline double rng_tri(struct rng *r)
{
	uint64_t x = rng_next(r);
	return ((double)(x >> 32) + (double)(x & 0xffffffffu)) * 0x1p-32 - 1.0;
}

/* [0, n) */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_unif(r);
}

/* log-uniform in [lo, hi]: as many jobs of minutes as of hours as of days */
static double rng_logu(struct rng *r, double lo, double hi)
{
	return exp(log(lo) + (log(hi) - log(lo)) * rng_unif(r));
}

static bool rng_chance(struct rng *r, double p)
{
	return rng_unif(r) < p;
}

static size_t rng_weighted(struct rng *r, const double *w, size_t n)
{
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += w[i];
	double x = rng_unif(r) * total;
	for (size_t i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* index into a cumulative distribution (cdf[n-1] == 1) */
static size_t cdf_pick(const double *cdf, size_t n, double u)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ============================================================ node lists */

struct strvec {
	char **v;
	size_t n, cap;
};

static void strvec_push(struct strvec *sv, const char *s, size_t len)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 64;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = xstrndup(s, len);
}

#define GEN_HOST_MAX 255

/* Expand p..end (one term, already checked by nodelist_parse) after the
 * name[0..len) built so far: literal runs are appended, each number of a
 * bracket group in turn, zero-padded to its digit count. */
static void expand_term(const char *p, const char *end, char *name, size_t len, struct strvec *out, size_t max)
{
	if (out->n >= max)
		return;
	if (p == end) {
		strvec_push(out, name, len);
		return;
	}
	if (*p != '[') {
		const char *q = p;
		while (q < end && *q != '[')
			q++;
		if (len + (size_t)(q - p) > GEN_HOST_MAX)
			return;
		memcpy(name + len, p, (size_t)(q - p));
		expand_term(q, end, name, len + (size_t)(q - p), out, max);
		return;
	}
	const char *close = memchr(p, ']', (size_t)(end - p));
	if (!close)
		return;
	const char *r = p + 1;
	while (r < close && out->n < max) {
		char *e;
		unsigned long long lo = strtoull(r, &e, 10), hi = lo;
		int digits = (int)(e - r);
		if (*e == '-')
			hi = strtoull(e + 1, &e, 10);
		for (unsigned long long v = lo; v <= hi && out->n < max; v++) {
			if (len + (size_t)digits > GEN_HOST_MAX)
				return;
			char num[32];
			snprintf(num, sizeof(num), "%0*llu", digits, v);
			memcpy(name + len, num, (size_t)digits);
			expand_term(close + 1, end, name, len + (size_t)digits, out, max);
		}
		r = *e == ',' ? e + 1 : close;
	}
}

int gen_expand_nodes(const char *expr, size_t max, char ***hosts, size_t *n, char *err, size_t errlen)
{
	*hosts = NULL;
	*n = 0;
	if (!expr || !*expr || strcmp(expr, "*") == 0)
		return 0;
	/* the grammar (and its messages) is the cluster module's */
	struct nodelist *nl = nodelist_parse(expr, err, errlen);
	if (!nl)
		return -1;
	nodelist_free(nl);
	struct strvec out = {0};
	char name[GEN_HOST_MAX + 1];
	const char *p = expr;
	while (*p && out.n < max) {
		const char *q = p;
		int depth = 0;
		while (*q && (*q != ',' || depth)) {
			depth += *q == '[' ? 1 : *q == ']' ? -1 : 0;
			q++;
		}
		expand_term(p, q, name, 0, &out, max);
		p = *q ? q + 1 : q;
	}
	*hosts = out.v;
	*n = out.n;
	return 0;
}

/* Compress sorted host names back into Slurm's notation for slurmInfo:
 * h0001,h0002,h0003,h0007 -> h[0001-0003,0007]. */
static void hostlist_compress(const char *const *hosts, size_t n, struct buf *out)
{
	size_t i = 0;
	while (i < n) {
		const char *h = hosts[i];
		size_t len = strlen(h), d = len;
		while (d > 0 && h[d - 1] >= '0' && h[d - 1] <= '9')
			d--;
		size_t digits = len - d;
		if (i)
			buf_addch(out, ',');
		if (digits == 0 || digits > 18) {
			buf_adds(out, h);
			i++;
			continue;
		}
		/* the run of hosts with the same prefix and digit count */
		size_t j = i + 1;
		while (j < n && strlen(hosts[j]) == len && strncmp(hosts[j], h, d) == 0 &&
		       strspn(hosts[j] + d, "0123456789") == digits)
			j++;
		if (j == i + 1) {
			buf_adds(out, h);
			i++;
			continue;
		}
		buf_add(out, h, d);
		buf_addch(out, '[');
		size_t k = i;
		while (k < j) {
			unsigned long long a = strtoull(hosts[k] + d, NULL, 10), b = a;
			size_t m = k + 1;
			while (m < j && strtoull(hosts[m] + d, NULL, 10) == b + 1) {
				b++;
				m++;
			}
			if (k > i)
				buf_addch(out, ',');
			if (a == b)
				buf_addf(out, "%0*llu", (int)digits, a);
			else
				buf_addf(out, "%0*llu-%0*llu", (int)digits, a, (int)digits, b);
			k = m;
		}
		buf_addch(out, ']');
		i = j;
	}
}

/* ================================================================ tables */

enum gen_kind { KIND_COMPUTE, KIND_MEMORY, KIND_MIXED, KIND_IO, KIND_IDLE };

/* An application: how its jobs are named, what their scripts say and how they
 * behave.  The script lines outside comments are chosen so that cc-backend's
 * AppTagger patterns (configs/tagger/apps) find exactly the tags listed. */
struct gen_app {
	const char *name;
	const char *tags[2];
	const char *modules;
	const char *run_cpu, *run_gpu; /* NULL: no such runs */
	const char *stems[4];
	enum gen_kind kind;
	bool mpi;       /* runs on many nodes */
	bool shared;    /* usually a part of one node */
	double weight;
	double mem;     /* memory per node, a fraction of the node's */
};

static const struct gen_app apps[] = {
	{"vasp", {"vasp"}, "intel/2022.1 intelmpi/2021.6 vasp/6.4.1",
	 "srun vasp_std", NULL, {"relax", "scf", "md", "bands"}, KIND_MIXED, true, false, 14, 0.35},
	{"gromacs", {"gromacs"}, "gcc/11.2.0 openmpi/4.1.4 gromacs/2023.2",
	 "srun gmx_mpi mdrun -deffnm md -maxh 23.5", "srun gmx mdrun -nb gpu -pme gpu -bonded gpu -deffnm md",
	 {"md", "npt", "nvt", "em"}, KIND_COMPUTE, true, false, 12, 0.08},
	{"lammps", {"lammps"}, "gcc/11.2.0 openmpi/4.1.4 lammps/2Aug2023",
	 "srun lmp -in in.melt", "srun lmp -sf gpu -pk gpu 4 -in in.lj", {"melt", "shear", "crack", "poly"},
	 KIND_COMPUTE, true, false, 8, 0.06},
	{"openfoam", {"openfoam"}, "openfoam/v2306",
	 "decomposePar -force\nsrun simpleFoam -parallel\nreconstructPar -latestTime", NULL,
	 {"pitzDaily", "motorBike", "channel395", "airfoil2D"}, KIND_MEMORY, true, false, 9, 0.25},
	{"cp2k", {"cp2k"}, "intel/2022.1 intelmpi/2021.6 cp2k/2023.1",
	 "srun cp2k.psmp -i H2O-64.inp -o out.log", NULL, {"h2o", "aimd", "geo_opt", "cell_opt"},
	 KIND_MIXED, true, false, 6, 0.3},
	{"qe", {NULL}, "intel/2022.1 intelmpi/2021.6 qe/7.2",
	 "srun pw.x -nk 4 -in scf.in > scf.out", NULL, {"scf", "nscf", "relax", "phonon"},
	 KIND_MIXED, true, false, 5, 0.3},
	{"wrf", {NULL}, "intel/2022.1 intelmpi/2021.6 netcdf-fortran/4.6 wrf/4.5",
	 "srun ./wrf.exe", NULL, {"europe_12km", "conus", "ensemble", "nest"}, KIND_MEMORY, true, false, 5, 0.2},
	{"namd", {NULL}, "namd/3.0",
	 "srun namd3 +setcpuaffinity apoa1.namd", "srun namd3 +devices 0,1,2,3 stmv.namd",
	 {"apoa1", "stmv", "membrane", "ligand"}, KIND_COMPUTE, true, false, 3, 0.05},
	{"starccm", {"starccm"}, "star-ccm+/18.04",
	 "starccm+ -batch run.java -np $SLURM_NTASKS -podkey $PODKEY model.sim", NULL,
	 {"wing", "manifold", "cooling", "pump"}, KIND_MEMORY, true, false, 3, 0.3},
	{"hpl", {NULL}, "intel/2022.1 intelmpi/2021.6 mkl/2022.1",
	 "srun ./xhpl", NULL, {"linpack", "burnin", "acceptance", "test"}, KIND_COMPUTE, true, false, 1, 0.7},
	{"python", {"python"}, "python/3.10-anaconda",
	 "python3 analyse.py --input $WORK/data", NULL, {"analysis", "postproc", "plot", "preprocess"},
	 KIND_IDLE, false, true, 10, 0.05},
	{"jupyter", {"python"}, "python/3.10-anaconda",
	 "jupyter lab --no-browser --port=8888", NULL, {"notebook", "lab", "session", "explore"},
	 KIND_IDLE, false, true, 4, 0.04},
	{"julia", {"julia"}, "julia/1.9.3",
	 "julia --project=. --threads=$SLURM_CPUS_PER_TASK simulate.jl", NULL, {"sim", "ode", "mc", "sweep"},
	 KIND_MIXED, false, true, 3, 0.1},
	{"matlab", {"matlab"}, "matlab/R2023a",
	 "matlab -nodisplay -nosplash -r \"run_model; exit\"", NULL, {"model", "fit", "sweep", "optim"},
	 KIND_MIXED, false, true, 3, 0.08},
	{"orca", {"orca"}, "orca/5.0.4 openmpi/4.1.1",
	 "orca input.inp > output.out", NULL, {"opt", "freq", "sp", "tddft"}, KIND_MIXED, false, true, 3, 0.15},
	{"rstats", {NULL}, "r/4.3.1",
	 "Rscript --vanilla analysis.R", NULL, {"bootstrap", "gam", "survival", "mixed"}, KIND_IO, false, true, 3, 0.06},
	{"pytorch", {"python"}, "python/3.10-anaconda cuda/12.1",
	 NULL, "conda activate torch\nsrun python train.py --epochs 90", {"train_resnet50", "finetune_bert", "train_unet", "train_vit"},
	 KIND_COMPUTE, true, false, 10, 0.2},
	{"tensorflow", {"python"}, "python/3.10-anaconda cuda/11.8 cudnn/8.6",
	 NULL, "conda activate tf2\nsrun python train_tf.py", {"train_cnn", "train_gan", "inference", "train_lstm"},
	 KIND_COMPUTE, true, false, 4, 0.15},
	{"amber", {NULL}, "amber/22",
	 NULL, "srun pmemd.cuda -O -i md.in -o md.out -p sys.prmtop -c sys.rst7", {"prod", "equil", "heat", "min"},
	 KIND_COMPUTE, false, true, 3, 0.05},
	{"colabfold", {NULL}, "colabfold/1.5.2",
	 NULL, "colabfold_batch queries.fasta results/", {"predict", "complex", "monomer", "screen"},
	 KIND_IO, false, true, 2, 0.3},
};
#define NAPPS (sizeof(apps) / sizeof(apps[0]))

/* tag ids in meta.json: fixed, so that files do not depend on job order */
static const char *const app_tag_names[] = {"vasp", "gromacs", "lammps", "openfoam", "cp2k", "starccm",
					    "python", "julia", "matlab", "orca"};
static const char *const class_tag_names[] = {"lowload", "memorybound", "lowutilization"};

static const struct {
	enum job_state state;
	double weight;
} state_weights[] = {
	{JOB_COMPLETED, 71.5}, {JOB_FAILED, 9}, {JOB_CANCELLED, 8}, {JOB_TIMEOUT, 5.5},
	{JOB_OUT_OF_MEMORY, 2.5}, {JOB_NODE_FAIL, 1.2}, {JOB_PREEMPTED, 1.2}, {JOB_BOOT_FAIL, 0.7},
	{JOB_DEADLINE, 0.4},
};
#define NSTATES (sizeof(state_weights) / sizeof(state_weights[0]))

static const int walltimes[] = {3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600};
static const double walltime_weights[] = {0.32, 0.26, 0.19, 0.16, 0.07};

/* exclusive job sizes in nodes: most 1-4, a tail to 64 */
static const int node_sizes[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
static const double node_weights[] = {46, 18, 3, 13, 2, 7, 1.5, 4, 1, 2.5, 0.5, 1.5};

static const char *const domains[] = {"climate", "astro", "cfd", "chem", "matsci", "bio", "genomics", "qcd",
				      "fusion", "ocean", "seismo", "ml", "combustion", "turbulence", "plasma",
				      "quantum", "polymer", "catalysis", "hydro", "aero", "neuro", "cosmo",
				      "earth", "energy", "solar", "battery", "glacier", "protein"};
static const char *const domain_prefixes[] = {"hpc-", "nhr-", "", "proj-"};

/* ========================================================= shared context */

enum gen_family {
	FAM_LOAD, FAM_USER, FAM_FLOPS_ANY, FAM_FLOPS_DP, FAM_FLOPS_SP, FAM_MEMBW, FAM_CLOCK, FAM_IPC,
	FAM_VEC, FAM_CPU_POWER, FAM_MEM_POWER, FAM_MEM_USED, FAM_IB, FAM_NET, FAM_FILE,
	FAM_GPU_UTIL, FAM_GPU_MEM, FAM_GPU_MEMUTIL, FAM_GPU_POWER, FAM_GPU_CLOCK, FAM_GPU_TEMP,
	FAM_GPU_GENERIC, FAM_GENERIC,
};

struct gen_metric {
	const struct metric_config *mc;
	enum gen_family fam;
	bool sum;      /* node = sum of the finer series, else their average */
	bool acc;      /* native scope accelerator: limits are per device */
	double ref;    /* the scale: node peak (device peak for accelerators), never NaN */
	double normal; /* NaN when absent */
};

struct gen_sub {
	const struct subcluster *sc;
	char **hosts;
	size_t nhosts;
	int nthreads;          /* hardware threads per node */
	int ncores;            /* cores per node (topology "core" groups) */
	int nsockets, nmdoms;
	int *core_socket, *core_mdom; /* per core */
	int *socket_cores, *mdom_cores; /* cores per socket / memory domain */
	size_t ngpus;
	struct gen_metric *metrics;
	size_t nmetrics;
	const char *partition;
};

struct gen_cl {
	const char *name;
	const struct cluster *model;
	struct gen_sub *subs;
	size_t nsubs;
	size_t nhosts;
	int64_t id_base;
	atomic_llong jobs;
};

struct gen_user {
	char name[16];
	int proj[2], nproj;
	int app[2], napps;
	bool gpu;
};

struct gen_ctx {
	const struct gen_options *o;
	struct archive *ar;
	struct gen_cl *cl;
	size_t ncl;
	double *cl_cdf;
	struct gen_user *users;
	int nusers;
	char (*projects)[32];
	int nprojects;
	int *cpu_users, *gpu_users;
	int ncpu_users, ngpu_users;
	double *cpu_cdf, *gpu_cdf;
	double *proj_cdf;
	double *time_cdf;
	size_t nbins;
	int64_t begin, end;

	atomic_llong next, done, files;
	atomic_ullong bytes;
	atomic_int failed;
	pthread_mutex_t lock;
	char err[1024];
};

static double convert_prefix(double v, const char *from, const char *to)
{
	int ef = 0, et = 0;
	if (unit_prefix_exponent(from, &ef) < 0 || unit_prefix_exponent(to, &et) < 0)
		return v;
	return v * pow(10.0, ef - et);
}

static bool name_has(const char *name, const char *part)
{
	return strstr(name, part) != NULL;
}

static enum gen_family family_of(const struct metric_config *mc)
{
	const char *n = mc->name;
	if (mc->scope == SCOPE_ACCELERATOR) {
		if (name_has(n, "util") && name_has(n, "mem"))
			return FAM_GPU_MEMUTIL;
		if (name_has(n, "util"))
			return FAM_GPU_UTIL;
		if (name_has(n, "power"))
			return FAM_GPU_POWER;
		if (name_has(n, "clock"))
			return FAM_GPU_CLOCK;
		if (name_has(n, "temp"))
			return FAM_GPU_TEMP;
		if (name_has(n, "mem"))
			return FAM_GPU_MEM;
		return FAM_GPU_GENERIC;
	}
	if (strcmp(n, "cpu_load") == 0)
		return FAM_LOAD;
	if (strcmp(n, "cpu_user") == 0)
		return FAM_USER;
	if (strcmp(n, "flops_any") == 0)
		return FAM_FLOPS_ANY;
	if (strcmp(n, "flops_dp") == 0)
		return FAM_FLOPS_DP;
	if (strcmp(n, "flops_sp") == 0)
		return FAM_FLOPS_SP;
	if (strcmp(n, "mem_bw") == 0)
		return FAM_MEMBW;
	if (strcmp(n, "mem_used") == 0)
		return FAM_MEM_USED;
	if (strcmp(n, "clock") == 0)
		return FAM_CLOCK;
	if (strcmp(n, "ipc") == 0)
		return FAM_IPC;
	if (name_has(n, "vectori"))
		return FAM_VEC;
	if (strcmp(n, "mem_power") == 0 || strcmp(n, "dram_power") == 0)
		return FAM_MEM_POWER;
	if (name_has(n, "power"))
		return FAM_CPU_POWER;
	if (strncmp(n, "ib_", 3) == 0 || name_has(n, "infiniband") || name_has(n, "opa"))
		return FAM_IB;
	if (strncmp(n, "net_", 4) == 0 || strncmp(n, "eth", 3) == 0)
		return FAM_NET;
	if (name_has(n, "file") || name_has(n, "nfs") || name_has(n, "lustre") || name_has(n, "gpfs") ||
	    strncmp(n, "io_", 3) == 0)
		return FAM_FILE;
	return FAM_GENERIC;
}

/* The scale of a metric on a subcluster: flops and bandwidth are bounded by
 * the hardware as well as by the configured peak. */
static double metric_ref(const struct gen_sub *gs, const struct metric_config *mc, enum gen_family fam)
{
	const struct subcluster *sc = gs->sc;
	double peak = mc->peak;
	double hw = NAN;
	switch (fam) {
	case FAM_LOAD:
		hw = gs->nthreads;
		break;
	case FAM_FLOPS_ANY:
	case FAM_FLOPS_SP:
	case FAM_FLOPS_DP:
		if (sc->flop_rate_simd.value > 0)
			hw = convert_prefix(sc->flop_rate_simd.value, sc->flop_rate_simd.unit.prefix, mc->unit.prefix);
		if (fam == FAM_FLOPS_DP && isfinite(hw))
			hw /= 2;
		break;
	case FAM_MEMBW:
		if (sc->memory_bandwidth.value > 0)
			hw = convert_prefix(sc->memory_bandwidth.value, sc->memory_bandwidth.unit.prefix, mc->unit.prefix);
		break;
	case FAM_USER:
	case FAM_VEC:
	case FAM_GPU_UTIL:
	case FAM_GPU_MEMUTIL:
		hw = 100;
		break;
	default:
		break;
	}
	double ref = isfinite(peak) && peak > 0 ? peak : NAN;
	if (isfinite(hw) && hw > 0 && (!isfinite(ref) || hw < ref))
		ref = hw;
	if (!isfinite(ref))
		ref = isfinite(mc->normal) && mc->normal > 0 ? 2 * mc->normal : 100;
	return ref;
}

static void sub_free(struct gen_sub *gs)
{
	for (size_t i = 0; i < gs->nhosts; i++)
		free(gs->hosts[i]);
	free(gs->hosts);
	free(gs->core_socket);
	free(gs->core_mdom);
	free(gs->socket_cores);
	free(gs->mdom_cores);
	free(gs->metrics);
}

/* Which group of a topology list holds hardware thread hw; -1 if none. */
static int group_of(const struct topo_groups *g, int hw)
{
	for (size_t i = 0; i < g->n; i++)
		for (size_t k = 0; k < g->group[i].n; k++)
			if (g->group[i].id[k] == hw)
				return (int)i;
	return -1;
}

#define GEN_MAX_HOSTS_PER_SUB 200000

static int sub_setup(const struct cluster *c, const struct subcluster *sc, struct gen_sub *gs, char *err, size_t errlen)
{
	memset(gs, 0, sizeof(*gs));
	gs->sc = sc;
	char **all;
	size_t n;
	char nerr[256];
	if (gen_expand_nodes(sc->nodes, GEN_MAX_HOSTS_PER_SUB, &all, &n, nerr, sizeof(nerr)) < 0) {
		snprintf(err, errlen, "cluster %s, subcluster %s: %s", c->name, sc->name, nerr);
		return -1;
	}
	if (n == 0 && (!sc->nodelist || nodelist_is_all(sc->nodelist))) {
		/* "*": no names to take, so make some up in the subcluster's name */
		all = xcalloc(64, sizeof(char *));
		for (n = 0; n < 64; n++) {
			char h[96];
			snprintf(h, sizeof(h), "%.60s%04zu", sc->name, n + 1);
			all[n] = xstrdup(h);
		}
	}
	/* keep only the hosts that the cluster assigns to this subcluster
	 * (fritz's test lists overlap; the first match wins) */
	gs->hosts = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (cluster_subcluster_for_host(c, all[i]) == sc && str_safe_name(all[i]))
			gs->hosts[gs->nhosts++] = all[i];
		else
			free(all[i]);
	}
	free(all);

	const struct topology *t = &sc->topology;
	gs->nthreads = t->node.n ? (int)t->node.n : sc->sockets_per_node * sc->cores_per_socket * sc->threads_per_core;
	if (gs->nthreads < 1)
		gs->nthreads = 1;
	gs->ncores = t->core.n ? (int)t->core.n : gs->nthreads;
	gs->nsockets = t->socket.n ? (int)t->socket.n : 1;
	gs->nmdoms = t->memory_domain.n ? (int)t->memory_domain.n : gs->nsockets;
	gs->core_socket = xcalloc((size_t)gs->ncores, sizeof(int));
	gs->core_mdom = xcalloc((size_t)gs->ncores, sizeof(int));
	gs->socket_cores = xcalloc((size_t)gs->nsockets, sizeof(int));
	gs->mdom_cores = xcalloc((size_t)gs->nmdoms, sizeof(int));
	for (int ci = 0; ci < gs->ncores; ci++) {
		int hw = t->core.n && t->core.group[ci].n ? t->core.group[ci].id[0] : ci;
		int s = t->socket.n ? group_of(&t->socket, hw) : 0;
		int m = t->memory_domain.n ? group_of(&t->memory_domain, hw) : s;
		/* cores outside every socket (inconsistent topologies) go to the last */
		gs->core_socket[ci] = s < 0 ? gs->nsockets - 1 : s;
		gs->core_mdom[ci] = m < 0 ? gs->nmdoms - 1 : m;
		gs->socket_cores[gs->core_socket[ci]]++;
		gs->mdom_cores[gs->core_mdom[ci]]++;
	}
	gs->ngpus = t->naccelerators;
	gs->metrics = xcalloc(sc->nmetrics ? sc->nmetrics : 1, sizeof(*gs->metrics));
	for (size_t i = 0; i < sc->nmetrics; i++) {
		const struct metric_config *mc = &sc->metrics[i];
		struct gen_metric *gm = &gs->metrics[gs->nmetrics++];
		gm->mc = mc;
		gm->fam = family_of(mc);
		gm->acc = mc->scope == SCOPE_ACCELERATOR;
		if (mc->aggregation == AGGREGATION_SUM)
			gm->sum = true;
		else if (mc->aggregation == AGGREGATION_AVG)
			gm->sum = false;
		else /* unset: rates and amounts add up, ratios do not */
			gm->sum = strcmp(mc->unit.base, "B") == 0 || strcmp(mc->unit.base, "B/s") == 0 ||
				  strstr(mc->unit.base, "/s") || strcmp(mc->unit.base, "W") == 0;
		gm->ref = metric_ref(gs, mc, gm->fam);
		gm->normal = mc->normal;
	}
	gs->partition = strcmp(sc->name, "main") == 0 ? "work" : sc->name;
	return 0;
}

static void ctx_free(struct gen_ctx *g)
{
	for (size_t i = 0; i < g->ncl; i++) {
		for (size_t s = 0; s < g->cl[i].nsubs; s++)
			sub_free(&g->cl[i].subs[s]);
		free(g->cl[i].subs);
	}
	free(g->cl);
	free(g->cl_cdf);
	free(g->users);
	free(g->projects);
	free(g->cpu_users);
	free(g->gpu_users);
	free(g->cpu_cdf);
	free(g->gpu_cdf);
	free(g->proj_cdf);
	free(g->time_cdf);
	pthread_mutex_destroy(&g->lock);
}

/* Zipf weights 1/(rank+1)^s as a cumulative distribution */
static double *zipf_cdf(int n, double s)
{
	double *cdf = xcalloc((size_t)(n > 0 ? n : 1), sizeof(double));
	double total = 0;
	for (int i = 0; i < n; i++) {
		total += 1.0 / pow(i + 1, s);
		cdf[i] = total;
	}
	for (int i = 0; i < n; i++)
		cdf[i] /= total;
	if (n > 0)
		cdf[n - 1] = 1.0;
	return cdf;
}

static void make_people(struct gen_ctx *g)
{
	struct rng r;
	rng_init(&r, g->o->seed, 7, 0);
	int np = g->o->projects, nu = g->o->users;
	g->projects = xcalloc((size_t)np, sizeof(*g->projects));
	g->nprojects = np;
	for (int i = 0; i < np; i++) {
		for (int attempt = 0;; attempt++) {
			char *p = g->projects[i];
			if (rng_chance(&r, 0.5))
				snprintf(p, sizeof(g->projects[i]), "p%04u", 100 + rng_below(&r, 9800));
			else
				snprintf(p, sizeof(g->projects[i]), "%s%s%s",
					 domain_prefixes[rng_below(&r, sizeof(domain_prefixes) / sizeof(domain_prefixes[0]))],
					 domains[rng_below(&r, sizeof(domains) / sizeof(domains[0]))],
					 attempt > 3 ? "2" : "");
			if (attempt > 8)
				snprintf(p, sizeof(g->projects[i]), "p%05d", 10000 + i);
			bool dup = false;
			for (int k = 0; k < i && !dup; k++)
				dup = strcmp(g->projects[k], p) == 0;
			if (!dup)
				break;
		}
	}
	g->proj_cdf = zipf_cdf(np, 0.8);

	g->users = xcalloc((size_t)nu, sizeof(*g->users));
	g->nusers = nu;
	double app_w[NAPPS];
	for (size_t a = 0; a < NAPPS; a++)
		app_w[a] = apps[a].weight;
	for (int i = 0; i < nu; i++) {
		struct gen_user *u = &g->users[i];
		for (int attempt = 0;; attempt++) {
			if (attempt > 8)
				snprintf(u->name, sizeof(u->name), "user%04d", i);
			else if (rng_chance(&r, 0.8)) {
				/* the university style: two letters, two digits, four letters */
				char *o = u->name;
				for (int k = 0; k < 8; k++)
					*o++ = k == 2 || k == 3 ? (char)('0' + rng_below(&r, 10)) : (char)('a' + rng_below(&r, 26));
				*o = '\0';
			} else {
				snprintf(u->name, sizeof(u->name), "user%03u", rng_below(&r, 1000));
			}
			bool dup = false;
			for (int k = 0; k < i && !dup; k++)
				dup = strcmp(g->users[k].name, u->name) == 0;
			if (!dup)
				break;
		}
		u->nproj = 1 + rng_chance(&r, 0.3);
		for (int k = 0; k < u->nproj; k++)
			u->proj[k] = (int)cdf_pick(g->proj_cdf, (size_t)np, rng_unif(&r));
		if (u->nproj == 2 && u->proj[1] == u->proj[0])
			u->nproj = 1;
		u->napps = 1 + rng_chance(&r, 0.45);
		for (int k = 0; k < u->napps; k++)
			u->app[k] = (int)rng_weighted(&r, app_w, NAPPS);
		u->gpu = false;
		for (int k = 0; k < u->napps; k++)
			u->gpu |= apps[u->app[k]].run_gpu != NULL && (apps[u->app[k]].run_cpu == NULL || rng_chance(&r, 0.5));
	}
	/* GPU and CPU users each get their own ranking: the heaviest user of the
	 * GPU cluster is not the heaviest of the CPU cluster */
	g->cpu_users = xcalloc((size_t)nu, sizeof(int));
	g->gpu_users = xcalloc((size_t)nu, sizeof(int));
	for (int i = 0; i < nu; i++) {
		if (g->users[i].gpu)
			g->gpu_users[g->ngpu_users++] = i;
		else
			g->cpu_users[g->ncpu_users++] = i;
	}
	g->cpu_cdf = zipf_cdf(g->ncpu_users, 0.95);
	g->gpu_cdf = zipf_cdf(g->ngpu_users, 0.95);
}

/* Start times: more jobs on working days and in working hours, and busier
 * and quieter days, as a cumulative distribution over hours. */
static void make_time(struct gen_ctx *g)
{
	static const double hour_w[24] = {0.4, 0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.8, 1.3, 1.6, 1.7, 1.6,
					  1.2, 1.5, 1.7, 1.6, 1.5, 1.3, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5};
	struct rng r;
	rng_init(&r, g->o->seed, 9, 0);
	g->end = g->o->end;
	g->begin = g->end - (int64_t)g->o->days * 86400;
	g->nbins = (size_t)g->o->days * 24;
	g->time_cdf = xcalloc(g->nbins, sizeof(double));
	double total = 0, day_w = 1;
	for (size_t b = 0; b < g->nbins; b++) {
		int64_t t = g->begin + (int64_t)b * 3600;
		if (b % 24 == 0)
			day_w = rng_range(&r, 0.7, 1.3);
		int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
		int wday = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
		int hour = (int)(((t % 86400) + 86400) % 86400 / 3600);
		double w = hour_w[hour] * day_w * (wday == 0 || wday == 6 ? 0.45 : 1.0);
		total += w;
		g->time_cdf[b] = total;
	}
	for (size_t b = 0; b < g->nbins; b++)
		g->time_cdf[b] /= total;
	g->time_cdf[g->nbins - 1] = 1.0;
}

static int64_t time_at(const struct gen_ctx *g, double u)
{
	size_t b = cdf_pick(g->time_cdf, g->nbins, u);
	double lo = b ? g->time_cdf[b - 1] : 0, hi = g->time_cdf[b];
	double frac = hi > lo ? (u - lo) / (hi - lo) : 0.5;
	return g->begin + (int64_t)b * 3600 + (int64_t)(frac * 3600);
}

/* ================================================================== plan */

#define GEN_MAX_NODES 64

struct gen_plan {
	int64_t index;
	struct gen_cl *cl;
	const struct gen_sub *sub;
	const struct gen_app *app;
	const struct gen_user *user;
	const char *project;
	const char *partition;
	int64_t job_id, array_job_id, submit, start, duration, walltime;
	enum job_state state;
	enum job_shared shared;
	int nodes;
	size_t host[GEN_MAX_NODES];   /* indices into sub->hosts, ascending */
	int core0, ncores;            /* the job's cores on each node: [core0, core0 + ncores) */
	int gpu0, ngpus;              /* the job's accelerators on each node */
	bool exclusive_cores;         /* all cores: resources carry no hwthreads */
	bool gpu;
	int name_stem, run_no;
	int exit_code, exit_signal;
};

static int clamp_nodes(int n, size_t avail)
{
	return (size_t)n > avail ? (int)avail : n;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static const struct gen_app *pick_app(struct rng *r, const struct gen_user *u, bool gpu)
{
	/* mostly the user's own applications, when they fit the hardware */
	if (rng_chance(r, 0.85)) {
		int k = u->napps > 1 && rng_chance(r, 0.35) ? 1 : 0;
		const struct gen_app *a = &apps[u->app[k]];
		if (gpu ? a->run_gpu != NULL : a->run_cpu != NULL)
			return a;
	}
	double w[NAPPS];
	for (size_t i = 0; i < NAPPS; i++)
		w[i] = (gpu ? apps[i].run_gpu != NULL : apps[i].run_cpu != NULL) ? apps[i].weight : 0;
	return &apps[rng_weighted(r, w, NAPPS)];
}

static void make_plan(const struct gen_ctx *g, int64_t index, struct gen_plan *p)
{
	struct rng r;
	rng_init(&r, g->o->seed, 1, (uint64_t)index);
	memset(p, 0, sizeof(*p));
	p->index = index;

	/* cluster and subcluster, weighted by node count */
	size_t ci = cdf_pick(g->cl_cdf, g->ncl, rng_unif(&r));
	p->cl = &g->cl[ci];
	double sw[64];
	size_t ns = p->cl->nsubs < 64 ? p->cl->nsubs : 64;
	for (size_t s = 0; s < ns; s++)
		sw[s] = (double)p->cl->subs[s].nhosts;
	p->sub = &p->cl->subs[rng_weighted(&r, sw, ns)];
	const struct gen_sub *gs = p->sub;
	p->gpu = gs->ngpus > 0 && rng_chance(&r, 0.85);

	/* who */
	bool gpu_user = p->gpu ? g->ngpu_users > 0 && rng_chance(&r, 0.85) : g->ncpu_users == 0;
	int ui = gpu_user ? g->gpu_users[cdf_pick(g->gpu_cdf, (size_t)g->ngpu_users, rng_unif(&r))]
			  : g->cpu_users[cdf_pick(g->cpu_cdf, (size_t)g->ncpu_users, rng_unif(&r))];
	p->user = &g->users[ui];
	p->project = g->projects[p->user->proj[p->user->nproj > 1 && rng_chance(&r, 0.3) ? 1 : 0]];
	p->app = pick_app(&r, p->user, p->gpu);
	p->name_stem = (int)rng_below(&r, 4);
	p->run_no = 1 + (int)rng_below(&r, rng_chance(&r, 0.5) ? 12 : 200);

	/* the allocation */
	bool shared = p->gpu ? rng_chance(&r, p->app->shared ? 0.9 : 0.45) : rng_chance(&r, p->app->shared ? 0.85 : 0.12);
	if (shared && gs->ncores >= 4) {
		p->nodes = 1;
		p->shared = rng_chance(&r, 0.8) ? JOB_SHARED_MULTI_USER : JOB_SHARED_SINGLE_USER;
		if (p->gpu) {
			static const int gsz[] = {1, 1, 1, 2, 2, 4};
			int ng = gsz[rng_below(&r, 6)];
			if ((size_t)ng >= gs->ngpus)
				ng = gs->ngpus > 1 ? (int)gs->ngpus / 2 : 1;
			p->ngpus = ng;
			p->gpu0 = (int)rng_below(&r, (uint32_t)(gs->ngpus / (size_t)ng)) * ng;
			int per = gs->ncores / (int)gs->ngpus;
			p->ncores = per * ng > 0 ? per * ng : 1;
			p->core0 = per * p->gpu0;
		} else {
			static const int csz[] = {1, 2, 4, 4, 8, 8, 16, 16, 18, 32, 36};
			int nc = csz[rng_below(&r, 11)];
			while (nc > gs->ncores / 2 && nc > 1)
				nc /= 2;
			p->ncores = nc;
			p->core0 = (int)rng_below(&r, (uint32_t)(gs->ncores / nc)) * nc;
		}
	} else {
		p->shared = JOB_SHARED_NONE;
		p->exclusive_cores = true;
		p->core0 = 0;
		p->ncores = gs->ncores;
		if (p->gpu) {
			static const int gn[] = {1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 4, 4, 8};
			p->nodes = p->app->mpi ? gn[rng_below(&r, 13)] : 1;
			p->gpu0 = 0;
			p->ngpus = (int)gs->ngpus;
		} else {
			p->nodes = p->app->mpi ? node_sizes[rng_weighted(&r, node_weights, sizeof(node_weights) / sizeof(node_weights[0]))] : 1;
		}
		p->nodes = clamp_nodes(p->nodes, gs->nhosts);
	}
	if (p->nodes < 1)
		p->nodes = 1;

	/* hosts: a run of neighbours from a random start, sometimes with holes,
	 * as Slurm hands them out; distinct by construction */
	size_t start = rng_below(&r, (uint32_t)gs->nhosts), pos = start;
	size_t span = 0;
	bool holes = rng_chance(&r, 0.3);
	for (int k = 0; k < p->nodes; k++) {
		p->host[k] = pos % gs->nhosts;
		size_t step = 1 + (holes && rng_chance(&r, 0.25) ? rng_below(&r, 3) : 0);
		pos += step;
		span += step;
	}
	if (span > gs->nhosts) /* wrapped onto itself: no holes then */
		for (int k = 0; k < p->nodes; k++)
			p->host[k] = (start + (size_t)k) % gs->nhosts;
	qsort(p->host, (size_t)p->nodes, sizeof(size_t), cmp_size);

	/* state, walltime, duration */
	double stw[NSTATES];
	for (size_t s = 0; s < NSTATES; s++)
		stw[s] = state_weights[s].weight;
	p->state = state_weights[rng_weighted(&r, stw, NSTATES)].state;
	p->walltime = walltimes[rng_weighted(&r, walltime_weights, 5)];
	if (strcmp(gs->partition, "work") == 0 && p->nodes <= 4 && p->walltime == 3600 && rng_chance(&r, 0.4))
		p->partition = "devel";
	else
		p->partition = gs->partition;
	double w = (double)p->walltime, d;
	switch (p->state) {
	case JOB_FAILED:
		/* failing jobs tend to fail early: input errors, missing modules */
		d = rng_chance(&r, 0.75) ? rng_logu(&r, 5, fmin(w, 3600)) : w * rng_logu(&r, 0.01, 0.9);
		p->exit_code = rng_chance(&r, 0.6) ? 1 : rng_chance(&r, 0.5) ? 2 : 137;
		break;
	case JOB_CANCELLED:
		d = w * rng_logu(&r, 0.001, 0.9);
		p->exit_signal = 15;
		break;
	case JOB_TIMEOUT:
		d = rng_chance(&r, 0.7) ? w : w + 1 + rng_below(&r, 90);
		p->exit_signal = 15;
		break;
	case JOB_OUT_OF_MEMORY:
		d = rng_logu(&r, 60, w * 0.8);
		p->exit_signal = 9;
		break;
	case JOB_NODE_FAIL:
		d = w * rng_logu(&r, 0.02, 0.9);
		p->exit_code = 1;
		break;
	case JOB_BOOT_FAIL:
		d = rng_below(&r, 45);
		p->exit_code = 1;
		break;
	case JOB_PREEMPTED:
		d = w * rng_logu(&r, 0.05, 0.8);
		p->exit_signal = 15;
		break;
	case JOB_DEADLINE:
		d = w * rng_range(&r, 0.3, 1.0);
		p->exit_signal = 15;
		break;
	default:
		d = fmax(30, w * rng_logu(&r, 0.01, 0.97));
		break;
	}
	p->duration = (int64_t)d;
	int64_t span_s = g->end - g->begin;
	if (p->duration > span_s / 2)
		p->duration = span_s / 2;

	/* when: start times spread over the window in index order, so that job
	 * ids grow with time; jobs that would still run at the end start earlier */
	p->start = time_at(g, ((double)index + rng_unif(&r)) / (double)g->o->jobs);
	if (p->start + p->duration > g->end)
		p->start = g->end - p->duration - (int64_t)rng_below(&r, 600);
	if (p->start < g->begin)
		p->start = g->begin;
	double wait_max = p->nodes > 8 ? 2 * 86400.0 : p->nodes > 1 ? 8 * 3600.0 : 3 * 3600.0;
	p->submit = p->start - (int64_t)rng_logu(&r, 2, wait_max);

	p->job_id = p->cl->id_base + index * 3 + (int64_t)rng_below(&r, 3);
	if (rng_chance(&r, 0.08))
		p->array_job_id = p->job_id - 3 * (int64_t)rng_below(&r, 40);
}

/* ======================================================= the metric model */

struct gen_model {
	enum gen_kind kind;
	int nbusy;                /* busy cores per node */
	double flops_frac, bw_frac, dp_share, ipc, vec, clock_busy, clock_idle;
	double mem_frac, mem_growth, comm, io_level, gpu_util, gpu_mem, noise, idle_load, power_int;
	/* phases, seconds */
	double ramp, tail, period, diplen, depth, dphase, drift_period, drift_phase;
	uint64_t dip_seed;          /* jitter of each dip's time and depth */
	int nseg;                   /* solver phases: activity levels over the run */
	double seg_t[4], seg_lvl[4];
	int nio;
	double io_t[8], io_len[8], io_lvl[8];
	double nf[GEN_MAX_NODES], lag[GEN_MAX_NODES];
	bool active[GEN_MAX_NODES];
	int fail_node;            /* -1: none */
	double fail_t;
	int gap_node;             /* -1: none */
	double gap_t0, gap_t1;
	bool lead_nan, oom, tail_on;
};

/* A series' place in the node: how its values relate to the job's. */
struct gen_unit {
	double w;        /* share of the job's busy work on the node */
	double wj;       /* share of the job's cores on the node */
	double nodefrac; /* share of the node's hardware */
	double busy;     /* busy fraction of the job's cores in it */
	double occ;      /* busy fraction of all its cores */
};

static void make_model(const struct gen_plan *p, struct rng *r, struct gen_model *m)
{
	memset(m, 0, sizeof(*m));
	const struct gen_app *app = p->app;
	m->kind = app->kind;
	if (m->kind != KIND_IDLE && rng_chance(r, 0.05))
		m->kind = KIND_IDLE; /* hung, waiting, or forgot srun */
	if (p->state == JOB_BOOT_FAIL)
		m->kind = KIND_IDLE;
	double lf = 1.0;
	if (p->exclusive_cores && app->mpi && !p->gpu) {
		double x = rng_unif(r);
		lf = x < 0.9 ? 1.0 : x < 0.97 ? 0.5 : 0.25; /* hybrid runs leave cores free */
	}
	m->nbusy = (int)lround(p->ncores * lf);
	if (p->gpu)
		m->nbusy = p->ngpus * (1 + (int)rng_below(r, 4));
	if (!p->gpu && !app->mpi && p->shared != JOB_SHARED_NONE && rng_chance(r, 0.4))
		m->nbusy = 1; /* asked for several cores, uses one */
	if (m->nbusy > p->ncores)
		m->nbusy = p->ncores;
	if (m->nbusy < 1)
		m->nbusy = 1;
	m->dp_share = rng_range(r, 0.0, 1.0);
	switch (m->kind) {
	case KIND_COMPUTE:
		m->flops_frac = rng_range(r, 0.12, 0.42);
		m->bw_frac = rng_range(r, 0.08, 0.35);
		m->ipc = rng_range(r, 1.6, 2.8);
		m->vec = rng_range(r, 55, 95);
		m->power_int = rng_range(r, 0.85, 1.0);
		break;
	case KIND_MEMORY:
		m->flops_frac = rng_range(r, 0.01, 0.05);
		m->bw_frac = rng_range(r, 0.62, 0.93);
		m->ipc = rng_range(r, 0.35, 0.8);
		m->vec = rng_range(r, 10, 45);
		m->power_int = rng_range(r, 0.7, 0.9);
		break;
	case KIND_MIXED:
		m->flops_frac = rng_range(r, 0.04, 0.14);
		m->bw_frac = rng_range(r, 0.3, 0.6);
		m->ipc = rng_range(r, 0.9, 1.6);
		m->vec = rng_range(r, 30, 75);
		m->power_int = rng_range(r, 0.75, 0.95);
		break;
	case KIND_IO:
		m->flops_frac = rng_range(r, 0.002, 0.02);
		m->bw_frac = rng_range(r, 0.03, 0.15);
		m->ipc = rng_range(r, 0.5, 1.0);
		m->vec = rng_range(r, 5, 30);
		m->power_int = rng_range(r, 0.5, 0.7);
		break;
	case KIND_IDLE:
		m->flops_frac = rng_range(r, 0.0, 0.002);
		m->bw_frac = rng_range(r, 0.0005, 0.008);
		m->ipc = rng_range(r, 0.3, 0.6);
		m->vec = rng_range(r, 0, 5);
		m->power_int = 0.3;
		/* truly idle, or one thread busy with something that is not arithmetic */
		m->idle_load = rng_range(r, 0.0, 0.08);
		m->nbusy = rng_chance(r, 0.55) ? 0 : 1;
		break;
	}
	if (p->gpu && m->kind != KIND_IDLE) {
		/* the CPU side of a GPU job feeds the devices */
		m->flops_frac = rng_range(r, 0.002, 0.01);
		m->bw_frac = rng_range(r, 0.02, 0.08);
		m->gpu_util = m->kind == KIND_IO ? rng_range(r, 0.15, 0.5) : rng_range(r, 0.45, 0.98);
		if (rng_chance(r, 0.1))
			m->gpu_util = rng_range(r, 0.0, 0.03); /* booked a GPU, used none */
		m->gpu_mem = rng_range(r, 0.1, 0.95);
	} else if (p->gpu) {
		m->gpu_util = rng_range(r, 0.0, 0.02);
		m->gpu_mem = rng_range(r, 0.0, 0.02);
	}
	bool membound_clock = m->kind == KIND_MEMORY || m->kind == KIND_IO;
	m->clock_busy = membound_clock ? rng_range(r, 1.1, 1.35) : rng_range(r, 0.92, 1.08); /* times normal */
	m->clock_idle = rng_range(r, 0.38, 0.5);
	m->mem_frac = fmin(0.9, app->mem * rng_logu(r, 0.4, 2.2));
	if (m->kind == KIND_IDLE)
		m->mem_frac = rng_range(r, 0.005, 0.03);
	m->mem_growth = rng_chance(r, 0.1) ? rng_range(r, 0.1, 0.6) : 0;
	m->oom = p->state == JOB_OUT_OF_MEMORY;
	m->comm = p->nodes > 1 ? rng_logu(r, 0.03, 0.6) : 0;
	m->io_level = rng_logu(r, 0.02, m->kind == KIND_IO ? 0.8 : 0.4);
	m->noise = rng_range(r, 0.02, 0.07);

	double d = (double)p->duration;
	m->ramp = fmin(d * 0.08, rng_range(r, 30, 600));
	m->tail_on = p->state == JOB_COMPLETED || p->state == JOB_DEADLINE;
	m->tail = m->tail_on ? fmin(d * 0.05, rng_range(r, 60, 900)) : 0;
	m->period = rng_range(r, 600, 3600);
	m->diplen = m->period * rng_range(r, 0.03, 0.12);
	m->depth = rng_range(r, 0.2, 0.7);
	m->dphase = rng_range(r, 0, m->period);
	m->dip_seed = rng_next(r);
	m->nseg = 1 + (rng_chance(r, 0.35) ? 1 + (int)rng_below(r, 3) : 0);
	m->seg_t[0] = 0;
	m->seg_lvl[0] = 1.0;
	for (int k = 1; k < m->nseg; k++) {
		m->seg_t[k] = m->seg_t[k - 1] + (d - m->seg_t[k - 1]) * rng_range(r, 0.2, 0.7);
		m->seg_lvl[k] = rng_range(r, 0.55, 1.1);
	}
	m->drift_period = rng_range(r, 3600, 6 * 3600);
	m->drift_phase = rng_range(r, 0, 6.3);
	/* I/O: reading input during start-up, checkpoints, results at the end */
	m->nio = 0;
	m->io_t[m->nio] = 0;
	m->io_len[m->nio] = m->ramp;
	m->io_lvl[m->nio++] = rng_range(r, 0.2, 1.0);
	int nck = d > 7200 && rng_chance(r, 0.5) ? 1 + (int)rng_below(r, 5) : 0;
	for (int k = 0; k < nck && m->nio < 7; k++) {
		m->io_t[m->nio] = d * (k + 1) / (nck + 1);
		m->io_len[m->nio] = rng_range(r, 60, 400);
		m->io_lvl[m->nio++] = rng_range(r, 0.3, 1.0);
	}
	if (m->tail_on) {
		m->io_t[m->nio] = d - m->tail;
		m->io_len[m->nio] = m->tail;
		m->io_lvl[m->nio++] = rng_range(r, 0.3, 1.0);
	}
	bool one_active = p->nodes > 1 && m->kind != KIND_IDLE && rng_chance(r, 0.06);
	for (int n = 0; n < p->nodes; n++) {
		m->nf[n] = 1.0 + 0.05 * rng_tri(r);
		if (rng_chance(r, 0.04))
			m->nf[n] *= rng_range(r, 0.6, 0.85); /* a slow node */
		m->lag[n] = rng_range(r, 0, fmin(m->ramp * 0.3, 60));
		m->active[n] = !one_active || n == 0; /* the classic: one node works, the rest wait */
	}
	m->fail_node = -1;
	if (p->state == JOB_NODE_FAIL && d > 120) {
		m->fail_node = (int)rng_below(r, (uint32_t)p->nodes);
		/* the node dies; Slurm notices a few minutes later and ends the job */
		m->fail_t = d - fmin(d * 0.5, rng_range(r, 90, 600));
	}
	m->gap_node = -1;
	if (rng_chance(r, 0.06) && d > 1800) {
		m->gap_node = (int)rng_below(r, (uint32_t)p->nodes);
		m->gap_t0 = rng_range(r, 0, d * 0.9);
		m->gap_t1 = m->gap_t0 + rng_range(r, 60, 900);
	}
	m->lead_nan = d > 600 && rng_chance(r, 0.04); /* never a job without a single value */
}

/* The shape of the job over time on one node, sampled at one timestep. */
struct gen_phase {
	int ts;
	size_t n;
	double *env;  /* start-up ramp and tail: 0..1 */
	double *a;    /* compute activity: env with dips, drift and I/O */
	double *io;   /* I/O intensity 0..1 */
	double *comm; /* communication intensity 0..1 */
	double *memf; /* memory fill relative to the plateau */
};

static void make_phase(const struct gen_plan *p, const struct gen_model *m, int node, struct gen_phase *ph)
{
	double d = (double)p->duration;
	bool active = m->active[node];
	for (size_t k = 0; k < ph->n; k++) {
		double t = (double)k * ph->ts;
		double tr = t - m->lag[node];
		double env = tr <= 0 ? 0.02 : tr < m->ramp ? 0.02 + 0.98 * pow(tr / m->ramp, 1.4) : 1.0;
		if (m->tail_on && m->tail > 0 && t > d - m->tail)
			env *= 1.0 - 0.8 * fmin(1.0, (t - (d - m->tail)) / m->tail);
		double io = 0;
		for (int i = 0; i < m->nio; i++)
			if (t >= m->io_t[i] && t < m->io_t[i] + m->io_len[i])
				io = fmax(io, m->io_lvl[i]);
		/* dips (communication, checkpoints) about every period, each a
		 * little early or late and of its own depth */
		double cyc = (t + m->dphase) / m->period;
		int64_t ci = (int64_t)cyc;
		uint64_t hsh = mix64(m->dip_seed ^ (uint64_t)ci);
		double shift = ((double)(hsh & 0xffff) / 65536.0 - 0.5) * 0.5;
		double pos = (cyc - (double)ci - 0.5 - shift) * m->period;
		bool dip = pos >= 0 && pos < m->diplen;
		double dd = m->depth * (0.6 + 0.8 * (double)((hsh >> 16) & 0xffff) / 65536.0);
		double lvl = 1.0;
		for (int sg = 1; sg < m->nseg; sg++)
			if (t >= m->seg_t[sg])
				lvl = m->seg_lvl[sg];
		double a = env * lvl * (dip ? 1.0 - fmin(dd, 0.9) : 1.0) * (1.0 - 0.6 * io) * m->nf[node] *
			   (1.0 + 0.04 * sin(6.283185307 * t / m->drift_period + m->drift_phase));
		double memf = fmin(1.0, 0.1 + 0.9 * fmin(1.0, t / (2 * m->ramp + 1)));
		if (m->oom) /* growing until the limit */
			memf = fmin(1.0, t / (2 * m->ramp + 1)) * (0.4 + 0.6 * pow(fmin(1.0, t / (d + 1)), 1.5));
		else
			memf *= 1.0 + m->mem_growth * t / (d + 1);
		if (m->fail_node >= 0 && t >= m->fail_t) { /* the others wait for the dead one */
			a *= 0.02;
			io = 0;
		}
		if (!active) {
			env *= 0.02;
			a *= 0.01;
			io = 0;
			memf *= 0.05;
		}
		ph->env[k] = env;
		ph->a[k] = fmin(a, 1.05);
		ph->io[k] = io;
		ph->comm[k] = dip ? 1.0 : 0.15;
		ph->memf[k] = memf;
	}
}

/* A value as the archive will hold it: data.json stores float32 with two
 * decimals, so quantise now and the statistics computed from these numbers
 * are the ones a reader gets from the file.  Below 65536 a float32 keeps two
 * decimals; above, whole numbers (exact in float32 below 2^24) are kept. */
static inline double quantize(double v)
{
	if (isnan(v))
		return v;
	if (!(v > 0))
		return 0.0;
	if (v >= 65536.0)
		return (double)(float)rint(v);
	return rint((double)(float)v * 100.0) / 100.0;
}

/* The same for a statistic: what jobdata_format_stat writes, read back. */
static double quantize_stat(double v)
{
	if (!isfinite(v))
		return v;
	char b[408];
	size_t n = jobdata_format_stat(v, b);
	b[n] = '\0';
	return strtod(b, NULL);
}

static inline double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* One series: the family's formula over the phases, with smooth and white
 * noise, the node's gaps, clamped to the hardware and quantised. */
static void fill_series(const struct gen_plan *p, const struct gen_model *m, const struct gen_sub *gs,
			const struct gen_metric *gm, const struct gen_unit *u, const struct gen_phase *ph,
			int node, struct rng *r, double *out, size_t n)
{
	const double ref = gm->ref;
	const double normal = isfinite(gm->normal) && gm->normal > 0 && gm->normal <= ref ? gm->normal : ref * 0.6;
	const double f = 1.0 + 0.04 * rng_tri(r);
	const double noise = m->noise;
	const double share = (double)p->ncores / gs->ncores;
	double sm = 0;
	size_t g0 = SIZE_MAX, g1 = 0, fk = SIZE_MAX;
	if (node == m->gap_node) {
		g0 = (size_t)(m->gap_t0 / ph->ts);
		g1 = (size_t)(m->gap_t1 / ph->ts) + 1;
	}
	if (node == m->fail_node)
		fk = (size_t)(m->fail_t / ph->ts) + 1;
	double cap = gm->acc ? ref : gm->sum ? ref * u->nodefrac : ref;
	double clock_busy = fmin(normal * m->clock_busy, ref * 0.97), clock_idle = normal * m->clock_idle;
	double gpu_on = m->gpu_util > 0.05 ? 1.0 : 0.0;
	for (size_t k = 0; k < n; k++) {
		double env = ph->env[k], a = ph->a[k], io = ph->io[k];
		double nz = rng_tri(r);
		sm = 0.85 * sm + 0.3 * rng_tri(r);
		double jit = 1.0 + noise * (1.6 * sm + 0.5 * nz);
		double v;
		switch (gm->fam) {
		case FAM_LOAD:
			if (m->nbusy == 0)
				v = m->idle_load * env + 0.02 * fabs(nz);
			else
				v = m->nbusy * env * (1.0 - 0.1 * io) * (m->active[node] ? 1.0 : 0.02) + 0.12 * nz;
			v *= u->wj;
			break;
		case FAM_USER:
			v = u->busy * 97.0 * env * (1.0 - 0.5 * io) * jit + (1.0 - u->busy) * 0.4 + 1.2 * nz;
			break;
		case FAM_FLOPS_ANY:
		case FAM_FLOPS_DP:
		case FAM_FLOPS_SP: {
			double fr = gm->fam == FAM_FLOPS_ANY ? 1.0 : gm->fam == FAM_FLOPS_DP ? m->dp_share : 1.0 - m->dp_share;
			v = fr * (u->w * ref * share * m->flops_frac * a * f * jit) + u->nodefrac * ref * 2e-5 * fabs(nz);
			break;
		}
		case FAM_MEMBW:
			v = u->w * ref * share * m->bw_frac * pow(a > 0 ? a : 0, 0.6) * f * jit + u->nodefrac * ref * 8e-4 * (1 + nz);
			break;
		case FAM_CLOCK: {
			double busy = clock_idle + (clock_busy - clock_idle) * fmin(1.0, a * 1.3);
			v = u->busy * busy + (1.0 - u->busy) * clock_idle + 0.01 * normal * nz;
			break;
		}
		case FAM_IPC:
			v = u->busy * m->ipc * (0.5 + 0.5 * fmin(1.0, a)) * jit + (1.0 - u->busy) * 0.35 + 0.03 * nz;
			break;
		case FAM_VEC:
			v = u->busy * m->vec * jit + 0.5 * fabs(nz);
			break;
		case FAM_CPU_POWER:
			v = u->nodefrac * ref * (0.27 + 0.63 * u->occ * env * (0.45 + 0.55 * fmin(1.0, a) * m->power_int)) * f +
			    0.004 * ref * u->nodefrac * nz;
			break;
		case FAM_MEM_POWER:
			v = u->nodefrac * ref * (0.1 + 0.55 * u->occ * fmin(1.0, m->bw_frac * a * 1.1)) * f +
			    0.004 * ref * u->nodefrac * nz;
			break;
		case FAM_MEM_USED:
			v = u->wj * ref * share * m->mem_frac * ph->memf[k] * (1.0 + 0.01 * nz) +
			    u->nodefrac * ref * 0.006 * (1 + 0.2 * nz);
			if (m->oom)
				v = u->wj * ref * share * 0.99 * ph->memf[k] + u->nodefrac * ref * 0.004;
			break;
		case FAM_IB:
			v = p->nodes > 1 ? ref * m->comm * (0.25 * a + 0.75 * ph->comm[k] * env) * jit : ref * 3e-4 * (1 + nz);
			break;
		case FAM_NET:
			v = ref * (0.001 + 0.015 * io + 0.002 * fabs(nz));
			break;
		case FAM_FILE:
			v = ref * (m->io_level * io * jit + 5e-4 + 1e-3 * fabs(nz));
			break;
		case FAM_GPU_UTIL:
			v = 100.0 * m->gpu_util * fmin(1.0, a * 1.05) * jit + 1.5 * gpu_on * nz;
			break;
		case FAM_GPU_MEM:
			v = ref * (m->gpu_mem * ph->memf[k] * gpu_on + 0.006) * (1.0 + 0.005 * nz);
			break;
		case FAM_GPU_MEMUTIL:
			v = 60.0 * m->gpu_util * fmin(1.0, a) * jit + gpu_on * nz;
			break;
		case FAM_GPU_POWER:
			v = ref * (0.13 + 0.8 * m->gpu_util * fmin(1.0, a)) * f * (1.0 + 0.02 * nz);
			break;
		case FAM_GPU_CLOCK:
			v = m->gpu_util > 0.05 && env > 0.3 ? ref * (0.95 + 0.03 * nz) : ref * 0.15;
			break;
		case FAM_GPU_TEMP: {
			double base = fmin(normal, ref) * 0.55;
			v = base + (ref - base) * 0.85 * m->gpu_util * env + 0.6 * nz;
			break;
		}
		case FAM_GPU_GENERIC:
			v = normal * (0.1 + 0.9 * m->gpu_util * fmin(1.0, a)) * jit;
			break;
		default:
			v = normal * (0.1 + 0.9 * fmin(1.0, a)) * f * jit * (gm->sum ? u->wj : 1.0);
			break;
		}
		v = clampd(v, 0, cap * 0.995);
		if (k >= g0 && k < g1)
			v = NAN;
		if (k >= fk || (k == 0 && m->lead_nan))
			v = NAN;
		out[k] = quantize(v);
	}
}

/* ========================================================== one job: data */

/* per-thread scratch, grown as needed */
struct gen_scratch {
	double *buf;
	size_t cap;
	struct gen_unit *units;
	char (*ids)[64];
	size_t ucap;
};

static double *scratch_get(struct gen_scratch *s, size_t n)
{
	if (n > s->cap) {
		free(s->buf);
		s->cap = n + n / 2;
		s->buf = xmalloc(s->cap * sizeof(double));
	}
	return s->buf;
}

static void scratch_units(struct gen_scratch *s, size_t n)
{
	if (n > s->ucap) {
		s->ucap = n;
		s->units = xrealloc(s->units, n * sizeof(*s->units));
		s->ids = xrealloc(s->ids, n * sizeof(*s->ids));
	}
}

static bool core_busy(const struct gen_model *m, int j, int ncores)
{
	/* spread the busy cores evenly over the job's cores */
	if (m->nbusy <= 0)
		return false;
	return (int64_t)(j + 1) * m->nbusy / ncores > (int64_t)j * m->nbusy / ncores;
}

/* The job's series of one finer scope on a node: their places and ids.
 * Returns the number of units. */
static size_t fine_units(const struct gen_plan *p, const struct gen_model *m, const struct gen_sub *gs,
			 enum metric_scope scope, struct gen_scratch *s)
{
	const struct subcluster *sc = gs->sc;
	int nb = m->nbusy > 0 ? m->nbusy : 1;
	if (scope == SCOPE_ACCELERATOR) {
		scratch_units(s, (size_t)p->ngpus);
		for (int g = 0; g < p->ngpus; g++) {
			s->units[g] = (struct gen_unit){1, 1, 1, 1, 1};
			snprintf(s->ids[g], sizeof(s->ids[g]), "%s", sc->topology.accelerators[p->gpu0 + g].id);
		}
		return (size_t)p->ngpus;
	}
	if (scope == SCOPE_CORE) {
		scratch_units(s, (size_t)p->ncores);
		for (int j = 0; j < p->ncores; j++) {
			bool busy = core_busy(m, j, p->ncores);
			s->units[j] = (struct gen_unit){busy ? 1.0 / nb : 0, 1.0 / p->ncores, 1.0 / gs->ncores,
							busy ? 1 : 0, busy ? 1 : 0};
			snprintf(s->ids[j], sizeof(s->ids[j]), "%d", p->core0 + j);
		}
		return (size_t)p->ncores;
	}
	/* socket or memory domain: the groups the job's cores touch */
	bool sock = scope == SCOPE_SOCKET;
	int ngroups = sock ? gs->nsockets : gs->nmdoms;
	const int *core_group = sock ? gs->core_socket : gs->core_mdom;
	const int *group_cores = sock ? gs->socket_cores : gs->mdom_cores;
	scratch_units(s, (size_t)ngroups);
	size_t nu = 0;
	for (int gi = 0; gi < ngroups; gi++) {
		int jc = 0, bc = 0;
		for (int j = 0; j < p->ncores; j++) {
			if (core_group[p->core0 + j] != gi)
				continue;
			jc++;
			bc += core_busy(m, j, p->ncores);
		}
		if (!jc)
			continue;
		double total = group_cores[gi] > 0 ? group_cores[gi] : 1;
		s->units[nu] = (struct gen_unit){(double)bc / nb, (double)jc / p->ncores, total / gs->ncores,
						 (double)bc / jc, bc / total};
		snprintf(s->ids[nu], sizeof(s->ids[nu]), "%d", gi);
		nu++;
	}
	return nu;
}

struct job_metric {
	const struct gen_metric *gm;
	struct jobdata_metric *node;
	struct jobdata_metric *fine; /* NULL: no finer scope stored */
	enum metric_scope fine_scope;
	bool via_units;              /* node series = aggregate of unit series */
	size_t nunits;
	int ts;
	size_t npts;
};

#define GEN_META_POINTS 48

/* Build the job's metric data: node scope always; with data, the finer
 * native scope (core at most) for jobs of <= 8 nodes and accelerator scope
 * for GPU jobs.  For -meta-only the node series are sampled coarsely: only
 * their statistics are kept. */
static struct jobdata *make_data(const struct gen_ctx *g, const struct gen_plan *p, const struct gen_model *m,
				 struct gen_scratch *s)
{
	const struct gen_sub *gs = p->sub;
	bool meta_only = g->o->meta_only;
	struct rng r;
	rng_init(&r, g->o->seed, 2, (uint64_t)p->index);
	struct jobdata *d = jobdata_new();
	struct job_metric *jm = xcalloc(gs->nmetrics ? gs->nmetrics : 1, sizeof(*jm));
	size_t njm = 0;
	for (size_t i = 0; i < gs->nmetrics; i++) {
		const struct gen_metric *gm = &gs->metrics[i];
		const struct metric_config *mc = gm->mc;
		if (gm->acc && !p->gpu)
			continue; /* no devices, no device metrics */
		struct job_metric *x = &jm[njm++];
		memset(x, 0, sizeof(*x));
		x->gm = gm;
		x->ts = mc->timestep;
		if (meta_only) {
			int64_t want = p->duration / GEN_META_POINTS + 1;
			if (want > x->ts)
				x->ts = (int)(want / mc->timestep + 1) * mc->timestep;
		}
		x->npts = (size_t)(p->duration / x->ts) + 1;
		x->node = jobdata_add_metric(d, mc->name, "node", mc->unit.base, mc->unit.prefix, mc->timestep,
					     (size_t)p->nodes);
		enum metric_scope fs = SCOPE_NODE;
		if (gm->acc)
			fs = SCOPE_ACCELERATOR;
		else if (!meta_only && p->nodes <= 8 && scope_cmp(mc->scope, SCOPE_NODE) < 0)
			fs = scope_cmp(mc->scope, SCOPE_CORE) < 0 ? SCOPE_CORE : mc->scope;
		if (fs != SCOPE_NODE) {
			x->fine_scope = fs;
			x->via_units = true;
			x->nunits = fine_units(p, m, gs, fs, s);
			if (!meta_only)
				x->fine = jobdata_add_metric(d, mc->name, scope_name(fs), mc->unit.base, mc->unit.prefix,
							     mc->timestep, (size_t)p->nodes * x->nunits);
		}
	}

	/* phases per node and distinct timestep (usually one or two) */
	struct gen_phase *ph = xcalloc(njm ? njm : 1, sizeof(*ph));
	size_t nph = 0;
	size_t maxpts = 1;
	for (size_t i = 0; i < njm; i++) {
		if (jm[i].npts > maxpts)
			maxpts = jm[i].npts;
		bool seen = false;
		for (size_t k = 0; k < nph; k++)
			seen |= ph[k].ts == jm[i].ts;
		if (!seen) {
			ph[nph].ts = jm[i].ts;
			ph[nph].n = jm[i].npts;
			nph++;
		}
	}
	double *pbuf = xmalloc(nph * 5 * maxpts * sizeof(double) + 1);
	for (size_t k = 0; k < nph; k++) {
		double *b = pbuf + k * 5 * maxpts;
		ph[k].env = b;
		ph[k].a = b + maxpts;
		ph[k].io = b + 2 * maxpts;
		ph[k].comm = b + 3 * maxpts;
		ph[k].memf = b + 4 * maxpts;
	}

	for (int n = 0; n < p->nodes; n++) {
		const char *host = gs->hosts[p->host[n]];
		for (size_t k = 0; k < nph; k++)
			make_phase(p, m, n, &ph[k]);
		for (size_t i = 0; i < njm; i++) {
			struct job_metric *x = &jm[i];
			const struct gen_phase *xp = &ph[0];
			for (size_t k = 0; k < nph; k++)
				if (ph[k].ts == x->ts)
					xp = &ph[k];
			size_t np = x->npts < xp->n ? x->npts : xp->n;
			double *node = jobdata_set_series(d, x->node, (size_t)n, host, NULL, np);
			if (!x->via_units) {
				struct gen_unit u = {1, 1, 1, (double)m->nbusy / p->ncores, (double)m->nbusy / gs->ncores};
				if (m->nbusy <= 0)
					u.w = 0;
				fill_series(p, m, gs, x->gm, &u, xp, n, &r, node, np);
				continue;
			}
			/* finer series, then the node series as their sum or average */
			size_t nu = fine_units(p, m, gs, x->fine_scope, s);
			double *tmp = x->fine ? NULL : scratch_get(s, np * (nu ? nu : 1));
			for (size_t k = 0; k < np; k++)
				node[k] = 0;
			for (size_t u = 0; u < nu; u++) {
				double *ser = x->fine ? jobdata_set_series(d, x->fine, (size_t)n * nu + u, host, s->ids[u], np)
						      : tmp + u * np;
				fill_series(p, m, gs, x->gm, &s->units[u], xp, n, &r, ser, np);
				for (size_t k = 0; k < np; k++)
					node[k] += ser[k];
			}
			for (size_t k = 0; k < np; k++)
				node[k] = quantize(x->gm->sum || nu == 0 ? node[k] : node[k] / (double)nu);
		}
	}
	free(pbuf);
	free(ph);
	free(jm);

	/* statistics as the file will show them */
	jobdata_fill_stats(d, true);
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *x = d->metrics[i];
		for (size_t k = 0; k < x->nseries; k++) {
			struct jobdata_stats *st = &x->series[k].stats;
			st->min = quantize_stat(st->min);
			st->avg = quantize_stat(st->avg);
			st->max = quantize_stat(st->max);
		}
	}
	return d;
}

/* ====================================================== one job: meta.json */

static void format_walltime(int64_t s, char *out, size_t n)
{
	int64_t days = s / 86400, h = s % 86400 / 3600, mi = s % 3600 / 60, se = s % 60;
	if (days)
		snprintf(out, n, "%lld-%02lld:%02lld:%02lld", (long long)days, (long long)h, (long long)mi, (long long)se);
	else
		snprintf(out, n, "%02lld:%02lld:%02lld", (long long)h, (long long)mi, (long long)se);
}

static void format_time(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
}

static const char *upper_state(enum job_state s)
{
	switch (s) {
	case JOB_COMPLETED: return "COMPLETED";
	case JOB_FAILED: return "FAILED";
	case JOB_CANCELLED: return "CANCELLED";
	case JOB_TIMEOUT: return "TIMEOUT";
	case JOB_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
	case JOB_NODE_FAIL: return "NODE_FAIL";
	case JOB_BOOT_FAIL: return "BOOT_FAIL";
	case JOB_PREEMPTED: return "PREEMPTED";
	case JOB_DEADLINE: return "DEADLINE";
	default: return "COMPLETED";
	}
}

static void job_script(const struct gen_plan *p, const char *job_name, struct buf *b)
{
	const struct gen_app *app = p->app;
	char wt[32];
	format_walltime(p->walltime, wt, sizeof(wt));
	buf_adds(b, "#!/bin/bash -l\n");
	buf_addf(b, "#SBATCH --job-name=%s\n", job_name);
	buf_addf(b, "#SBATCH --nodes=%d\n", p->nodes);
	if (p->exclusive_cores && app->mpi && !p->gpu)
		buf_addf(b, "#SBATCH --ntasks-per-node=%d\n", p->ncores);
	else
		buf_addf(b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", p->ncores);
	if (p->gpu)
		buf_addf(b, "#SBATCH --gres=gpu:%s:%d\n", p->sub->sc->name, p->ngpus);
	buf_addf(b, "#SBATCH --time=%s\n", wt);
	buf_addf(b, "#SBATCH --partition=%s\n", p->partition);
	buf_addf(b, "#SBATCH --account=%s\n", p->project);
	if (p->exclusive_cores)
		buf_adds(b, "#SBATCH --exclusive\n");
	buf_adds(b, "#SBATCH --export=NONE\n\nunset SLURM_EXPORT_ENV\nmodule purge\n");
	buf_addf(b, "module load %s\n\n", app->modules);
	if (!app->mpi || p->gpu)
		buf_adds(b, "export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK\n");
	buf_addf(b, "cd $WORK/run_%03d\n", p->run_no);
	buf_adds(b, p->gpu ? app->run_gpu : app->run_cpu);
	buf_addch(b, '\n');
}

static void slurm_info(const struct gen_plan *p, const char *job_name, struct buf *b)
{
	char sub[32], st[32], en[32], wt[32], rt[32];
	format_time(p->submit, sub, sizeof(sub));
	format_time(p->start, st, sizeof(st));
	format_time(p->start + p->duration, en, sizeof(en));
	format_walltime(p->walltime, wt, sizeof(wt));
	format_walltime(p->duration, rt, sizeof(rt));
	const char *hosts[GEN_MAX_NODES];
	for (int n = 0; n < p->nodes; n++)
		hosts[n] = p->sub->hosts[p->host[n]];
	struct buf nl = BUF_INIT;
	hostlist_compress(hosts, (size_t)p->nodes, &nl);
	int cpus = p->ncores * p->nodes;
	buf_addf(b, "JobId=%lld JobName=%s\n", (long long)p->job_id, job_name);
	if (p->array_job_id)
		buf_addf(b, "   ArrayJobId=%lld ArrayTaskId=%lld\n", (long long)p->array_job_id,
			 (long long)((p->job_id - p->array_job_id) / 3));
	buf_addf(b, "   UserId=%s GroupId=%s Account=%s QOS=normal\n", p->user->name, p->project, p->project);
	buf_addf(b, "   JobState=%s Reason=%s ExitCode=%d:%d\n", upper_state(p->state),
		 p->state == JOB_COMPLETED ? "None" : p->state == JOB_TIMEOUT ? "TimeLimit" : "NonZeroExitCode",
		 p->exit_code, p->exit_signal);
	buf_addf(b, "   RunTime=%s TimeLimit=%s\n", rt, wt);
	buf_addf(b, "   SubmitTime=%s StartTime=%s EndTime=%s\n", sub, st, en);
	buf_addf(b, "   Partition=%s NodeList=%s\n", p->partition, nl.data);
	buf_addf(b, "   NumNodes=%d NumCPUs=%d NumTasks=%d CPUs/Task=%d\n", p->nodes, cpus,
		 p->app->mpi && !p->gpu && p->exclusive_cores ? cpus : p->nodes,
		 p->app->mpi && !p->gpu && p->exclusive_cores ? 1 : p->ncores);
	buf_addf(b, "   TRES=cpu=%d,node=%d,billing=%d", cpus, p->nodes, cpus);
	if (p->gpu)
		buf_addf(b, ",gres/gpu=%d", p->ngpus * p->nodes);
	buf_addf(b, "\n   WorkDir=/home/%s/%s/run_%03d\n", p->project, p->user->name, p->run_no);
	buf_release(&nl);
}

static int tag_id(const char *type, const char *name)
{
	if (strcmp(type, "app") == 0) {
		for (size_t i = 0; i < sizeof(app_tag_names) / sizeof(app_tag_names[0]); i++)
			if (strcmp(app_tag_names[i], name) == 0)
				return (int)i + 1;
	} else {
		for (size_t i = 0; i < sizeof(class_tag_names) / sizeof(class_tag_names[0]); i++)
			if (strcmp(class_tag_names[i], name) == 0)
				return 100 + (int)i;
	}
	return 999;
}

static bool stat_of(struct json_object *stats, const char *metric, const char *key, double *out)
{
	struct json_object *m = jsonio_get(stats, metric), *v = m ? jsonio_get(m, key) : NULL;
	if (!v)
		return false;
	*out = json_object_get_double(v);
	return true;
}

/* The job-class tags cc-backend's shipped rules would give (lowload,
 * memorybound, lowutilization), with their hints in metaData.message. */
static size_t class_tags(const struct gen_plan *p, struct json_object *stats, const char **tags, struct buf *msg)
{
	size_t n = 0;
	if (p->shared != JOB_SHARED_NONE || p->duration <= 600)
		return 0;
	const struct subcluster *sc = p->sub->sc;
	const struct metric_config *load = subcluster_metric(sc, "cpu_load");
	const struct metric_config *bw = subcluster_metric(sc, "mem_bw");
	const struct metric_config *fl = subcluster_metric(sc, "flops_any");
	double lavg, bavg, favg;
	if (load && isfinite(load->peak) && stat_of(stats, "cpu_load", "avg", &lavg) && lavg < load->peak * 0.85) {
		tags[n++] = "lowload";
		buf_addf(msg, "%sThis job was detected as low CPU load: average cpu load %.2f is below the threshold %.2f (0.85).",
			 msg->len ? "\n" : "", lavg, load->peak * 0.85);
	}
	if (bw && isfinite(bw->peak) && stat_of(stats, "mem_bw", "avg", &bavg) && bavg > bw->peak * 0.8) {
		tags[n++] = "memorybound";
		buf_addf(msg, "%sThis job is memory bandwidth bound: memory bandwidth %.2f GB/s (%.2f%% of peak) is within 0.8 of peak bandwidth.",
			 msg->len ? "\n" : "", bavg, bavg / bw->peak * 100);
	}
	if (bw && fl && isfinite(bw->alert) && isfinite(fl->alert) && stat_of(stats, "mem_bw", "avg", &bavg) &&
	    stat_of(stats, "flops_any", "avg", &favg) && favg < fl->alert && bavg < bw->alert) {
		tags[n++] = "lowutilization";
		buf_addf(msg, "%sThis job shows low resource utilization: FLOP rate %.2f GF/s and memory bandwidth %.2f GB/s are both below their alert thresholds.",
			 msg->len ? "\n" : "", favg, bavg);
	}
	return n;
}

static struct json_object *make_meta(struct arena *a, const struct gen_plan *p, struct jobdata *d)
{
	const struct gen_sub *gs = p->sub;
	const struct subcluster *sc = gs->sc;
	struct job j;
	memset(&j, 0, sizeof(j));
	j.job_id = p->job_id;
	j.cluster = p->cl->name;
	j.subcluster = sc->name;
	j.partition = p->partition;
	j.project = p->project;
	j.user = p->user->name;
	j.shared = p->shared;
	j.state = p->state;
	j.array_job_id = p->array_job_id;
	j.walltime = p->walltime;
	j.submit_time = p->submit;
	j.start_time = p->start;
	j.duration = (int32_t)p->duration;
	j.smt = 1;
	j.monitoring_status = 3;
	j.num_nodes = p->nodes;
	j.num_hwthreads = 0;
	j.num_acc = p->gpu ? p->ngpus * p->nodes : 0;

	j.resources = arena_calloc(a, (size_t)p->nodes, sizeof(*j.resources));
	j.nresources = (size_t)p->nodes;
	for (int n = 0; n < p->nodes; n++) {
		struct job_resource *res = &j.resources[n];
		res->hostname = gs->hosts[p->host[n]];
		if (!p->exclusive_cores) {
			size_t nh = 0;
			for (int c = 0; c < p->ncores; c++)
				nh += sc->topology.core.n ? sc->topology.core.group[p->core0 + c].n : 1;
			res->hwthreads = arena_calloc(a, nh ? nh : 1, sizeof(int32_t));
			for (int c = 0; c < p->ncores; c++) {
				if (!sc->topology.core.n) {
					res->hwthreads[res->nhwthreads++] = p->core0 + c;
					continue;
				}
				const struct topo_list *tl = &sc->topology.core.group[p->core0 + c];
				for (size_t k = 0; k < tl->n; k++)
					res->hwthreads[res->nhwthreads++] = tl->id[k];
			}
			j.num_hwthreads += (int32_t)res->nhwthreads;
		} else {
			j.num_hwthreads += gs->nthreads;
		}
		if (p->gpu) {
			res->accelerators = arena_calloc(a, (size_t)p->ngpus, sizeof(char *));
			res->naccelerators = (size_t)p->ngpus;
			for (int k = 0; k < p->ngpus; k++)
				res->accelerators[k] = sc->topology.accelerators[p->gpu0 + k].id;
		}
	}

	char job_name[96];
	snprintf(job_name, sizeof(job_name), "%s_%s_%03d", p->app->name, p->app->stems[p->name_stem], p->run_no);
	struct buf script = BUF_INIT, info = BUF_INIT, msg = BUF_INIT;
	job_script(p, job_name, &script);
	slurm_info(p, job_name, &info);

	j.statistics = arena_cleanup_add(a, jsonio_put, jobdata_statistics_json(d, p->nodes));

	/* energy from the statistics, as the importer will compute it */
	struct metric_stats *ms = NULL;
	size_t nms = cluster_stats_from_json(j.statistics, &ms);
	struct cluster_footprint cf;
	subcluster_footprint(sc, ms, nms, p->nodes, p->duration, &cf);
	struct json_object *fp = NULL, *efp = NULL;
	cluster_footprint_json(&cf, &fp, &efp);
	json_object_put(fp);
	j.energy = cf.energy_total;
	if (cf.nenergy)
		j.energy_footprint = arena_cleanup_add(a, jsonio_put, efp);
	else
		json_object_put(efp);
	cluster_footprint_release(&cf);
	free(ms);

	/* tags: the application the tagger would see in the script, and job classes */
	const char *ctags[4];
	size_t nct = class_tags(p, j.statistics, ctags, &msg);
	size_t napp = 0;
	for (int k = 0; k < 2; k++)
		napp += p->app->tags[k] != NULL;
	j.tags = arena_calloc(a, napp + nct + 1, sizeof(*j.tags));
	for (int k = 0; k < 2; k++)
		if (p->app->tags[k])
			j.tags[j.ntags++] = (struct job_tag){tag_id("app", p->app->tags[k]), "app", p->app->tags[k], "global"};
	for (size_t k = 0; k < nct; k++)
		j.tags[j.ntags++] = (struct job_tag){tag_id("jobClass", ctags[k]), "jobClass", ctags[k], "global"};

	struct json_object *md = json_object_new_object();
	json_object_object_add(md, "jobName", json_object_new_string(job_name));
	json_object_object_add(md, "jobScript", json_object_new_string(script.data));
	json_object_object_add(md, "slurmInfo", json_object_new_string(info.data));
	if (msg.len)
		json_object_object_add(md, "message", json_object_new_string(msg.data));
	j.meta_data = arena_cleanup_add(a, jsonio_put, md);
	buf_release(&script);
	buf_release(&info);
	buf_release(&msg);

	return job_to_json(&j, JOB_WITH_STATISTICS | JOB_WITH_META);
}

/* The archive's data file as jobdata_encode_archive makes it (JSON and a
 * newline, gzipped above JOBDATA_GZIP_THRESHOLD bytes, Go's gzip header),
 * but at zlib level 1: on these numbers it is about seven times as fast as
 * the default level for files a quarter larger, and a generator writes
 * gigabytes.  Readers do not care about the level. */
static int encode_data(const struct jobdata *d, struct buf *raw, struct buf *out, bool *gzipped, char *err, size_t errlen)
{
	buf_reset(raw);
	buf_reset(out);
	jobdata_write(d, raw);
	buf_addch(raw, '\n');
	*gzipped = raw->len > JOBDATA_GZIP_THRESHOLD;
	if (!*gzipped) {
		buf_add(out, raw->data, raw->len);
		return 0;
	}
	if (raw->len > (size_t)UINT_MAX / 2) {
		snprintf(err, errlen, "data.json of %zu bytes is too large", raw->len);
		return -1;
	}
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		snprintf(err, errlen, "gzip: cannot start zlib");
		return -1;
	}
	gz_header h;
	memset(&h, 0, sizeof(h));
	h.os = 255;
	deflateSetHeader(&z, &h);
	uLong bound = deflateBound(&z, (uLong)raw->len);
	buf_grow(out, (size_t)bound + 64);
	z.next_in = (Bytef *)raw->data;
	z.avail_in = (uInt)raw->len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)(out->cap - 1 < UINT_MAX ? out->cap - 1 : UINT_MAX);
	int r = deflate(&z, Z_FINISH);
	out->len = out->cap - 1 - z.avail_out;
	out->data[out->len] = '\0';
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		snprintf(err, errlen, "gzip: compression failed (%d)", r);
		return -1;
	}
	return 0;
}

/* =============================================================== workers */

static void fail_once(struct gen_ctx *g, const char *msg)
{
	pthread_mutex_lock(&g->lock);
	if (!atomic_load(&g->failed)) {
		snprintf(g->err, sizeof(g->err), "%s", msg);
		atomic_store(&g->failed, 1);
	}
	pthread_mutex_unlock(&g->lock);
}

static int one_job(struct gen_ctx *g, int64_t index, struct arena *a, struct gen_scratch *s, struct buf *meta,
		   struct buf *raw, struct buf *data)
{
	struct gen_plan p;
	make_plan(g, index, &p);
	struct gen_model m;
	struct rng mr;
	rng_init(&mr, g->o->seed, 3, (uint64_t)index);
	make_model(&p, &mr, &m);
	struct jobdata *d = make_data(g, &p, &m, s);

	struct json_object *o = make_meta(a, &p, d);
	buf_reset(meta);
	buf_adds(meta, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_addch(meta, '\n');
	json_object_put(o);

	char key[1024], err[600];
	int rc = 0;
	if (archive_job_key(p.cl->name, p.job_id, p.start, key, sizeof(key)) < 0) {
		snprintf(err, sizeof(err), "job %lld: no archive key for cluster %s", (long long)p.job_id, p.cl->name);
		rc = -1;
	} else if (g->o->meta_only) {
		char mkey[1100];
		snprintf(mkey, sizeof(mkey), "%s/meta.json", key);
		rc = g->ar->ops->write(g->ar, mkey, meta->data, meta->len, err, sizeof(err));
		if (rc == 0) {
			atomic_fetch_add(&g->files, 1);
			atomic_fetch_add(&g->bytes, meta->len);
		}
	} else {
		bool gz;
		rc = encode_data(d, raw, data, &gz, err, sizeof(err));
		if (rc == 0)
			rc = archive_write_job(g->ar, key, meta->data, meta->len, data->data, data->len, gz, err, sizeof(err));
		if (rc == 0) {
			atomic_fetch_add(&g->files, 2);
			atomic_fetch_add(&g->bytes, meta->len + data->len);
		}
	}
	jobdata_free(d);
	if (rc < 0) {
		char msg[700];
		snprintf(msg, sizeof(msg), "writing job %lld: %s", (long long)p.job_id, err);
		fail_once(g, msg);
		return -1;
	}
	atomic_fetch_add(&p.cl->jobs, 1);
	return 0;
}

static void *worker(void *arg)
{
	struct gen_ctx *g = arg;
	struct arena a;
	arena_init(&a, 16384);
	struct gen_scratch s = {0};
	struct buf meta = BUF_INIT, raw = BUF_INIT, data = BUF_INIT;
	for (;;) {
		if (atomic_load(&g->failed))
			break;
		int64_t i = atomic_fetch_add(&g->next, 1);
		if (i >= g->o->jobs)
			break;
		if (one_job(g, i, &a, &s, &meta, &raw, &data) < 0)
			break;
		arena_reset(&a);
		atomic_fetch_add(&g->done, 1);
	}
	arena_release(&a);
	buf_release(&meta);
	buf_release(&raw);
	buf_release(&data);
	free(s.buf);
	free(s.units);
	free(s.ids);
	return NULL;
}

/* ================================================================= setup */

void gen_options_init(struct gen_options *o)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 1000;
	o->seed = 1;
	o->days = GEN_DEFAULT_DAYS;
	o->end = (int64_t)time(NULL);
	o->users = GEN_DEFAULT_USERS;
	o->projects = GEN_DEFAULT_PROJECTS;
	o->threads = 1;
}

static int mkdir_p(const char *path, char *err, size_t errlen)
{
	char *p = xstrdup(path);
	for (char *q = p + 1;; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char c = *q;
		*q = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*q = c;
		if (!c)
			break;
	}
	free(p);
	return 0;
}

/* Copy each cluster.json into the archive (checked first), with version.txt. */
static int install_clusters(const struct gen_options *o, char *err, size_t errlen)
{
	char e[1024];
	struct archive *ar = archive_fs_open(o->archive, e, sizeof(e));
	if (!ar) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	int rc = -1;
	size_t len;
	errno = 0;
	char *v = ar->ops->read(ar, "version.txt", 64, &len, e, sizeof(e));
	if (!v && errno == ENOENT) {
		if (ar->ops->write(ar, "version.txt", "3\n", 2, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s", e);
			goto out;
		}
	}
	free(v);
	for (size_t i = 0; i < o->nclusters; i++) {
		char *text = jsonio_read_file(o->clusters[i], 64 * 1024 * 1024, &len, e, sizeof(e));
		if (!text) {
			snprintf(err, errlen, "%s", e);
			goto out;
		}
		struct json_object *cfg = jsonio_parse(text, len, e, sizeof(e));
		const char *name = cfg ? jsonio_str(cfg, "name") : NULL;
		struct cluster *c = cfg ? cluster_parse(cfg, e, sizeof(e)) : NULL;
		if (!c || !name || !str_safe_name(name)) {
			snprintf(err, errlen, "%s: %s", o->clusters[i], c ? "the cluster's \"name\" cannot name a directory" : e);
			cluster_free(c);
			json_object_put(cfg);
			free(text);
			goto out;
		}
		for (size_t k = 0; k < i; k++) {
			/* two files for one cluster would overwrite each other */
			char *other = jsonio_read_file(o->clusters[k], 64 * 1024 * 1024, &len, e, sizeof(e));
			struct json_object *ocfg = other ? jsonio_parse(other, len, e, sizeof(e)) : NULL;
			const char *oname = ocfg ? jsonio_str(ocfg, "name") : NULL;
			bool dup = oname && strcmp(oname, name) == 0;
			json_object_put(ocfg);
			free(other);
			if (dup) {
				snprintf(err, errlen, "%s and %s both describe cluster %s", o->clusters[k], o->clusters[i], name);
				cluster_free(c);
				json_object_put(cfg);
				free(text);
				goto out;
			}
		}
		char key[512];
		snprintf(key, sizeof(key), "%s/cluster.json", name);
		int w = ar->ops->write(ar, key, text, strlen(text), e, sizeof(e));
		cluster_free(c);
		json_object_put(cfg);
		free(text);
		if (w < 0) {
			snprintf(err, errlen, "%s", e);
			goto out;
		}
	}
	rc = 0;
out:
	archive_close(ar);
	return rc;
}

static bool cluster_selected(const struct gen_options *o, const char *name, char **names)
{
	if (!o->nclusters)
		return true;
	for (size_t i = 0; i < o->nclusters; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

int gen_run(const struct gen_options *o, struct gen_summary *sum, char *err, size_t errlen)
{
	memset(sum, 0, sizeof(*sum));
	if (!o->archive || !*o->archive) {
		snprintf(err, errlen, "no archive directory given");
		return -1;
	}
	if (o->jobs < 1 || o->jobs > GEN_MAX_JOBS || o->days < 1 || o->users < 1 || o->projects < 1) {
		snprintf(err, errlen, "jobs, days, users and projects must be at least 1");
		return -1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mkdir_p(o->archive, err, errlen) < 0)
		return -1;
	char **names = xcalloc(o->nclusters + 1, sizeof(char *));
	for (size_t i = 0; i < o->nclusters; i++) {
		/* the names the files give, to pick these clusters after loading */
		char e[512];
		size_t len;
		char *text = jsonio_read_file(o->clusters[i], 64 * 1024 * 1024, &len, e, sizeof(e));
		struct json_object *cfg = text ? jsonio_parse(text, len, e, sizeof(e)) : NULL;
		const char *name = cfg ? jsonio_str(cfg, "name") : NULL;
		names[i] = xstrdup(name ? name : "");
		json_object_put(cfg);
		free(text);
	}
	if (o->nclusters && install_clusters(o, err, errlen) < 0) {
		for (size_t i = 0; i < o->nclusters; i++)
			free(names[i]);
		free(names);
		return -1;
	}

	/* open as the server does: version check and every cluster.json */
	struct conf conf;
	memset(&conf, 0, sizeof(conf));
	char kind[] = "file";
	conf.archive_kind = kind;
	conf.archive_path = xstrdup(o->archive);
	struct gen_ctx g;
	memset(&g, 0, sizeof(g));
	pthread_mutex_init(&g.lock, NULL);
	g.o = o;
	g.ar = archive_open(&conf, err, errlen);
	free(conf.archive_path);
	int rc = -1;
	if (!g.ar)
		goto out;
	g.cl = xcalloc(g.ar->nclusters + 1, sizeof(*g.cl));
	for (size_t i = 0; i < g.ar->nclusters; i++) {
		const struct archive_cluster *ac = &g.ar->clusters[i];
		if (!cluster_selected(o, ac->name, names))
			continue;
		struct gen_cl *cl = &g.cl[g.ncl++];
		cl->name = ac->name;
		cl->model = ac->model;
		cl->subs = xcalloc(ac->model->nsubclusters + 1, sizeof(*cl->subs));
		for (size_t s = 0; s < ac->model->nsubclusters; s++) {
			if (sub_setup(ac->model, &ac->model->subclusters[s], &cl->subs[cl->nsubs], err, errlen) < 0)
				goto out;
			cl->nhosts += cl->subs[cl->nsubs].nhosts;
			if (cl->subs[cl->nsubs].nhosts)
				cl->nsubs++;
			else
				sub_free(&cl->subs[cl->nsubs]);
		}
		if (!cl->nsubs) {
			snprintf(err, errlen, "cluster %s: no subcluster has any host to run jobs on", cl->name);
			goto out;
		}
		/* job ids of different clusters look like different Slurm instances */
		cl->id_base = 1000000 * (int64_t)(1 + g.ncl) + (int64_t)(mix64(o->seed + g.ncl) % 500000);
	}
	if (!g.ncl) {
		snprintf(err, errlen, "job archive %s has no clusters; give their cluster.json with -cluster", o->archive);
		goto out;
	}
	g.cl_cdf = xcalloc(g.ncl, sizeof(double));
	double total = 0;
	for (size_t i = 0; i < g.ncl; i++) {
		total += (double)g.cl[i].nhosts;
		g.cl_cdf[i] = total;
	}
	for (size_t i = 0; i < g.ncl; i++)
		g.cl_cdf[i] /= total;
	g.cl_cdf[g.ncl - 1] = 1.0;
	make_people(&g);
	make_time(&g);

	int nt = o->threads > 0 ? o->threads : 1;
	if (nt > 256)
		nt = 256;
	pthread_t tid[256];
	int started = 0;
	for (int t = 0; t < nt; t++) {
		if (pthread_create(&tid[t], NULL, worker, &g) != 0)
			break;
		started++;
	}
	if (!started) {
		snprintf(err, errlen, "cannot start a thread");
		goto out;
	}
	while (o->progress && atomic_load(&g.done) < o->jobs && !atomic_load(&g.failed)) {
		struct timespec ts = {0, 250 * 1000 * 1000};
		nanosleep(&ts, NULL);
		long long done = atomic_load(&g.done);
		fprintf(o->progress, "\r%lld/%lld jobs (%d%%), %.1f MB", done, (long long)o->jobs,
			(int)(done * 100 / o->jobs), (double)atomic_load(&g.bytes) / 1e6);
		fflush(o->progress);
	}
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (o->progress) {
		fprintf(o->progress, "\r%60s\r", "");
		fflush(o->progress);
	}
	if (atomic_load(&g.failed)) {
		snprintf(err, errlen, "%s", g.err);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sum->jobs = atomic_load(&g.done);
	sum->files = atomic_load(&g.files);
	sum->bytes = atomic_load(&g.bytes);
	sum->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (size_t i = 0; i < g.ncl && i < 8; i++) {
		snprintf(sum->clusters[i], sizeof(sum->clusters[i]), "%s", g.cl[i].name);
		sum->cluster_jobs[i] = atomic_load(&g.cl[i].jobs);
		sum->nclusters++;
	}
	rc = 0;
out:
	ctx_free(&g);
	archive_close(g.ar);
	for (size_t i = 0; i < o->nclusters; i++)
		free(names[i]);
	free(names);
	return rc;
}
