/*
 * check_table.c: unit tests for the hash tables of table.h and the
 * latency histogram of stats.h.
 *
 * u64tab is checked for lookups after growth, for deletion by backward
 * shift (every other key stays reachable, probe runs that wrap around the
 * end of the slots included, no tombstones left behind) and against a
 * plain array under a long random sequence of operations; strtab for
 * copies, duplicates and growth; the histogram for quantiles within its
 * documented ~3% on known distributions, an exact maximum and an empty
 * histogram. The random tests use a fixed seed, so a failure repeats.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "table.h"

/* A small deterministic generator (xorshift64*), so runs repeat. */
static uint64_t rng_state;

/* Seed the generator. */
static void
rng_seed(uint64_t seed)
{
	rng_state = seed != 0 ? seed : 1;
}

/* The next pseudo-random 64-bit number. */
static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A value to store for key: a distinct non-NULL pointer per key. */
static void *
val_of(uint64_t key)
{
	return (void *)(uintptr_t)(key * 2 + 1);
}

/* The number of occupied slots: equal to len when deletion leaves no
 * tombstones. */
static size_t
u64tab_occupied(const struct u64tab *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->keys[i] != 0)
			n++;
	return n;
}

START_TEST(u64tab_empty_table_finds_nothing)
{
	struct u64tab t = {0};

	ck_assert_ptr_null(u64tab_get(&t, 1));
	ck_assert_ptr_null(u64tab_get(&t, UINT64_MAX));
	u64tab_del(&t, 1);
	ck_assert_uint_eq(t.len, 0);
	ck_assert_uint_eq(t.cap, 0);
	u64tab_free(&t);
}
END_TEST

START_TEST(u64tab_put_get_many_keys_across_growth)
{
	struct u64tab t = {0};
	const uint64_t n = 20000;

	for (uint64_t k = 1; k <= n; k++) {
		u64tab_put(&t, k, val_of(k));
		ck_assert_uint_eq(t.len, k);
		/* A power of two, at most half full. */
		ck_assert_uint_eq(t.cap & (t.cap - 1), 0);
		ck_assert_uint_le(t.len * 2, t.cap);
	}
	for (uint64_t k = 1; k <= n; k++)
		ck_assert_ptr_eq(u64tab_get(&t, k), val_of(k));
	ck_assert_ptr_null(u64tab_get(&t, n + 1));
	ck_assert_ptr_null(u64tab_get(&t, UINT64_MAX));
	u64tab_free(&t);
	ck_assert_ptr_null(t.keys);
	ck_assert_uint_eq(t.len, 0);
}
END_TEST

START_TEST(u64tab_large_and_scattered_keys)
{
	struct u64tab t = {0};
	uint64_t keys[3000];

	rng_seed(42);
	for (size_t i = 0; i < 3000; i++) {
		do
			keys[i] = rng_next();
		while (keys[i] == 0);
		u64tab_put(&t, keys[i], val_of(keys[i]));
	}
	u64tab_put(&t, UINT64_MAX, val_of(7));
	for (size_t i = 0; i < 3000; i++)
		ck_assert_ptr_eq(u64tab_get(&t, keys[i]), val_of(keys[i]));
	ck_assert_ptr_eq(u64tab_get(&t, UINT64_MAX), val_of(7));
	u64tab_free(&t);
}
END_TEST

START_TEST(u64tab_put_replaces_the_value)
{
	struct u64tab t = {0};
	int a, b;

	u64tab_put(&t, 5, &a);
	u64tab_put(&t, 5, &b);
	ck_assert_uint_eq(t.len, 1);
	ck_assert_ptr_eq(u64tab_get(&t, 5), &b);
	u64tab_free(&t);
}
END_TEST

START_TEST(u64tab_delete_every_other_key_keeps_the_rest)
{
	struct u64tab t = {0};
	const uint64_t n = 10000;

	for (uint64_t k = 1; k <= n; k++)
		u64tab_put(&t, k, val_of(k));
	for (uint64_t k = 2; k <= n; k += 2)
		u64tab_del(&t, k);
	ck_assert_uint_eq(t.len, n / 2);
	ck_assert_uint_eq(u64tab_occupied(&t), t.len);
	for (uint64_t k = 1; k <= n; k++) {
		if (k % 2 == 0)
			ck_assert_ptr_null(u64tab_get(&t, k));
		else
			ck_assert_ptr_eq(u64tab_get(&t, k), val_of(k));
	}
	/* Deleting what is absent changes nothing. */
	u64tab_del(&t, 2);
	u64tab_del(&t, n + 5);
	ck_assert_uint_eq(t.len, n / 2);
	u64tab_free(&t);
}
END_TEST

/*
 * Seven keys in the first 16 slots (under half full): runs of colliding
 * keys, some wrapping around slot 15, are common. Delete each key of many
 * such sets in turn and check every other key of the set at each step.
 */
START_TEST(u64tab_delete_in_crowded_small_tables)
{
	rng_seed(7);
	for (int round = 0; round < 3000; round++) {
		struct u64tab t = {0};
		uint64_t keys[7];
		int gone[7] = {0};

		for (int i = 0; i < 7; i++) {
			/* Small keys collide often in 16 slots. */
			keys[i] = 1 + i * 40 + rng_next() % 40;
			u64tab_put(&t, keys[i], val_of(keys[i]));
		}
		ck_assert_uint_eq(t.cap, 16);
		for (int d = 0; d < 7; d++) {
			int i = (int)((d * 3 + round) % 7);

			u64tab_del(&t, keys[i]);
			gone[i] = 1;
			ck_assert_uint_eq(u64tab_occupied(&t), t.len);
			for (int j = 0; j < 7; j++) {
				void *v = u64tab_get(&t, keys[j]);

				if (gone[j])
					ck_assert_ptr_null(v);
				else
					ck_assert_ptr_eq(v, val_of(keys[j]));
			}
		}
		ck_assert_uint_eq(t.len, 0);
		u64tab_free(&t);
	}
}
END_TEST

START_TEST(u64tab_reinsert_after_delete)
{
	struct u64tab t = {0};

	for (uint64_t k = 1; k <= 100; k++)
		u64tab_put(&t, k, val_of(k));
	for (uint64_t k = 1; k <= 100; k++)
		u64tab_del(&t, k);
	ck_assert_uint_eq(t.len, 0);
	for (uint64_t k = 1; k <= 100; k++)
		ck_assert_ptr_null(u64tab_get(&t, k));
	for (uint64_t k = 100; k >= 1; k--)
		u64tab_put(&t, k, val_of(k + 1));
	ck_assert_uint_eq(t.len, 100);
	for (uint64_t k = 1; k <= 100; k++)
		ck_assert_ptr_eq(u64tab_get(&t, k), val_of(k + 1));
	u64tab_free(&t);
}
END_TEST

/* The scheduler's pattern: a window of live sequence numbers sliding over
 * a long stream. The table keeps the size of the window. */
START_TEST(u64tab_sliding_window_stays_small)
{
	struct u64tab t = {0};
	size_t cap;

	for (uint64_t k = 1; k <= 7; k++)
		u64tab_put(&t, k, val_of(k));
	cap = t.cap;
	for (uint64_t k = 8; k <= 200000; k++) {
		u64tab_put(&t, k, val_of(k));
		u64tab_del(&t, k - 7);
		ck_assert_uint_eq(t.len, 7);
	}
	ck_assert_uint_eq(t.cap, cap);
	ck_assert_uint_eq(u64tab_occupied(&t), 7);
	for (uint64_t k = 200000 - 6; k <= 200000; k++)
		ck_assert_ptr_eq(u64tab_get(&t, k), val_of(k));
	ck_assert_ptr_null(u64tab_get(&t, 200000 - 7));
	u64tab_free(&t);
}
END_TEST

/* Random puts, deletes and gets over a small key range, against a plain
 * array of what the table should hold. */
START_TEST(u64tab_matches_a_reference_array)
{
	enum { RANGE = 700, OPS = 300000 };
	static void *ref[RANGE + 1];
	struct u64tab t = {0};
	size_t len = 0;

	memset(ref, 0, sizeof ref);
	rng_seed(12345);
	for (int op = 0; op < OPS; op++) {
		uint64_t r = rng_next();
		uint64_t k = 1 + (r >> 8) % RANGE;

		switch (r % 4) {
		case 0:
		case 1:
			if (ref[k] == NULL)
				len++;
			ref[k] = val_of(k + (uint64_t)op);
			u64tab_put(&t, k, ref[k]);
			break;
		case 2:
			if (ref[k] != NULL)
				len--;
			ref[k] = NULL;
			u64tab_del(&t, k);
			break;
		default:
			ck_assert_ptr_eq(u64tab_get(&t, k), ref[k]);
			break;
		}
		ck_assert_uint_eq(t.len, len);
		if (op % 5000 == 0) {
			for (uint64_t j = 1; j <= RANGE; j++)
				ck_assert_ptr_eq(u64tab_get(&t, j), ref[j]);
			ck_assert_uint_eq(u64tab_occupied(&t), len);
		}
	}
	for (uint64_t j = 1; j <= RANGE; j++)
		ck_assert_ptr_eq(u64tab_get(&t, j), ref[j]);
	u64tab_free(&t);
}
END_TEST

START_TEST(strtab_add_and_get)
{
	struct strtab t = {0};

	ck_assert_uint_eq(strtab_get(&t, "a"), 0);
	ck_assert_int_eq(strtab_add(&t, "build", 3), 0);
	ck_assert_int_eq(strtab_add(&t, "test", 9), 0);
	ck_assert_uint_eq(strtab_get(&t, "build"), 3);
	ck_assert_uint_eq(strtab_get(&t, "test"), 9);
	ck_assert_uint_eq(strtab_get(&t, "buil"), 0);
	ck_assert_uint_eq(strtab_get(&t, "builds"), 0);
	ck_assert_uint_eq(strtab_get(&t, ""), 0);
	ck_assert_uint_eq(t.len, 2);
	strtab_free(&t);
	ck_assert_uint_eq(t.len, 0);
	ck_assert_ptr_null(t.keys);
}
END_TEST

START_TEST(strtab_duplicate_is_refused_and_keeps_the_first)
{
	struct strtab t = {0};

	ck_assert_int_eq(strtab_add(&t, "x", 1), 0);
	ck_assert_int_eq(strtab_add(&t, "x", 2), -1);
	ck_assert_uint_eq(strtab_get(&t, "x"), 1);
	ck_assert_uint_eq(t.len, 1);
	/* Case matters. */
	ck_assert_int_eq(strtab_add(&t, "X", 2), 0);
	ck_assert_uint_eq(strtab_get(&t, "X"), 2);
	strtab_free(&t);
}
END_TEST

START_TEST(strtab_copies_its_keys)
{
	struct strtab t = {0};
	char key[16];

	strcpy(key, "job-1");
	ck_assert_int_eq(strtab_add(&t, key, 11), 0);
	strcpy(key, "other");
	ck_assert_uint_eq(strtab_get(&t, "job-1"), 11);
	ck_assert_uint_eq(strtab_get(&t, "other"), 0);
	strtab_free(&t);
}
END_TEST

START_TEST(strtab_many_keys_across_growth)
{
	struct strtab t = {0};
	char key[32];

	for (uint64_t i = 1; i <= 20000; i++) {
		snprintf(key, sizeof key, "id-%llu", (unsigned long long)i);
		ck_assert_int_eq(strtab_add(&t, key, i), 0);
		ck_assert_uint_le(t.len * 2, t.cap);
	}
	ck_assert_uint_eq(t.len, 20000);
	for (uint64_t i = 1; i <= 20000; i++) {
		snprintf(key, sizeof key, "id-%llu", (unsigned long long)i);
		ck_assert_uint_eq(strtab_get(&t, key), i);
		ck_assert_int_eq(strtab_add(&t, key, i + 1), -1);
	}
	ck_assert_uint_eq(strtab_get(&t, "id-0"), 0);
	ck_assert_uint_eq(strtab_get(&t, "id-20001"), 0);
	strtab_free(&t);
}
END_TEST

/* The exact q-quantile of n sorted values, by the histogram's rank rule
 * (the ceil(q * n)-th smallest). */
static double
exact_quantile(const double *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

/* Order doubles for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Check the histogram's quantiles of v[0..n) against the exact ones: an
 * upper bound, at most ~3% (or the 1 us resolution) above. */
static void
check_quantiles(double *v, size_t n)
{
	static const double qs[] = {0.01, 0.1,	0.25,  0.5, 0.75,
				    0.9,  0.99, 0.999, 1.0};
	struct hist *h = calloc(1, sizeof *h);
	double max = 0;

	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < n; i++) {
		hist_add(h, v[i]);
		if (v[i] > max)
			max = v[i];
	}
	ck_assert_uint_eq(h->n, n);
	ck_assert(h->max == max);
	qsort(v, n, sizeof *v, cmp_double);
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		double want = exact_quantile(v, n, qs[i]);
		double got = hist_quantile(h, qs[i]);

		ck_assert_msg(got >= want * (1 - 1e-9) &&
				  got <= want * 1.0325 + 1e-6,
			      "q=%g: got %.9g, exact %.9g", qs[i], got, want);
	}
	ck_assert(hist_quantile(h, 1.0) == max);
	free(h);
}

START_TEST(hist_empty_is_zero)
{
	struct hist *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	ck_assert(hist_quantile(h, 0.5) == 0);
	ck_assert(hist_quantile(h, 0.99) == 0);
	ck_assert(hist_quantile(h, 1.0) == 0);
	ck_assert(h->max == 0);
	free(h);
}
END_TEST

START_TEST(hist_single_value_is_exact)
{
	struct hist *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	hist_add(h, 0.0123);
	/* Capped at the maximum seen: exact. */
	ck_assert(hist_quantile(h, 0.5) == 0.0123);
	ck_assert(hist_quantile(h, 1.0) == 0.0123);
	ck_assert(h->max == 0.0123);
	free(h);
}
END_TEST

START_TEST(hist_zero_and_tiny_durations)
{
	struct hist *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	for (int i = 0; i < 10; i++)
		hist_add(h, 0);
	ck_assert(hist_quantile(h, 0.5) == 0);
	ck_assert(h->max == 0);
	/* Below 32 us the buckets are 1 us wide. */
	for (int i = 0; i < 90; i++)
		hist_add(h, 10.5e-6);
	ck_assert_msg(fabs(hist_quantile(h, 0.5) - 10.5e-6) < 1e-6, "p50 %.9g",
		      hist_quantile(h, 0.5));
	ck_assert(hist_quantile(h, 0.05) <= 1e-6);
	free(h);
}
END_TEST

START_TEST(hist_huge_durations_keep_the_max)
{
	struct hist *h = calloc(1, sizeof *h);

	ck_assert_ptr_nonnull(h);
	hist_add(h, 1e-3);
	hist_add(h, 1e9);
	ck_assert(h->max == 1e9);
	ck_assert(hist_quantile(h, 1.0) == 1e9);
	ck_assert(hist_quantile(h, 0.5) >= 1e-3);
	ck_assert(hist_quantile(h, 0.5) <= 1.0325e-3);
	free(h);
}
END_TEST

START_TEST(hist_uniform_distribution)
{
	enum { N = 100000 };
	double *v = malloc(N * sizeof *v);

	ck_assert_ptr_nonnull(v);
	/* 1 us .. 100 ms, evenly. */
	for (size_t i = 0; i < N; i++)
		v[i] = (double)(i + 1) * 1e-6;
	check_quantiles(v, N);
	free(v);
}
END_TEST

START_TEST(hist_log_uniform_distribution)
{
	enum { N = 100000 };
	double *v = malloc(N * sizeof *v);

	ck_assert_ptr_nonnull(v);
	rng_seed(99);
	/* 1 us .. 1000 s, as many per decade. */
	for (size_t i = 0; i < N; i++) {
		double u = (double)(rng_next() >> 11) / 9007199254740992.0;
		v[i] = 1e-6 * pow(10, 9 * u);
	}
	check_quantiles(v, N);
	free(v);
}
END_TEST

START_TEST(hist_exponential_distribution)
{
	enum { N = 50000 };
	double *v = malloc(N * sizeof *v);

	ck_assert_ptr_nonnull(v);
	rng_seed(5);
	/* Mean 20 ms: p50 ~ 13.9 ms, p99 ~ 92 ms. */
	for (size_t i = 0; i < N; i++) {
		double u =
		    ((double)(rng_next() >> 11) + 1) / 9007199254740993.0;
		v[i] = -0.02 * log(u);
	}
	check_quantiles(v, N);
	free(v);
}
END_TEST

START_TEST(hist_two_point_distribution)
{
	struct hist *h = calloc(1, sizeof *h);
	double p50, p99;

	ck_assert_ptr_nonnull(h);
	for (int i = 0; i < 900; i++)
		hist_add(h, 0.001);
	for (int i = 0; i < 100; i++)
		hist_add(h, 2.0);
	p50 = hist_quantile(h, 0.5);
	p99 = hist_quantile(h, 0.99);
	ck_assert_msg(p50 >= 0.001 && p50 <= 0.001 * 1.0325, "p50 %g", p50);
	ck_assert_msg(p99 == 2.0, "p99 %g", p99);
	ck_assert(hist_quantile(h, 0.9) <= 0.001 * 1.0325);
	ck_assert(hist_quantile(h, 0.901) == 2.0);
	free(h);
}
END_TEST

/* The suite. */
static Suite *
table_suite(void)
{
	Suite *s = suite_create("table");
	TCase *tc = tcase_create("u64tab");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, u64tab_empty_table_finds_nothing);
	tcase_add_test(tc, u64tab_put_get_many_keys_across_growth);
	tcase_add_test(tc, u64tab_large_and_scattered_keys);
	tcase_add_test(tc, u64tab_put_replaces_the_value);
	tcase_add_test(tc, u64tab_delete_every_other_key_keeps_the_rest);
	tcase_add_test(tc, u64tab_delete_in_crowded_small_tables);
	tcase_add_test(tc, u64tab_reinsert_after_delete);
	tcase_add_test(tc, u64tab_sliding_window_stays_small);
	tcase_add_test(tc, u64tab_matches_a_reference_array);
	suite_add_tcase(s, tc);

	tc = tcase_create("strtab");
	tcase_add_test(tc, strtab_add_and_get);
	tcase_add_test(tc, strtab_duplicate_is_refused_and_keeps_the_first);
	tcase_add_test(tc, strtab_copies_its_keys);
	tcase_add_test(tc, strtab_many_keys_across_growth);
	suite_add_tcase(s, tc);

	tc = tcase_create("hist");
	tcase_add_test(tc, hist_empty_is_zero);
	tcase_add_test(tc, hist_single_value_is_exact);
	tcase_add_test(tc, hist_zero_and_tiny_durations);
	tcase_add_test(tc, hist_huge_durations_keep_the_max);
	tcase_add_test(tc, hist_uniform_distribution);
	tcase_add_test(tc, hist_log_uniform_distribution);
	tcase_add_test(tc, hist_exponential_distribution);
	tcase_add_test(tc, hist_two_point_distribution);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(table_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
