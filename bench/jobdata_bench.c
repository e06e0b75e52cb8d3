/* jobdata_bench: parse / write / gunzip throughput of the data.json code.
 *
 *   cc -O2 -I<dir with config.h> bench/jobdata_bench.c app/jobdata.c app/buf.c \
 *      app/xalloc.c app/arena.c $(pkg-config --cflags --libs json-c zlib) -lm
 *   ./a.out [file.json|file.json.gz ...]
 *
 * Without arguments it measures a synthetic 64-node, 1440-sample, 10-metric
 * job (the size the job view must render in well under 30 ms).
 *
 * "cold" parses get fresh memory from the kernel every time (glibc maps
 * blocks this large and unmaps them on free), so they include the page
 * faults for the doubles; "warm" raises glibc's mmap threshold so that freed
 * memory is reused, which is what a long-running worker can arrange with
 * mallopt. */
#include "config.h"
#include "../app/buf.h"
#include "../app/jobdata.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct jobdata *synthetic(size_t nodes, size_t samples, size_t metrics)
{
	static const char *const names[] = {
		"cpu_load", "cpu_user", "mem_used", "flops_any", "mem_bw",
		"net_bw", "clock", "ipc", "cpu_power", "mem_power", "ib_recv", "ib_xmit",
	};
	struct jobdata *d = jobdata_new();
	unsigned seed = 12345;
	for (size_t m = 0; m < metrics; m++) {
		char name[32];
		snprintf(name, sizeof(name), "%s", m < 12 ? names[m] : "metric");
		struct jobdata_metric *jm = jobdata_add_metric(d, name, "node", "F/s", "G", 60, nodes);
		for (size_t n = 0; n < nodes; n++) {
			char host[16];
			snprintf(host, sizeof(host), "n%04zu", n);
			double *v = jobdata_set_series(d, jm, n, host, NULL, samples);
			double level = 10.0 + (double)(m * 37 % 400);
			for (size_t i = 0; i < samples; i++) {
				seed = seed * 1103515245u + 12345u;
				double r = (double)(seed >> 8 & 0xffff) / 65536.0;
				v[i] = r < 0.003 ? NAN : round((level + r * level * 0.3) * 100) / 100;
			}
		}
	}
	jobdata_fill_stats(d, true);
	return d;
}

static void measure(const char *label, const char *text, size_t len)
{
	char err[256];
	int reps = 0;
	double best = 1e9, t0 = now();
	struct jobdata *d = NULL;
	while (reps < 5 || now() - t0 < 1.0) {
		double t = now();
		d = jobdata_parse(text, len, NULL, err, sizeof(err));
		double dt = now() - t;
		if (!d) {
			fprintf(stderr, "%s: %s\n", label, err);
			exit(1);
		}
		if (dt < best)
			best = dt;
		jobdata_free(d);
		reps++;
	}
	d = jobdata_parse(text, len, NULL, err, sizeof(err));
	size_t values = 0;
	for (size_t i = 0; i < d->nmetrics; i++)
		for (size_t j = 0; j < d->metrics[i]->nseries; j++)
			values += d->metrics[i]->series[j].len;
	printf("%s: %.2f MB, %zu values: parse %.2f ms = %.0f MB/s, %.1f Mvalues/s; held %.2f MB\n",
	       label, (double)len / 1e6, values, best * 1e3, (double)len / best / 1e6,
	       (double)values / best / 1e6, (double)jobdata_size(d) / 1e6);

	struct buf out = BUF_INIT;
	best = 1e9;
	for (int r = 0; r < 5; r++) {
		buf_reset(&out);
		double t = now();
		jobdata_write(d, &out);
		double dt = now() - t;
		if (dt < best)
			best = dt;
	}
	printf("%s: write %.2f MB in %.2f ms = %.0f MB/s\n", label, (double)out.len / 1e6, best * 1e3,
	       (double)out.len / best / 1e6);

	struct buf gz = BUF_INIT;
	double t = now();
	jobdata_gzip(out.data, out.len, &gz, err, sizeof(err));
	double tz = now() - t;
	struct buf back = BUF_INIT;
	t = now();
	jobdata_gunzip(gz.data, gz.len, &back, JOBDATA_GUNZIP_MAX, err, sizeof(err));
	double tu = now() - t;
	printf("%s: gzip %.2f MB -> %.2f MB in %.1f ms, gunzip %.1f ms\n", label, (double)out.len / 1e6,
	       (double)gz.len / 1e6, tz * 1e3, tu * 1e3);

	t = now();
	jobdata_add_stats_series(d, JOBDATA_STATS_SERIES_MIN);
	double ts = now() - t;
	struct buf pv = BUF_INIT;
	t = now();
	jobdata_preview(d, NULL, JOBDATA_PREVIEW_POINTS, &pv);
	double tp = now() - t;
	printf("%s: statisticsSeries %.2f ms, preview %.2f ms (%zu bytes)\n", label, ts * 1e3, tp * 1e3, pv.len);
	buf_release(&pv);
	buf_release(&gz);
	buf_release(&back);
	buf_release(&out);
	jobdata_free(d);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		struct jobdata *d = synthetic(64, 1440, 10);
		struct buf text = BUF_INIT;
		jobdata_write(d, &text);
		jobdata_free(d);
		measure("synthetic 64x1440x10 cold", text.data, text.len);
		mallopt(M_MMAP_THRESHOLD, 256 << 20);
		mallopt(M_TRIM_THRESHOLD, 512 << 20);
		measure("synthetic 64x1440x10 warm", text.data, text.len);
		buf_release(&text);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		struct buf raw = BUF_INIT;
		char tmp[65536];
		size_t n;
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			buf_add(&raw, tmp, n);
		fclose(f);
		struct buf text = BUF_INIT;
		char err[256];
		if (raw.len > 2 && (unsigned char)raw.data[0] == 0x1f) {
			double t = now();
			if (jobdata_gunzip(raw.data, raw.len, &text, JOBDATA_GUNZIP_MAX, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			printf("%s: gunzip %.2f -> %.2f MB in %.1f ms\n", argv[i], (double)raw.len / 1e6,
			       (double)text.len / 1e6, (now() - t) * 1e3);
		} else {
			buf_add(&text, raw.data, raw.len);
		}
		measure(argv[i], text.data, text.len);
		buf_release(&text);
		buf_release(&raw);
	}
	return 0;
}
