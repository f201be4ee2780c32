/*
 * check_report.c: result records, text and JSON (corun(1),
 * OUTPUT), and the buffered writer.
 *
 * Records are compared byte for byte with the lines corun(1) describes.
 * Set CHECK_REPORT_JSON=FILE to have every JSON line the tests produce
 * appended to FILE, so a JSON parser can check them all.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "report.h"

static struct buf out = BUF_INIT;
static struct result res;
static struct record rec;

/* A fresh ok record: id "j", seq 1, jobs.txt:3, kind sleep on the loop. */
static void
setup(void)
{
	result_init(&res);
	rec = (struct record){
	    .id = "j",
	    .seq = 1,
	    .file = "jobs.txt",
	    .line = 3,
	    .kind = "sleep",
	    .executor = "loop",
	    .res = &res,
	    .attempts = 1,
	    .elapsed = 0.1,
	};
	buf_reset(&out);
}

/* Release the result and the output. */
static void
teardown(void)
{
	result_free(&res);
	buf_free(&out);
}

/* Append a JSON line to $CHECK_REPORT_JSON, if set. */
static void
log_json(const char *line, size_t len)
{
	const char *path = getenv("CHECK_REPORT_JSON");
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, line, len), 0);
	close(fd);
}

/* The record formatted, as a string (it must hold no NUL byte). */
static const char *
format(int json)
{
	buf_reset(&out);
	report_format(&out, &rec, json);
	ck_assert_uint_eq(strlen(out.data), out.len);
	if (json)
		log_json(out.data, out.len);
	return out.data;
}

/* s as a JSON string, as a C string. */
static const char *
jstr(const char *s, size_t len)
{
	buf_reset(&out);
	report_json_string(&out, s, len);
	ck_assert_uint_eq(strlen(out.data), out.len);
	return out.data;
}

/* A string literal (NUL bytes and all) as a JSON string. */
#define JSTR(lit) jstr(lit, sizeof lit - 1)

/* Make rec an exec job with this outcome. */
static void
set_exec(enum job_status st, const char *value, const char *errout, int ex,
	 int sig, const char *error)
{
	rec.kind = "exec";
	rec.output = 1;
	res.status = st;
	res.has_errout = true;
	buf_adds(&res.value, value);
	buf_adds(&res.errout, errout);
	res.exit = ex;
	res.signal = sig;
	if (error != NULL)
		result_error(&res, "%s", error);
}

START_TEST(json_ok_sleep_has_empty_value_and_null_child_fields)
{
	ck_assert_str_eq(format(1),
			 "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
			 "\"kind\":\"sleep\",\"executor\":\"loop\","
			 "\"status\":\"ok\",\"value\":\"\",\"stderr\":null,"
			 "\"truncated\":false,\"error\":null,\"exit\":null,"
			 "\"signal\":null,\"attempts\":1,"
			 "\"queued\":null,\"start\":null,\"elapsed\":0.100000}"
			 "\n");
}
END_TEST

START_TEST(json_ok_exec_has_stdout_stderr_and_exit_0)
{
	set_exec(ST_OK, "hello\nworld\n", "warn\n", 0, 0, NULL);
	rec.elapsed = 1.23456789;
	ck_assert_str_eq(format(1),
			 "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
			 "\"kind\":\"exec\",\"executor\":\"loop\","
			 "\"status\":\"ok\",\"value\":\"hello\\nworld\\n\","
			 "\"stderr\":\"warn\\n\",\"truncated\":false,"
			 "\"error\":null,\"exit\":0,\"signal\":null,"
			 "\"attempts\":1,"
			 "\"queued\":null,\"start\":null,\"elapsed\":1.234568}\n");
}
END_TEST

START_TEST(json_failed_exec_keeps_value_and_gives_exit_3)
{
	set_exec(ST_FAILED, "partial", "", 3, 0, "exit status 3");
	rec.kind = "sh";
	rec.output = 1;
	rec.attempts = 2;
	ck_assert_str_eq(format(1),
			 "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
			 "\"kind\":\"sh\",\"executor\":\"loop\","
			 "\"status\":\"failed\",\"value\":\"partial\","
			 "\"stderr\":\"\",\"truncated\":false,"
			 "\"error\":\"exit status 3\",\"exit\":3,"
			 "\"signal\":null,\"attempts\":2,"
			 "\"queued\":null,\"start\":null,\"elapsed\":0.100000}"
			 "\n");
}
END_TEST

START_TEST(json_signalled_child_has_null_exit_and_signal_9)
{
	set_exec(ST_FAILED, "", "", -1, 9, "killed by signal 9 (SIGKILL)");
	ck_assert_str_eq(format(1),
			 "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
			 "\"kind\":\"exec\",\"executor\":\"loop\","
			 "\"status\":\"failed\",\"value\":\"\",\"stderr\":\"\","
			 "\"truncated\":false,"
			 "\"error\":\"killed by signal 9 (SIGKILL)\","
			 "\"exit\":null,\"signal\":9,\"attempts\":1,"
			 "\"queued\":null,\"start\":null,"
			 "\"elapsed\":0.100000}\n");
}
END_TEST

START_TEST(json_timeout_of_sleep_has_null_value_and_signal)
{
	res.status = ST_TIMEOUT;
	result_error(&res, "timed out after 0.5s");
	rec.elapsed = 0.5;
	ck_assert_str_eq(
	    format(1), "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
		       "\"kind\":\"sleep\",\"executor\":\"loop\","
		       "\"status\":\"timeout\",\"value\":null,\"stderr\":null,"
		       "\"truncated\":false,"
		       "\"error\":\"timed out after 0.5s\",\"exit\":null,"
		       "\"signal\":null,\"attempts\":1,"
		       "\"queued\":null,\"start\":null,\"elapsed\":0.500000}"
		       "\n");
}
END_TEST

START_TEST(json_timeout_of_exec_has_signal_15_and_null_exit)
{
	set_exec(ST_TIMEOUT, "tick\n", "", -1, 15, "timed out after 1s");
	ck_assert_str_eq(format(1),
			 "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
			 "\"kind\":\"exec\",\"executor\":\"loop\","
			 "\"status\":\"timeout\",\"value\":\"tick\\n\","
			 "\"stderr\":\"\",\"truncated\":false,"
			 "\"error\":\"timed out after 1s\",\"exit\":null,"
			 "\"signal\":15,\"attempts\":1,"
			 "\"queued\":null,\"start\":null,\"elapsed\":0.100000}"
			 "\n");
}
END_TEST

START_TEST(json_process_timeout_has_signal_9)
{
	rec.kind = "spin";
	rec.executor = "process";
	res.status = ST_TIMEOUT;
	res.signal = 9;
	result_error(&res, "timed out after 1s");
	ck_assert_str_eq(
	    format(1), "{\"id\":\"j\",\"seq\":1,\"source\":\"jobs.txt:3\","
		       "\"kind\":\"spin\",\"executor\":\"process\","
		       "\"status\":\"timeout\",\"value\":null,\"stderr\":null,"
		       "\"truncated\":false,"
		       "\"error\":\"timed out after 1s\",\"exit\":null,"
		       "\"signal\":9,\"attempts\":1,"
		       "\"queued\":null,\"start\":null,\"elapsed\":0.100000}"
		       "\n");
}
END_TEST

START_TEST(json_error_record_without_kind_is_all_null)
{
	rec.id = NULL;
	rec.seq = 7;
	rec.file = "-";
	rec.line = 12;
	rec.kind = NULL;
	rec.executor = NULL;
	rec.attempts = 0;
	rec.elapsed = 0;
	res.status = ST_ERROR;
	result_error(&res, "unterminated quote");
	ck_assert_str_eq(format(1),
			 "{\"id\":\"7\",\"seq\":7,\"source\":\"-:12\","
			 "\"kind\":null,\"executor\":null,"
			 "\"status\":\"error\",\"value\":null,\"stderr\":null,"
			 "\"truncated\":false,"
			 "\"error\":\"unterminated quote\",\"exit\":null,"
			 "\"signal\":null,\"attempts\":0,"
			 "\"queued\":null,\"start\":null,\"elapsed\":0.000000}"
			 "\n");
}
END_TEST

START_TEST(json_error_record_with_exec_kind_has_null_value)
{
	rec.id = "bad";
	rec.file = "-";
	rec.kind = "exec";
	rec.output = 1;
	rec.executor = NULL;
	rec.attempts = 0;
	rec.elapsed = 0;
	res.status = ST_ERROR;
	result_error(&res, "exec: expected at least 1 argument");
	ck_assert_str_eq(format(1),
			 "{\"id\":\"bad\",\"seq\":1,\"source\":\"-:3\","
			 "\"kind\":\"exec\",\"executor\":null,"
			 "\"status\":\"error\",\"value\":null,\"stderr\":null,"
			 "\"truncated\":false,"
			 "\"error\":\"exec: expected at least 1 argument\","
			 "\"exit\":null,\"signal\":null,\"attempts\":0,"
			 "\"queued\":null,\"start\":null,"
			 "\"elapsed\":0.000000}\n");
}
END_TEST

START_TEST(json_id_absent_is_the_sequence_number_as_a_string)
{
	rec.id = NULL;
	rec.seq = 18446744073709551615u;
	format(1);
	ck_assert_ptr_nonnull(strstr(out.data,
				     "{\"id\":\"18446744073709551615\","
				     "\"seq\":18446744073709551615,"));
}
END_TEST

START_TEST(json_failed_thread_job_has_null_value_and_stderr)
{
	rec.kind = "read";
	rec.executor = "thread";
	res.status = ST_FAILED;
	result_error(&res, "read: /nope: No such file or directory");
	format(1);
	ck_assert_ptr_nonnull(
	    strstr(out.data, "\"value\":null,\"stderr\":null,"));
	ck_assert_ptr_nonnull(strstr(
	    out.data, "\"error\":\"read: /nope: No such file or directory\","));
}
END_TEST

START_TEST(json_exec_cancelled_while_queued_still_has_strings)
{
	rec.kind = "exec";
	rec.output = 1;
	rec.attempts = 0;
	rec.elapsed = 0;
	res.status = ST_CANCELLED;
	format(1);
	ck_assert_ptr_nonnull(strstr(out.data,
				     "\"status\":\"cancelled\",\"value\":\"\","
				     "\"stderr\":\"\",\"truncated\":false,"
				     "\"error\":\"cancelled\",\"exit\":null,"));
}
END_TEST

START_TEST(json_result_with_child_output_has_child_fields)
{
	/* has_errout marks captured child output, whatever the kind word */
	rec.kind = "runner";
	res.status = ST_FAILED;
	res.has_errout = true;
	res.exit = 4;
	buf_adds(&res.errout, "e");
	result_error(&res, "exit status 4");
	format(1);
	ck_assert_ptr_nonnull(strstr(
	    out.data, "\"value\":\"\",\"stderr\":\"e\",\"truncated\":false,"
		      "\"error\":\"exit status 4\",\"exit\":4,"));
}
END_TEST

START_TEST(json_truncated_value_says_true)
{
	set_exec(ST_OK, "x", "", 0, 0, NULL);
	res.truncated = true;
	format(1);
	ck_assert_ptr_nonnull(strstr(out.data, ",\"truncated\":true,"));
}
END_TEST

START_TEST(json_source_file_name_is_escaped)
{
	rec.file = "a\"b\n.txt";
	rec.line = 42;
	format(1);
	ck_assert_ptr_nonnull(
	    strstr(out.data, ",\"source\":\"a\\\"b\\n.txt:42\","));
}
END_TEST

START_TEST(json_elapsed_has_six_decimals)
{
	static const double v[] = {0, 0.0000004, 0.25, 1.5, 59.9999999, 3600};
	char want[64];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		rec.elapsed = v[i];
		snprintf(want, sizeof want, ",\"elapsed\":%.6f}\n", v[i]);
		format(1);
		ck_assert_str_eq(out.data + out.len - strlen(want), want);
	}
}
END_TEST

START_TEST(json_escapes_every_control_character)
{
	static const char *const named[32] = {
	    ['\b'] = "\"\\b\"", ['\t'] = "\"\\t\"", ['\n'] = "\"\\n\"",
	    ['\f'] = "\"\\f\"", ['\r'] = "\"\\r\"",
	};
	char want[16];

	for (int c = 0; c < 32; c++) {
		char s = (char)c;
		if (named[c] != NULL)
			snprintf(want, sizeof want, "%s", named[c]);
		else
			snprintf(want, sizeof want, "\"\\u%04x\"", c);
		ck_assert_str_eq(jstr(&s, 1), want);
	}
	ck_assert_str_eq(JSTR("\x7f"), "\"\\u007f\"");
}
END_TEST

START_TEST(json_escapes_quote_and_backslash)
{
	ck_assert_str_eq(JSTR("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
}
END_TEST

START_TEST(json_passes_printable_ascii_through)
{
	char s[95];

	for (int i = 0; i < 95; i++)
		s[i] = (char)(0x20 + i);
	jstr(s, sizeof s);
	/* 95 bytes, 2 of them escaped, 2 quotes */
	ck_assert_uint_eq(out.len, 95 + 2 + 2);
}
END_TEST

START_TEST(json_keeps_nul_bytes_inside_values)
{
	ck_assert_str_eq(JSTR("a\0b\0"), "\"a\\u0000b\\u0000\"");
	set_exec(ST_OK, "", "", 0, 0, NULL);
	buf_add(&res.value, "x\0y", 3);
	format(1);
	ck_assert_ptr_nonnull(strstr(out.data, ",\"value\":\"x\\u0000y\","));
}
END_TEST

START_TEST(json_passes_valid_multibyte_utf8_through)
{
	/* 2, 3 and 4 bytes, and the edges of each range */
	static const char *const ok[] = {
	    "\xc3\xa9",		/* U+00E9 */
	    "\xc2\x80",		/* U+0080 */
	    "\xdf\xbf",		/* U+07FF */
	    "\xe2\x82\xac",	/* U+20AC */
	    "\xe0\xa0\x80",	/* U+0800 */
	    "\xed\x9f\xbf",	/* U+D7FF */
	    "\xee\x80\x80",	/* U+E000 */
	    "\xef\xbf\xbf",	/* U+FFFF */
	    "\xf0\x9f\x98\x80", /* U+1F600 */
	    "\xf0\x90\x80\x80", /* U+10000 */
	    "\xf4\x8f\xbf\xbf", /* U+10FFFF */
	};
	char want[16];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(want, sizeof want, "\"%s\"", ok[i]);
		ck_assert_str_eq(jstr(ok[i], strlen(ok[i])), want);
	}
	ck_assert_str_eq(JSTR("caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80!"),
			 "\"caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80!\"");
}
END_TEST

#define FFFD "\xef\xbf\xbd"

START_TEST(json_replaces_lone_continuation_byte)
{
	ck_assert_str_eq(JSTR("a\x80z"), "\"a" FFFD "z\"");
	ck_assert_str_eq(JSTR("\xbf\xbf"), "\"" FFFD FFFD "\"");
}
END_TEST

START_TEST(json_replaces_truncated_sequence_at_end_once)
{
	ck_assert_str_eq(JSTR("a\xc3"), "\"a" FFFD "\"");
	ck_assert_str_eq(JSTR("a\xe2\x82"), "\"a" FFFD "\"");
	ck_assert_str_eq(JSTR("a\xf0\x9f\x98"), "\"a" FFFD "\"");
}
END_TEST

START_TEST(json_replaces_truncated_sequence_inside_once)
{
	ck_assert_str_eq(JSTR("\xe2\x82z"), "\"" FFFD "z\"");
	ck_assert_str_eq(JSTR("\xf0\x9f\x98\xc3\xa9"), "\"" FFFD "\xc3\xa9\"");
	/* an escape right after a cut sequence */
	ck_assert_str_eq(JSTR("\xe2\n"), "\"" FFFD "\\n\"");
}
END_TEST

START_TEST(json_replaces_overlong_encodings)
{
	ck_assert_str_eq(JSTR("\xc0\x80"), "\"" FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xc1\xbf"), "\"" FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xe0\x80\x80"), "\"" FFFD FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xf0\x80\x80\x80"),
			 "\"" FFFD FFFD FFFD FFFD "\"");
}
END_TEST

START_TEST(json_replaces_surrogates)
{
	ck_assert_str_eq(JSTR("\xed\xa0\x80"), "\"" FFFD FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xed\xbf\xbf"), "\"" FFFD FFFD FFFD "\"");
}
END_TEST

START_TEST(json_replaces_code_points_above_10ffff)
{
	ck_assert_str_eq(JSTR("\xf4\x90\x80\x80"),
			 "\"" FFFD FFFD FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xf5\x80\x80\x80"),
			 "\"" FFFD FFFD FFFD FFFD "\"");
	ck_assert_str_eq(JSTR("\xff\xfe"), "\"" FFFD FFFD "\"");
}
END_TEST

START_TEST(text_ok_sleep_line_ends_at_the_colon)
{
	ck_assert_str_eq(format(0), "ok j 0.100s sleep:\n");
}
END_TEST

START_TEST(text_uses_sequence_number_and_dash_without_id_and_kind)
{
	rec.id = NULL;
	rec.seq = 7;
	rec.kind = NULL;
	rec.executor = NULL;
	rec.elapsed = 0;
	res.status = ST_ERROR;
	result_error(&res, "unknown kind 'frob'");
	ck_assert_str_eq(format(0), "error 7 0.000s -: unknown kind 'frob'\n");
}
END_TEST

START_TEST(json_has_queued_and_start_in_rfc3339)
{
	rec.queued = 1.25;
	rec.start = 1796370312.5;
	ck_assert_ptr_nonnull(strstr(format(1),
				     ",\"attempts\":1,\"queued\":1.250000,"
				     "\"start\":\"2026-12-04T07:45:12.500000Z\","
				     "\"elapsed\":0.100000}\n"));
	/* Text records stay as they were. */
	ck_assert_ptr_null(strstr(format(0), "1.25"));
}
END_TEST

START_TEST(text_shows_first_line_of_an_ok_value)
{
	rec.kind = "resolve";
	rec.executor = "thread";
	rec.elapsed = 0.0125;
	buf_adds(&res.value, "192.0.2.1 192.0.2.2\nsecond\n");
	ck_assert_str_eq(format(0),
			 "ok j 0.013s resolve: 192.0.2.1 192.0.2.2\n");
}
END_TEST

START_TEST(text_shows_status_name_when_there_is_no_message)
{
	res.status = ST_CANCELLED;
	ck_assert_str_eq(format(0), "cancelled j 0.100s sleep: cancelled\n");
}
END_TEST

START_TEST(text_single_line_ok_stdout_has_no_block)
{
	set_exec(ST_OK, "hello\n", "", 0, 0, NULL);
	ck_assert_str_eq(format(0), "ok j 0.100s exec: hello\n");
	buf_reset(&res.value);
	buf_adds(&res.value, "no newline");
	ck_assert_str_eq(format(0), "ok j 0.100s exec: no newline\n");
}
END_TEST

START_TEST(text_empty_ok_exec_has_no_block)
{
	set_exec(ST_OK, "", "", 0, 0, NULL);
	ck_assert_str_eq(format(0), "ok j 0.100s exec:\n");
}
END_TEST

START_TEST(text_multi_line_ok_stdout_gets_a_block)
{
	set_exec(ST_OK, "a\n\tb\n\nc\n", "", 0, 0, NULL);
	ck_assert_str_eq(format(0), "ok j 0.100s exec: a\n"
				    "  | a\n"
				    "  | \tb\n"
				    "  | \n"
				    "  | c\n");
}
END_TEST

START_TEST(text_final_line_without_newline_gets_one)
{
	set_exec(ST_OK, "a\nb", "", 0, 0, NULL);
	ck_assert_str_eq(format(0), "ok j 0.100s exec: a\n"
				    "  | a\n"
				    "  | b\n");
}
END_TEST

START_TEST(text_failed_with_stdout_shows_it_in_a_block)
{
	set_exec(ST_FAILED, "out\n", "", 3, 0, "exit status 3");
	rec.kind = "sh";
	rec.output = 1;
	ck_assert_str_eq(format(0), "failed j 0.100s sh: exit status 3\n"
				    "  | out\n");
}
END_TEST

START_TEST(text_stderr_only_gets_a_block)
{
	set_exec(ST_FAILED, "", "oops\nworse", 1, 0, "exit status 1");
	ck_assert_str_eq(format(0), "failed j 0.100s exec: exit status 1\n"
				    "  ! oops\n"
				    "  ! worse\n");
}
END_TEST

START_TEST(text_stderr_of_ok_job_brings_stdout_along)
{
	set_exec(ST_OK, "one\n", "note\n", 0, 0, NULL);
	ck_assert_str_eq(format(0), "ok j 0.100s exec: one\n"
				    "  | one\n"
				    "  ! note\n");
}
END_TEST

START_TEST(text_non_child_kinds_have_no_block)
{
	rec.kind = "read";
	rec.executor = "thread";
	buf_adds(&res.value, "12\n34\n");
	ck_assert_str_eq(format(0), "ok j 0.100s read: 12\n");
}
END_TEST

START_TEST(text_replaces_controls_but_tab_and_invalid_utf8)
{
	set_exec(ST_FAILED, "\x1b[31mred\t\x7f\xc2\x9b\xc3\xa9\n",
		 "\xff\xe2\x82\n", 1, 0, "bad\rmessage\x01");
	ck_assert_str_eq(format(0), "failed j 0.100s exec: bad?message?\n"
				    "  | ?[31mred\t??\xc3\xa9\n"
				    "  ! " FFFD FFFD "\n");
}
END_TEST

START_TEST(text_keeps_nul_bytes_visible)
{
	set_exec(ST_OK, "", "", 0, 0, NULL);
	buf_add(&res.value, "a\0b", 3);
	ck_assert_str_eq(format(0), "ok j 0.100s exec: a?b\n");
}
END_TEST

/* A pipe, with the read end non-blocking. */
static void
open_pipe(int fds[2])
{
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fd_nonblock(fds[0]), 0);
}

/* Read what the pipe holds into b. */
static void
drain(int fd, struct buf *b)
{
	char tmp[4096];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		buf_add(b, tmp, (size_t)n);
	ck_assert_int_eq(n, -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(write_queues_until_flush_then_writes_exact_bytes)
{
	struct buf want = BUF_INIT, got = BUF_INIT;
	int fds[2];
	char c;

	open_pipe(fds);
	report_init(fds[1], 1);
	report_write(&rec);
	report_format(&want, &rec, 1);
	set_exec(ST_FAILED, "x\ny\n", "e\n", 2, 0, "exit status 2");
	report_write(&rec);
	report_format(&want, &rec, 1);
	ck_assert_int_eq(read(fds[0], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);

	ck_assert_int_eq(report_drain(-1), 0);
	drain(fds[0], &got);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_mem_eq(got.data, want.data, want.len);
	ck_assert_int_eq(report_flush(), 0);
	ck_assert_int_eq(read(fds[0], &c, 1), -1);
	buf_free(&want);
	buf_free(&got);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(write_in_text_mode_writes_record_and_block)
{
	struct buf got = BUF_INIT;
	int fds[2];

	open_pipe(fds);
	report_init(fds[1], 0);
	set_exec(ST_FAILED, "out\n", "err\n", 1, 0, "exit status 1");
	report_write(&rec);
	ck_assert_int_eq(report_drain(-1), 0);
	drain(fds[0], &got);
	ck_assert_str_eq(got.data, "failed j 0.100s exec: exit status 1\n"
				   "  | out\n"
				   "  ! err\n");
	buf_free(&got);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(write_past_64k_writes_at_once)
{
	struct buf want = BUF_INIT;
	char path[] = "/tmp/check_report.XXXXXX";
	int fd = mkstemp(path);
	char *big = xmalloc(70000);
	off_t size;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	memset(big, 'x', 70000);
	set_exec(ST_OK, "", "", 0, 0, NULL);
	buf_add(&res.value, big, 70000);
	report_init(fd, 1);
	report_write(&rec);
	report_format(&want, &rec, 1);
	/* handed to the writer without a flush */
	for (int i = 0; i < 500 && lseek(fd, 0, SEEK_END) == 0; i++)
		usleep(10000);
	size = lseek(fd, 0, SEEK_END);
	ck_assert_int_eq(size, (off_t)want.len);
	ck_assert_int_eq(report_flush(), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), size);
	free(big);
	buf_free(&want);
	close(fd);
}
END_TEST

START_TEST(flush_without_reader_fails_with_epipe_and_stays_failed)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	report_init(fds[1], 0);
	report_write(&rec);
	errno = 0;
	ck_assert_int_eq(report_drain(-1), -1);
	ck_assert_int_eq(errno, EPIPE);
	report_write(&rec);
	errno = 0;
	ck_assert_int_eq(report_flush(), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(fds[1]);

	/* a new run starts clean */
	open_pipe(fds);
	report_init(fds[1], 0);
	ck_assert_int_eq(report_flush(), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(write_after_failure_drops_records_in_bounded_memory)
{
	struct rusage before, after;
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	report_init(fds[1], 1);
	report_write(&rec);
	ck_assert_int_eq(report_drain(-1), -1);

	/* 256 records of 1 MiB: 256 MiB if they were kept */
	buf_reserve(&res.value, 1 << 20);
	memset(res.value.data, 'x', 1 << 20);
	res.value.len = 1 << 20;
	res.value.data[res.value.len] = '\0';
	getrusage(RUSAGE_SELF, &before);
	for (int i = 0; i < 256; i++)
		report_write(&rec);
	getrusage(RUSAGE_SELF, &after);
	ck_assert_int_lt(after.ru_maxrss - before.ru_maxrss, 64 * 1024);
	ck_assert_int_eq(report_flush(), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(fds[1]);
}
END_TEST

START_TEST(flush_with_nothing_queued_writes_nothing)
{
	/* a closed fd: any write would fail with EBADF */
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	close(fds[1]);
	report_init(fds[1], 1);
	ck_assert_int_eq(report_flush(), 0);
}
END_TEST

/* The report suite. */
static Suite *
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tj = tcase_create("json");
	TCase *te = tcase_create("escape");
	TCase *tt = tcase_create("text");
	TCase *tw = tcase_create("write");

	tcase_add_checked_fixture(tj, setup, teardown);
	tcase_add_test(tj, json_ok_sleep_has_empty_value_and_null_child_fields);
	tcase_add_test(tj, json_ok_exec_has_stdout_stderr_and_exit_0);
	tcase_add_test(tj, json_failed_exec_keeps_value_and_gives_exit_3);
	tcase_add_test(tj, json_signalled_child_has_null_exit_and_signal_9);
	tcase_add_test(tj, json_timeout_of_sleep_has_null_value_and_signal);
	tcase_add_test(tj, json_timeout_of_exec_has_signal_15_and_null_exit);
	tcase_add_test(tj, json_process_timeout_has_signal_9);
	tcase_add_test(tj, json_error_record_without_kind_is_all_null);
	tcase_add_test(tj, json_error_record_with_exec_kind_has_null_value);
	tcase_add_test(tj, json_id_absent_is_the_sequence_number_as_a_string);
	tcase_add_test(tj, json_failed_thread_job_has_null_value_and_stderr);
	tcase_add_test(tj, json_exec_cancelled_while_queued_still_has_strings);
	tcase_add_test(tj, json_result_with_child_output_has_child_fields);
	tcase_add_test(tj, json_truncated_value_says_true);
	tcase_add_test(tj, json_source_file_name_is_escaped);
	tcase_add_test(tj, json_elapsed_has_six_decimals);
	tcase_add_test(tj, json_has_queued_and_start_in_rfc3339);
	suite_add_tcase(s, tj);

	tcase_add_checked_fixture(te, setup, teardown);
	tcase_add_test(te, json_escapes_every_control_character);
	tcase_add_test(te, json_escapes_quote_and_backslash);
	tcase_add_test(te, json_passes_printable_ascii_through);
	tcase_add_test(te, json_keeps_nul_bytes_inside_values);
	tcase_add_test(te, json_passes_valid_multibyte_utf8_through);
	tcase_add_test(te, json_replaces_lone_continuation_byte);
	tcase_add_test(te, json_replaces_truncated_sequence_at_end_once);
	tcase_add_test(te, json_replaces_truncated_sequence_inside_once);
	tcase_add_test(te, json_replaces_overlong_encodings);
	tcase_add_test(te, json_replaces_surrogates);
	tcase_add_test(te, json_replaces_code_points_above_10ffff);
	suite_add_tcase(s, te);

	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, text_ok_sleep_line_ends_at_the_colon);
	tcase_add_test(tt,
		       text_uses_sequence_number_and_dash_without_id_and_kind);
	tcase_add_test(tt, text_shows_first_line_of_an_ok_value);
	tcase_add_test(tt, text_shows_status_name_when_there_is_no_message);
	tcase_add_test(tt, text_single_line_ok_stdout_has_no_block);
	tcase_add_test(tt, text_empty_ok_exec_has_no_block);
	tcase_add_test(tt, text_multi_line_ok_stdout_gets_a_block);
	tcase_add_test(tt, text_final_line_without_newline_gets_one);
	tcase_add_test(tt, text_failed_with_stdout_shows_it_in_a_block);
	tcase_add_test(tt, text_stderr_only_gets_a_block);
	tcase_add_test(tt, text_stderr_of_ok_job_brings_stdout_along);
	tcase_add_test(tt, text_non_child_kinds_have_no_block);
	tcase_add_test(tt, text_replaces_controls_but_tab_and_invalid_utf8);
	tcase_add_test(tt, text_keeps_nul_bytes_visible);
	suite_add_tcase(s, tt);

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_add_test(tw, write_queues_until_flush_then_writes_exact_bytes);
	tcase_add_test(tw, write_in_text_mode_writes_record_and_block);
	tcase_add_test(tw, write_past_64k_writes_at_once);
	tcase_add_test(tw,
		       flush_without_reader_fails_with_epipe_and_stays_failed);
	tcase_add_test(tw, write_after_failure_drops_records_in_bounded_memory);
	tcase_add_test(tw, flush_with_nothing_queued_writes_nothing);
	suite_add_tcase(s, tw);
	return s;
}

/* Run the suite; EXIT_FAILURE on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
