/*
 * check_frame.c: the frame format and the job and result payload codecs.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "util.h"

/* Write a raw header with any length and type. */
static void
put_raw_header(struct buf *b, uint32_t len, uint32_t type, uint64_t tag)
{
	buf_add(b, &len, sizeof len);
	buf_add(b, &type, sizeof type);
	buf_add(b, &tag, sizeof tag);
}

START_TEST(test_frame_round_trip_keeps_type_tag_payload)
{
	struct buf b = BUF_INIT;
	struct frame f;
	char big[70000];
	size_t pos = 0;
	ssize_t n;

	memset(big, 'x', sizeof big);
	big[100] = '\0';
	frame_put(&b, FRAME_JOB, 1, "hello", 5);
	frame_put(&b, FRAME_RESULT, UINT64_MAX, NULL, 0);
	frame_put(&b, FRAME_JOB, 42, big, sizeof big);

	n = frame_decode(b.data, b.len, &f);
	ck_assert_int_eq(n, FRAME_HDR + 5);
	ck_assert_uint_eq(f.type, FRAME_JOB);
	ck_assert_uint_eq(f.tag, 1);
	ck_assert_uint_eq(f.len, 5);
	ck_assert(memcmp(f.payload, "hello", 5) == 0);
	pos += (size_t)n;

	n = frame_decode(b.data + pos, b.len - pos, &f);
	ck_assert_int_eq(n, FRAME_HDR);
	ck_assert_uint_eq(f.type, FRAME_RESULT);
	ck_assert(f.tag == UINT64_MAX);
	ck_assert_uint_eq(f.len, 0);
	pos += (size_t)n;

	n = frame_decode(b.data + pos, b.len - pos, &f);
	ck_assert_int_eq(n, FRAME_HDR + sizeof big);
	ck_assert_uint_eq(f.tag, 42);
	ck_assert(memcmp(f.payload, big, sizeof big) == 0);
	pos += (size_t)n;
	ck_assert_uint_eq(pos, b.len);
	ck_assert_int_eq(frame_decode(b.data + pos, 0, &f), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_every_prefix_of_a_stream_needs_more)
{
	struct buf b = BUF_INIT;
	size_t ends[3];

	frame_put(&b, FRAME_JOB, 7, "abc", 3);
	ends[0] = b.len;
	frame_put(&b, FRAME_RESULT, 8, "", 0);
	ends[1] = b.len;
	frame_put(&b, FRAME_JOB, 9, "0123456789", 10);
	ends[2] = b.len;

	for (size_t cut = 0; cut <= b.len; cut++) {
		size_t pos = 0, whole = 0;
		struct frame f;
		ssize_t n;

		while ((n = frame_decode(b.data + pos, cut - pos, &f)) > 0) {
			pos += (size_t)n;
			whole++;
		}
		ck_assert_msg(n == 0, "prefix %zu: got %zd", cut, n);
		size_t expect = 0;
		for (int i = 0; i < 3; i++)
			if (ends[i] <= cut)
				expect++;
		ck_assert_uint_eq(whole, expect);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_rejects_unknown_types_early)
{
	uint32_t bad[] = {0, 3, 0x7fffffff, 0xffffffff};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct buf b = BUF_INIT;
		struct frame f;

		put_raw_header(&b, 4, bad[i], 1);
		buf_add(&b, "abcd", 4);
		ck_assert_int_eq(frame_decode(b.data, b.len, &f), -1);
		/* Known as soon as the type field is in. */
		ck_assert_int_eq(frame_decode(b.data, 8, &f), -1);
		ck_assert_int_eq(frame_decode(b.data, 7, &f), 0);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_frame_rejects_oversized_lengths)
{
	struct buf b = BUF_INIT;
	struct frame f;

	put_raw_header(&b, FRAME_MAX + 1, FRAME_JOB, 1);
	ck_assert_int_eq(frame_decode(b.data, b.len, &f), -1);
	ck_assert_int_eq(frame_decode(b.data, 4, &f), -1);
	ck_assert_int_eq(frame_decode(b.data, 3, &f), 0);
	buf_reset(&b);
	put_raw_header(&b, UINT32_MAX, FRAME_RESULT, 1);
	ck_assert_int_eq(frame_decode(b.data, b.len, &f), -1);
	buf_reset(&b);
	/* The largest payload is fine: it only needs more bytes. */
	put_raw_header(&b, FRAME_MAX, FRAME_RESULT, 1);
	ck_assert_int_eq(frame_decode(b.data, b.len, &f), 0);
	buf_free(&b);
}
END_TEST

/* Encode a job, decode its frame and payload, return argc. */
static int
job_round_trip(int kind, int argc, char *const argv[], char **out,
	       struct buf *b)
{
	struct frame f;
	struct frame_job j;

	buf_reset(b);
	ck_assert_int_eq(frame_put_job(b, 5, kind, argc, argv), 0);
	ck_assert_int_eq(frame_decode(b->data, b->len, &f), (ssize_t)b->len);
	ck_assert_uint_eq(f.type, FRAME_JOB);
	ck_assert_uint_eq(f.tag, 5);
	ck_assert_int_eq(frame_job_decode(f.payload, f.len, &j), 0);
	ck_assert_uint_eq(j.kind, (uint32_t)kind);
	frame_job_argv(&j, out);
	return (int)j.argc;
}

START_TEST(test_frame_job_round_trips)
{
	char *none[] = {NULL};
	char *empties[] = {"", "a", "", NULL};
	char *out[8];
	struct buf b = BUF_INIT;
	char *big = xmalloc(1024 * 1024 + 1);
	char *bigv[] = {big, "tail", NULL};

	ck_assert_int_eq(job_round_trip(0, 0, none, out, &b), 0);
	ck_assert_ptr_null(out[0]);

	ck_assert_int_eq(job_round_trip(3, 3, empties, out, &b), 3);
	ck_assert_str_eq(out[0], "");
	ck_assert_str_eq(out[1], "a");
	ck_assert_str_eq(out[2], "");
	ck_assert_ptr_null(out[3]);

	memset(big, 'z', 1024 * 1024);
	big[1024 * 1024] = '\0';
	ck_assert_int_eq(job_round_trip(1, 2, bigv, out, &b), 2);
	ck_assert_str_eq(out[0], big);
	ck_assert_str_eq(out[1], "tail");
	free(big);
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_job_too_big_appends_nothing)
{
	size_t n = FRAME_MAX; /* with the 8 fixed bytes, one too many */
	char *big = xmalloc(n);
	char *argv[] = {big, NULL};
	struct buf b = BUF_INIT;

	memset(big, 'q', n - 1);
	big[n - 1] = '\0';
	buf_add(&b, "keep", 4);
	ck_assert_int_eq(frame_put_job(&b, 1, 0, 1, argv), -1);
	ck_assert_uint_eq(b.len, 4);
	/* Exactly FRAME_MAX is accepted. */
	big[n - 9] = '\0';
	ck_assert_int_eq(frame_put_job(&b, 1, 0, 1, argv), 0);
	ck_assert_uint_eq(b.len, 4 + FRAME_HDR + FRAME_MAX);
	free(big);
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_job_rejects_malformed_payloads)
{
	char *argv[] = {"primes", "100", NULL};
	struct buf b = BUF_INIT;
	struct frame_job j;
	const char *p;
	size_t len;
	char tmp[64];
	uint32_t v;

	frame_put_job(&b, 1, 2, 2, argv);
	p = b.data + FRAME_HDR;
	len = b.len - FRAME_HDR;
	ck_assert_int_eq(frame_job_decode(p, len, &j), 0);
	/* Every shorter payload is malformed. */
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_msg(frame_job_decode(p, cut, &j) == -1, "cut %zu",
			      cut);
	/* A trailing byte too. */
	memcpy(tmp, p, len);
	tmp[len] = 'x';
	ck_assert_int_eq(frame_job_decode(tmp, len + 1, &j), -1);
	tmp[len] = '\0';
	ck_assert_int_eq(frame_job_decode(tmp, len + 1, &j), -1);
	/* argc that does not match the strings. */
	memcpy(tmp, p, len);
	v = 3;
	memcpy(tmp + 4, &v, 4);
	ck_assert_int_eq(frame_job_decode(tmp, len, &j), -1);
	v = UINT32_MAX;
	memcpy(tmp + 4, &v, 4);
	ck_assert_int_eq(frame_job_decode(tmp, len, &j), -1);
	/* A kind index that is no int. */
	memcpy(tmp, p, len);
	v = 0x80000000u;
	memcpy(tmp, &v, 4);
	ck_assert_int_eq(frame_job_decode(tmp, len, &j), -1);
	/* Zero arguments but bytes left over. */
	memcpy(tmp, p, len);
	v = 0;
	memcpy(tmp + 4, &v, 4);
	ck_assert_int_eq(frame_job_decode(tmp, len, &j), -1);
	buf_free(&b);
}
END_TEST

/* Encode r, decode its frame and payload into out. */
static void
result_round_trip(const struct frame_result *r, struct frame_result *out,
		  struct buf *b)
{
	struct frame f;

	buf_reset(b);
	ck_assert_int_eq(frame_put_result(b, 77, r), 0);
	ck_assert_int_eq(frame_decode(b->data, b->len, &f), (ssize_t)b->len);
	ck_assert_uint_eq(f.type, FRAME_RESULT);
	ck_assert_uint_eq(f.tag, 77);
	ck_assert_int_eq(frame_result_decode(f.payload, f.len, out), 0);
}

START_TEST(test_frame_result_round_trips)
{
	struct frame_result r = {0}, o;
	struct buf b = BUF_INIT;
	const char bin[] = {'a', '\0', 'b', '\n'};

	r.ok = 1;
	result_round_trip(&r, &o, &b);
	ck_assert(o.ok);
	ck_assert(!o.truncated);
	ck_assert_uint_eq(o.vlen, 0);
	ck_assert_uint_eq(o.elen, 0);

	r.value = bin;
	r.vlen = sizeof bin;
	r.truncated = 1;
	result_round_trip(&r, &o, &b);
	ck_assert(o.ok && o.truncated);
	ck_assert_uint_eq(o.vlen, sizeof bin);
	ck_assert(memcmp(o.value, bin, sizeof bin) == 0);

	memset(&r, 0, sizeof r);
	r.error = "read: /nope: No such file or directory";
	r.elen = strlen(r.error);
	result_round_trip(&r, &o, &b);
	ck_assert(!o.ok && !o.truncated);
	ck_assert_uint_eq(o.vlen, 0);
	ck_assert_uint_eq(o.elen, r.elen);
	ck_assert(memcmp(o.error, r.error, r.elen) == 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_result_max_size)
{
	struct frame_result r = {0}, o;
	struct buf b = BUF_INIT;
	size_t most = FRAME_MAX - 16; /* the four u32 fields */
	char *v = xcalloc(1, most + 1);

	r.ok = 1;
	r.value = v;
	r.vlen = (uint32_t)most;
	result_round_trip(&r, &o, &b);
	ck_assert_uint_eq(o.vlen, most);
	buf_reset(&b);
	r.vlen++;
	ck_assert_int_eq(frame_put_result(&b, 1, &r), -1);
	ck_assert_uint_eq(b.len, 0);
	r.vlen = UINT32_MAX;
	ck_assert_int_eq(frame_put_result(&b, 1, &r), -1);
	ck_assert_uint_eq(b.len, 0);
	free(v);
	buf_free(&b);
}
END_TEST

START_TEST(test_frame_result_rejects_malformed_payloads)
{
	struct frame_result r = {0}, o;
	struct buf b = BUF_INIT;
	char tmp[64];
	const char *p;
	size_t len;
	uint32_t v;

	r.ok = 1;
	r.value = "25";
	r.vlen = 2;
	r.error = "e";
	r.elen = 1;
	frame_put_result(&b, 1, &r);
	p = b.data + FRAME_HDR;
	len = b.len - FRAME_HDR;
	ck_assert_int_eq(frame_result_decode(p, len, &o), 0);
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_msg(frame_result_decode(p, cut, &o) == -1, "cut %zu",
			      cut);
	memcpy(tmp, p, len);
	tmp[len] = 'x';
	ck_assert_int_eq(frame_result_decode(tmp, len + 1, &o), -1);
	/* Status other than ok or failed. */
	v = 2;
	memcpy(tmp, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	/* Unknown flag bits. */
	memcpy(tmp, p, len);
	v = 0x2;
	memcpy(tmp + 4, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	/* A value length past the end, or one that wraps. */
	memcpy(tmp, p, len);
	v = 1000;
	memcpy(tmp + 8, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	v = UINT32_MAX;
	memcpy(tmp + 8, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	/* An error length past the end, or one that wraps. */
	memcpy(tmp, p, len);
	v = 2;
	memcpy(tmp + 14, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	v = UINT32_MAX;
	memcpy(tmp + 14, &v, 4);
	ck_assert_int_eq(frame_result_decode(tmp, len, &o), -1);
	buf_free(&b);
}
END_TEST

/* The suite. */
static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");

	tcase_add_test(tc, test_frame_round_trip_keeps_type_tag_payload);
	tcase_add_test(tc, test_frame_every_prefix_of_a_stream_needs_more);
	tcase_add_test(tc, test_frame_rejects_unknown_types_early);
	tcase_add_test(tc, test_frame_rejects_oversized_lengths);
	tcase_add_test(tc, test_frame_job_round_trips);
	tcase_add_test(tc, test_frame_job_too_big_appends_nothing);
	tcase_add_test(tc, test_frame_job_rejects_malformed_payloads);
	tcase_add_test(tc, test_frame_result_round_trips);
	tcase_add_test(tc, test_frame_result_max_size);
	tcase_add_test(tc, test_frame_result_rejects_malformed_payloads);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
