/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h - helpers for benchmarks on a shared, noisy machine: a measurement and its baseline
 * run in alternating short rounds in one process, so both see the same machine; the report is
 * the median over rounds of each time and of their ratio.
 */
#ifndef CLOAK_BENCH_H
#define CLOAK_BENCH_H

#include <stdlib.h>
#include <time.h>

#define BENCH_ROUNDS 15

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs fn(arg) repeatedly for about `secs`; returns seconds per call (or -1 on failure). */
static inline double bench_time(int (*fn)(void *), void *arg, double secs)
{
	unsigned long n = 0;
	double t0 = bench_now(), t;
	do {
		if (fn(arg) < 0)
			return -1;
		n++;
	} while ((t = bench_now() - t0) < secs);
	return t / (double)n;
}

#endif
