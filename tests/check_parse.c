/*
 * check_parse.c: unit tests of the job language (src/parse.c).
 *
 * Every line is handed to the parser in a heap buffer of exactly its length
 * with no terminating NUL, so valgrind or a sanitizer catches any read past
 * len. The kinds come from the real kind table.
 */
#include "config.h"

#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kinds.h"
#include "net_check.h"
#include "parse.h"

#define ERRLEN 512

static char err[ERRLEN];

/* Feed len bytes of s from an exact-size copy (no NUL after them). */
static enum parse_rc
feed(struct parser *p, const char *s, size_t len, struct job_spec **out)
{
	char *copy = malloc(len ? len : 1);
	enum parse_rc rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, len);
	err[0] = '\0';
	rc = parser_feed(p, copy, len, out, err, sizeof err);
	memset(copy, 'X', len);
	free(copy);
	return rc;
}

/* Feed a C string's bytes (without its NUL). */
static enum parse_rc
feeds(struct parser *p, const char *s, struct job_spec **out)
{
	return feed(p, s, strlen(s), out);
}

/* Parse one line through feed and finish, as a fresh parser would. */
static enum parse_rc
parse1(const char *s, struct job_spec **out)
{
	struct parser p;
	enum parse_rc rc;

	parser_init(&p);
	rc = feeds(&p, s, out);
	if (rc == PARSE_MORE)
		rc = parser_finish(&p, out, err, sizeof err);
	ck_assert(!parser_pending(&p));
	parser_free(&p);
	return rc;
}

/* A line that must parse into a job; the caller frees the spec. */
static struct job_spec *
ok(const char *s)
{
	struct job_spec *j = NULL;
	enum parse_rc rc = parse1(s, &j);

	ck_assert_msg(rc == PARSE_JOB, "'%s': rc %d, error '%s'", s, rc, err);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(j->kind);
	ck_assert_ptr_null(j->argv[j->argc]);
	return j;
}

/* A line that must fail with exactly msg; returns the error spec. */
static struct job_spec *
bad(const char *s, const char *msg)
{
	struct job_spec *j = NULL;
	enum parse_rc rc = parse1(s, &j);

	ck_assert_msg(rc == PARSE_ERROR, "'%s': rc %d, wanted error '%s'", s,
		      rc, msg);
	ck_assert_str_eq(err, msg);
	if (j != NULL) {
		ck_assert_ptr_null(j->kind);
		ck_assert_int_eq(j->argc, 0);
		ck_assert_ptr_null(j->argv[0]);
	}
	return j;
}

/* A line that must fail with exactly msg; its error spec is dropped. */
static void
bad_free(const char *s, const char *msg)
{
	free(bad(s, msg));
}

/* A line that must give PARSE_NONE. */
static void
none(const char *s)
{
	struct job_spec *j = (struct job_spec *)1;

	ck_assert_int_eq(parse1(s, &j), PARSE_NONE);
	ck_assert_ptr_null(j);
}

/* Assert a job's arguments: argc strings, NULL-terminated. */
static void
args_eq(const struct job_spec *j, int argc, const char *const *want)
{
	ck_assert_int_eq(j->argc, argc);
	for (int i = 0; i < argc; i++)
		ck_assert_str_eq(j->argv[i], want[i]);
	ck_assert_ptr_null(j->argv[argc]);
}

/* Check one line against expected arguments after an exec kind word. */
static void
exec_args(const char *line, int argc, const char *const *want)
{
	struct job_spec *j = ok(line);

	ck_assert_str_eq(j->kindname, "exec");
	args_eq(j, argc, want);
	free(j);
}

START_TEST(blank_and_comment_lines_give_none)
{
	none("");
	none("   ");
	none(" \t\r ");
	none("\r");
	none("# a comment");
	none("   # comment with 'unterminated quote");
	none("#sleep 1");
	none("\t# comment ending in a backslash \\");
}
END_TEST

START_TEST(simple_job_has_unset_options)
{
	struct job_spec *j = ok("sleep 1");

	ck_assert_ptr_eq(j->kind, kind_find("sleep"));
	ck_assert_str_eq(j->kindname, "sleep");
	ck_assert_ptr_null(j->id);
	ck_assert(j->timeout < 0);
	ck_assert_int_lt(j->retries, 0);
	ck_assert(j->backoff < 0);
	ck_assert(j->backoff_max < 0);
	ck_assert_int_eq(j->nafter, 0);
	ck_assert_ptr_null(j->group);
	ck_assert_int_eq(j->on, -1);
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
}
END_TEST

START_TEST(blanks_are_space_tab_and_cr)
{
	exec_args(" \texec\t a  \r b\r", 2, (const char *[]){"a", "b"});
	exec_args("exec a\vb", 1, (const char *[]){"a\vb"});
}
END_TEST

START_TEST(single_quotes_are_literal)
{
	exec_args("exec 'a b' 'x\\y' '\"' '#' 'a\\'", 5,
		  (const char *[]){"a b", "x\\y", "\"", "#", "a\\"});
}
END_TEST

START_TEST(double_quotes_know_four_escapes)
{
	exec_args("exec \"a\\\"b\" \"a\\\\b\" \"\\n\\t\" \"a b\"", 4,
		  (const char *[]){"a\"b", "a\\b", "\n\t", "a b"});
	exec_args("exec \"a\\\\\"", 1, (const char *[]){"a\\"});
	exec_args("exec \"'\" \"#\"", 2, (const char *[]){"'", "#"});
}
END_TEST

START_TEST(double_quotes_know_hex_escapes)
{
	exec_args("exec \"\\x41\\x7a\" \"\\x4A\\x4a\" \"\\x1b[0m\" \"\\xff\\x01\"", 4,
		  (const char *[]){"Az", "JJ", "\x1b[0m", "\xff\x01"});
	/* Not two hex digits, or 00: the backslash stays as written. */
	exec_args("exec \"\\x00\" \"\\x4\" \"\\xg1\" \"a\\x\" '\\x41' \\x41", 6,
		  (const char *[]){"\\x00", "\\x4", "\\xg1", "a\\x", "\\x41",
				   "x41"});
}
END_TEST

START_TEST(other_backslashes_in_double_quotes_stay)
{
	exec_args("exec \"\\x\\$\\'\\a\"", 1, (const char *[]){"\\x\\$\\'\\a"});
	exec_args("exec \"\\\\\\x\"", 1, (const char *[]){"\\\\x"});
}
END_TEST

START_TEST(backslash_outside_quotes_escapes_next_char)
{
	exec_args("exec a\\ b \\'x\\' \\\"y \\\\ \\#z \\n", 6,
		  (const char *[]){"a b", "'x'", "\"y", "\\", "#z", "n"});
	exec_args("exec \\a\\= \\ ", 2, (const char *[]){"a=", " "});
	exec_args("exec a\\\tb", 1, (const char *[]){"a\tb"});
}
END_TEST

START_TEST(quotes_glue_to_text_in_one_token)
{
	exec_args("exec a'b c'd", 1, (const char *[]){"ab cd"});
	exec_args("exec \"x\"'y'z\\ w", 1, (const char *[]){"xyz w"});
	exec_args("e'x'\"ec\" a", 1, (const char *[]){"a"});
}
END_TEST

START_TEST(empty_quotes_are_empty_tokens)
{
	exec_args("exec '' \"\" x ''", 4, (const char *[]){"", "", "x", ""});
}
END_TEST

START_TEST(hash_starts_comment_only_at_token_start)
{
	exec_args("exec a#b c# #d e", 2, (const char *[]){"a#b", "c#"});
	exec_args("exec x\t#comment 'quote", 1, (const char *[]){"x"});
	exec_args("exec '#a' \\#b \"#c\"", 3,
		  (const char *[]){"#a", "#b", "#c"});
}
END_TEST

START_TEST(unterminated_quotes_are_errors)
{
	bad_free("exec echo 'abc", "unterminated quote");
	bad_free("exec echo \"abc", "unterminated quote");
	bad_free("exec echo \"abc\\\"", "unterminated quote");
	bad_free("exec echo \"abc\\", "unterminated quote");
	bad_free("exec echo abc'", "unterminated quote");
	bad_free("'", "unterminated quote");
	bad_free("exec 'ab' \"cd\" \"", "unterminated quote");
}
END_TEST

START_TEST(unterminated_quote_keeps_kind_and_id)
{
	struct job_spec *j = bad("id=j1 exec echo 'abc", "unterminated quote");

	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(j->kindname, "exec");
	ck_assert_str_eq(j->id, "j1");
	free(j);
	j = bad("'abc", "unterminated quote");
	ck_assert_ptr_null(j);
}
END_TEST

START_TEST(quote_does_not_continue_over_backslash)
{
	struct parser p;
	struct job_spec *j;

	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "exec echo 'abc \\", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "unterminated quote");
	free(j);
	ck_assert(!parser_pending(&p));
	ck_assert_int_eq(feeds(&p, "def", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "unknown kind 'def'");
	free(j);
	ck_assert_int_eq(feeds(&p, "exec \"a \\", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "unterminated quote");
	free(j);
	parser_free(&p);
}
END_TEST

START_TEST(continuation_joins_lines_with_a_blank)
{
	struct parser p;
	struct job_spec *j = (struct job_spec *)1;

	parser_init(&p);
	ck_assert(!parser_pending(&p));
	ck_assert_int_eq(feeds(&p, "exec echo a\\", &j), PARSE_MORE);
	ck_assert_ptr_null(j);
	ck_assert(parser_pending(&p));
	ck_assert_int_eq(feeds(&p, "b 'c d'\\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "  e", &j), PARSE_JOB);
	ck_assert(!parser_pending(&p));
	args_eq(j, 5, (const char *[]){"echo", "a", "b", "c d", "e"});
	free(j);
	ck_assert_int_eq(feeds(&p, "sleep \\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "\\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "1", &j), PARSE_JOB);
	ck_assert_str_eq(j->kindname, "sleep");
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	ck_assert_int_eq(feeds(&p, "id=x\\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "sleep 2", &j), PARSE_JOB);
	ck_assert_str_eq(j->id, "x");
	free(j);
	parser_free(&p);
}
END_TEST

START_TEST(continuation_tolerates_crlf)
{
	struct parser p;
	struct job_spec *j;

	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "sleep \\\r", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "1\r", &j), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	parser_free(&p);
}
END_TEST

START_TEST(continuation_ends_at_blank_or_comment_line)
{
	struct parser p;
	struct job_spec *j;

	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "sleep \\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "sleep: expected 1 argument");
	ck_assert_str_eq(j->kindname, "sleep");
	free(j);
	ck_assert_int_eq(feeds(&p, "exec echo \\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "  # note \\", &j), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"echo"});
	free(j);
	ck_assert_int_eq(feeds(&p, "\\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "", &j), PARSE_NONE);
	ck_assert_ptr_null(j);
	parser_free(&p);
}
END_TEST

START_TEST(backslash_at_eof_is_ignored)
{
	struct parser p;
	struct job_spec *j = (struct job_spec *)1;

	parser_init(&p);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_NONE);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(feeds(&p, "sleep 1 \\", &j), PARSE_MORE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"1"});
	ck_assert(!parser_pending(&p));
	free(j);
	ck_assert_int_eq(feeds(&p, "sleep\\", &j), PARSE_MORE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_ERROR);
	ck_assert_str_eq(err, "sleep: expected 1 argument");
	free(j);
	ck_assert_int_eq(feeds(&p, "\\", &j), PARSE_MORE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_NONE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_NONE);
	parser_free(&p);
	/* parse_line finishes the continuation itself. */
	ck_assert_int_eq(parse_line("sleep 3 \\", &j, err, sizeof err),
			 PARSE_JOB);
	args_eq(j, 1, (const char *[]){"3"});
	free(j);
}
END_TEST

START_TEST(escaped_backslash_at_end_does_not_continue)
{
	struct parser p;
	struct job_spec *j;

	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "exec echo a\\\\", &j), PARSE_JOB);
	args_eq(j, 2, (const char *[]){"echo", "a\\"});
	free(j);
	ck_assert_int_eq(feeds(&p, "exec echo \\\\", &j), PARSE_JOB);
	args_eq(j, 2, (const char *[]){"echo", "\\"});
	free(j);
	ck_assert_int_eq(feeds(&p, "exec echo \\\\\\", &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "x", &j), PARSE_JOB);
	args_eq(j, 3, (const char *[]){"echo", "\\", "x"});
	free(j);
	parser_free(&p);
}
END_TEST

START_TEST(backslash_in_comment_or_quotes_does_not_continue)
{
	struct parser p;
	struct job_spec *j;

	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "sleep 1 # note \\", &j), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	ck_assert_int_eq(feeds(&p, "# all comment \\", &j), PARSE_NONE);
	ck_assert(!parser_pending(&p));
	ck_assert_int_eq(feeds(&p, "sleep 2", &j), PARSE_JOB);
	free(j);
	parser_free(&p);
}
END_TEST

START_TEST(options_come_before_the_kind)
{
	struct job_spec *j = ok("id=build.1 timeout=1.5 retries=3 "
				"backoff=250ms:5s after=a,2,b-c group=g1 "
				"on=loop sleep 1");

	ck_assert_str_eq(j->id, "build.1");
	ck_assert(j->timeout == 1.5);
	ck_assert_int_eq(j->retries, 3);
	ck_assert(j->backoff == 0.25);
	ck_assert(j->backoff_max == 5);
	ck_assert_int_eq(j->nafter, 3);
	ck_assert_str_eq(j->after[0], "a");
	ck_assert_str_eq(j->after[1], "2");
	ck_assert_str_eq(j->after[2], "b-c");
	ck_assert_str_eq(j->group, "g1");
	ck_assert_int_eq(j->on, EX_LOOP);
	ck_assert_str_eq(j->kindname, "sleep");
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	j = ok("'id=q' \"retries\"=0 backoff=1 sleep 1");
	ck_assert_str_eq(j->id, "q");
	ck_assert_int_eq(j->retries, 0);
	ck_assert(j->backoff == 1);
	ck_assert(j->backoff_max < 0);
	free(j);
}
END_TEST

START_TEST(equals_after_the_kind_is_an_argument)
{
	struct job_spec *j = ok("exec env A=1 id=x timeout=2 B=");

	ck_assert_ptr_null(j->id);
	ck_assert(j->timeout < 0);
	args_eq(j, 5,
		(const char *[]){"env", "A=1", "id=x", "timeout=2", "B="});
	free(j);
	j = ok("sh 'x=1; echo $x'");
	args_eq(j, 1, (const char *[]){"x=1; echo $x"});
	free(j);
}
END_TEST

START_TEST(option_errors)
{
	bad_free("foo=1 sleep 1", "unknown option 'foo'");
	bad_free("=1 sleep 1", "unknown option ''");
	bad_free("ID=a sleep 1", "unknown option 'ID'");
	bad_free("idx=a sleep 1", "unknown option 'idx'");
	bad_free("i=a sleep 1", "unknown option 'i'");
	bad_free("id=a id=b sleep 1", "option 'id' given twice");
	bad_free("timeout=1 timeout=1 sleep 1", "option 'timeout' given twice");
	bad_free("on=loop on=loop sleep 1", "option 'on' given twice");
	bad_free("timeout=x sleep 1", "bad duration 'x'");
	bad_free("timeout= sleep 1", "bad duration ''");
	bad_free("timeout=-1 sleep 1", "bad duration '-1'");
	bad_free("id=123 sleep 1", "bad id '123'");
	bad_free("id= sleep 1", "bad id ''");
	bad_free("id='a b' sleep 1", "bad id 'a b'");
	bad_free("id=a/b sleep 1", "bad id 'a/b'");
	bad_free("retries=x sleep 1", "bad count 'x'");
	bad_free("retries=-1 sleep 1", "bad count '-1'");
	bad_free("retries=+1 sleep 1", "bad count '+1'");
	bad_free("retries=1000001 sleep 1", "bad count '1000001'");
	bad_free("retries=99999999999999999999 sleep 1",
		 "bad count '99999999999999999999'");
	bad_free("retries= sleep 1", "bad count ''");
	bad_free("backoff=x sleep 1", "bad backoff 'x'");
	bad_free("backoff=2s:1s sleep 1", "bad backoff '2s:1s'");
	bad_free("backoff=1: sleep 1", "bad backoff '1:'");
	bad_free("backoff=:1 sleep 1", "bad backoff ':1'");
	bad_free("backoff=1:2:3 sleep 1", "bad backoff '1:2:3'");
	bad_free("group= sleep 1", "bad group ''");
	bad_free("group=a,a sleep 1", "group 'a' named twice");
	bad_free("group=a,b,a sleep 1", "group 'a' named twice");
	bad_free("group=a, sleep 1", "bad group 'a,'");
	bad_free("group=,a sleep 1", "bad group ',a'");
	bad_free("group=a,,b sleep 1", "bad group 'a,,b'");
	bad_free("group=a,b/c sleep 1", "bad group 'a,b/c'");
	bad_free("group=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q sleep 1",
		 "more than 16 groups in 'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q'");
	bad_free("on=gpu sleep 1", "bad executor 'gpu'");
	bad_free("on= sleep 1", "bad executor ''");
	bad_free("on=thread sleep 1",
		 "on=thread: kind 'sleep' runs only on loop");
	bad_free("on=process sleep 1",
		 "on=process: kind 'sleep' runs only on loop");
}
END_TEST

START_TEST(retries_limits)
{
	struct job_spec *j = ok("retries=1000000 sleep 1");

	ck_assert_int_eq(j->retries, 1000000);
	free(j);
	j = ok("retries=007 sleep 1");
	ck_assert_int_eq(j->retries, 7);
	free(j);
}
END_TEST

START_TEST(id_and_group_limits)
{
	char line[2 * PARSE_MAX_ID];
	char msg[2 * PARSE_MAX_ID];
	struct job_spec *j;

	snprintf(line, sizeof line, "id=%0*d sleep 1", PARSE_MAX_ID, 0);
	memset(line + 3, 'a', PARSE_MAX_ID);
	j = ok(line);
	ck_assert_uint_eq(strlen(j->id), PARSE_MAX_ID);
	free(j);
	snprintf(line, sizeof line, "id=%0*d sleep 1", PARSE_MAX_ID + 1, 0);
	memset(line + 3, 'a', PARSE_MAX_ID + 1);
	snprintf(msg, sizeof msg, "bad id '%.*s'", PARSE_MAX_ID + 1, line + 3);
	bad_free(line, msg);

	snprintf(line, sizeof line, "group=%0*d sleep 1", PARSE_MAX_ID, 0);
	j = ok(line);
	ck_assert_uint_eq(strlen(j->group), PARSE_MAX_ID);
	free(j);
	snprintf(line, sizeof line, "group=%0*d sleep 1", PARSE_MAX_ID + 1, 0);
	snprintf(msg, sizeof msg, "bad group '%.*s'", PARSE_MAX_ID + 1,
		 line + 6);
	bad_free(line, msg);

	j = ok("group=a,b_2,3 sleep 1");
	ck_assert_str_eq(j->group, "a,b_2,3");
	free(j);
	free(ok("group=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p sleep 1"));

	j = ok("group=123 id=a1:b_c.d-e sleep 1");
	ck_assert_str_eq(j->group, "123");
	ck_assert_str_eq(j->id, "a1:b_c.d-e");
	free(j);
}
END_TEST

START_TEST(after_lists)
{
	struct job_spec *j = ok("after=x sleep 1");

	ck_assert_int_eq(j->nafter, 1);
	ck_assert_str_eq(j->after[0], "x");
	free(j);
	j = ok("after=1,22,job.3,4a sleep 1");
	ck_assert_int_eq(j->nafter, 4);
	ck_assert_str_eq(j->after[0], "1");
	ck_assert_str_eq(j->after[1], "22");
	ck_assert_str_eq(j->after[2], "job.3");
	ck_assert_str_eq(j->after[3], "4a");
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	bad_free("after= sleep 1", "bad after list ''");
	bad_free("after=a,,b sleep 1", "bad after list 'a,,b'");
	bad_free("after=a, sleep 1", "bad after list 'a,'");
	bad_free("after=,a sleep 1", "bad after list ',a'");
	bad_free("after=0 sleep 1", "bad after list '0'");
	bad_free("after=a,000 sleep 1", "bad after list 'a,000'");
	bad_free("after=a/b sleep 1", "bad after list 'a/b'");
	bad_free("after='a b' sleep 1", "bad after list 'a b'");
	bad_free("after=99999999999999999999 sleep 1",
		 "bad after list '99999999999999999999'");
}
END_TEST

START_TEST(missing_and_unknown_kinds)
{
	struct job_spec *j;

	bad_free("id=x", "missing kind");
	bad_free("id=x timeout=1 # comment", "missing kind");
	j = bad("id=x frob 1 2", "unknown kind 'frob'");
	ck_assert_str_eq(j->kindname, "frob");
	ck_assert_str_eq(j->id, "x");
	free(j);
	bad_free("Sleep 1", "unknown kind 'Sleep'");
	bad_free("'' 1", "unknown kind ''");
	j = ok("'sle'ep 1");
	ck_assert_str_eq(j->kindname, "sleep");
	free(j);
	j = ok("s\\leep 1");
	ck_assert_str_eq(j->kindname, "sleep");
	free(j);
}
END_TEST

START_TEST(error_spec_holds_kind_word_and_id)
{
	struct job_spec *j;

	j = bad("id=job1 timeout=x sleep 1", "bad duration 'x'");
	ck_assert_str_eq(j->id, "job1");
	ck_assert_str_eq(j->kindname, "sleep");
	ck_assert(j->timeout < 0);
	ck_assert_int_eq(j->nafter, 0);
	ck_assert_ptr_null(j->group);
	free(j);
	j = bad("timeout=x id=job1 sleep", "bad duration 'x'");
	ck_assert_str_eq(j->id, "job1");
	free(j);
	j = bad("id=123 sleep 1", "bad id '123'");
	ck_assert_ptr_null(j->id);
	ck_assert_str_eq(j->kindname, "sleep");
	free(j);
	j = bad("id=a id=b sleep", "option 'id' given twice");
	ck_assert_str_eq(j->id, "a");
	free(j);
	j = bad("id=only", "missing kind");
	ck_assert_ptr_null(j->kindname);
	ck_assert_str_eq(j->id, "only");
	free(j);
	ck_assert_ptr_null(bad("timeout=1", "missing kind"));
	ck_assert_ptr_null(bad("foo=1", "unknown option 'foo'"));
}
END_TEST

START_TEST(arity_errors)
{
	struct job_spec *j;

	j = bad("id=s sleep", "sleep: expected 1 argument");
	ck_assert_str_eq(j->kindname, "sleep");
	ck_assert_str_eq(j->id, "s");
	free(j);
	bad_free("sleep 1 2", "sleep: expected 1 argument");
	bad_free("exec", "exec: expected at least 1 argument");
	bad_free("sh", "sh: expected 1 argument");
	bad_free("sh a b", "sh: expected 1 argument");
}
END_TEST

START_TEST(arity_messages_follow_the_kind_table)
{
	for (size_t i = 0; i < KIND_COUNT; i++) {
		const struct kind *k = &kind_table[i];
		char line[256], msg[256];

		if (k->hidden)
			continue;
		int n = k->max_args >= 0 ? k->max_args + 1 : -1;

		if (k->min_args > 0)
			n = k->min_args - 1;
		if (n < 0)
			continue;
		snprintf(line, sizeof line, "%s", k->name);
		for (int a = 0; a < n; a++)
			strcat(line, " 1");
		if (k->max_args < 0)
			snprintf(msg, sizeof msg,
				 "%s: expected at least %d argument%s", k->name,
				 k->min_args, k->min_args == 1 ? "" : "s");
		else if (k->min_args == k->max_args)
			snprintf(msg, sizeof msg, "%s: expected %d argument%s",
				 k->name, k->min_args,
				 k->min_args == 1 ? "" : "s");
		else if (k->min_args == 0)
			snprintf(msg, sizeof msg,
				 "%s: expected at most %d argument%s", k->name,
				 k->max_args, k->max_args == 1 ? "" : "s");
		else
			snprintf(msg, sizeof msg,
				 "%s: expected %d to %d arguments", k->name,
				 k->min_args, k->max_args);
		bad_free(line, msg);
	}
}
END_TEST

START_TEST(kind_rows_are_indexed_by_their_id)
{
	/* Frames carry a kind by its number, and executors.c binds runtime
	 * entries by it: a row out of place would run the wrong kind. */
	for (size_t i = 0; i < KIND_COUNT; i++) {
		ck_assert_ptr_nonnull(kind_table[i].name);
		ck_assert_uint_eq(kind_table[i].id, i);
		if (!kind_table[i].hidden)
			ck_assert_ptr_eq(kind_find(kind_table[i].name),
					 &kind_table[i]);
	}
	/* What the records and the loop executor learn from the columns. */
	ck_assert(kind_find("exec")->output && kind_find("sh")->output);
	ck_assert(kind_find("sh")->shell && !kind_find("exec")->shell);
	ck_assert(kind_find("http")->http && !kind_find("tcp")->http);
	ck_assert(kind_find("exec")->spawns && !kind_find("http")->spawns);
}
END_TEST

START_TEST(hidden_kinds_are_not_in_the_language)
{
	struct job_spec *j = NULL;
	char err[256];

	ck_assert(kind_table[KIND_FN].hidden);
	ck_assert_ptr_null(kind_find("fn"));
	ck_assert_int_eq(parse_line("fn 00 00", &j, err, sizeof err),
			 PARSE_ERROR);
	ck_assert_str_eq(err, "unknown kind 'fn'");
	free(j);
}
END_TEST

START_TEST(on_follows_the_kind_table)
{
	for (size_t i = 0; i < KIND_COUNT; i++) {
		const struct kind *k = &kind_table[i];

		if (k->hidden)
			continue;
		for (int e = 0; e < EX_COUNT; e++) {
			char line[256];
			struct job_spec *j = NULL;
			enum parse_rc rc;

			snprintf(line, sizeof line, "on=%s %s",
				 executor_name(e), k->name);
			for (int a = 0; a < k->min_args; a++)
				strcat(line, " 1");
			rc = parse1(line, &j);
			if (k->executors & (1u << e)) {
				/* 1 may fail the kind's own check, not on=. */
				ck_assert_msg(rc == PARSE_JOB ||
						  strncmp(err, "on=", 3),
					      "%s: %s", line, err);
				if (rc == PARSE_JOB)
					ck_assert_int_eq(j->on, e);
			} else {
				ck_assert_int_eq(rc, PARSE_ERROR);
				ck_assert_msg(strncmp(err, "on=", 3) == 0 &&
						  strstr(err, "runs only on"),
					      "%s: %s", line, err);
			}
			free(j);
		}
	}
}
END_TEST

START_TEST(kind_check_rejects_bad_arguments)
{
	struct job_spec *j = NULL;

	/* The kind's own message is used as it is. */
	ck_assert_int_eq(parse1("id=z sleep xyz", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "bad duration 'xyz'");
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_null(j->kind);
	ck_assert_str_eq(j->kindname, "sleep");
	ck_assert_str_eq(j->id, "z");
	ck_assert_int_eq(j->argc, 0);
	free(j);
}
END_TEST

START_TEST(durations_valid)
{
	static const struct {
		const char *s;
		double v;
	} t[] = {
	    {"0", 0},	    {"1", 1},	    {"1.5", 1.5},    {".5", 0.5},
	    {"1.", 1},	    {"007", 7},	    {"250ms", 0.25}, {"1.5s", 1.5},
	    {"2m", 120},    {"1h", 3600},   {"0.1", 0.1},    {"1ms", 0.001},
	    {"0.5m", 30},   {"100ms", 0.1}, {"10s", 10},     {"0.25h", 900},
	    {"1.25", 1.25}, {"0.3", 0.3},   {"0s", 0},	     {"0ms", 0},
	};
	double d = -7;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		ck_assert_msg(parse_duration(t[i].s, &d) == 0, "%s", t[i].s);
		ck_assert_msg(d == t[i].v, "%s: %.17g", t[i].s, d);
	}
	/* Digits beyond what a double holds are accepted and ignored. */
	ck_assert_int_eq(parse_duration("1.2500000000000000000000000001", &d),
			 0);
	ck_assert(d > 1.25 - 1e-15 && d < 1.25 + 1e-15);
	ck_assert_int_eq(parse_duration("0.000000000000000000000001", &d), 0);
	ck_assert(d >= 0 && d < 1e-18);
}
END_TEST

START_TEST(durations_invalid)
{
	static const char *const t[] = {
	    "",	   ".",	  "s",	 "ms", "-1",  "+1",   "1e3",  "0x10", "inf",
	    "nan", "1 s", " 1",	 "1 ", "1S",  "1sec", "1ms2", "1..2", "1.2.3",
	    "1,5", "1d",  "1hh", "h1", "1:2", "\t1",  "1mss", "1.s5",
	};
	char huge[512];
	double d = 42;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		ck_assert_msg(parse_duration(t[i], &d) == -1, "%s", t[i]);
	ck_assert(d == 42);
	memset(huge, '9', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	ck_assert_int_eq(parse_duration(huge, &d), -1);
	ck_assert(d == 42);
	/* The maximum is 1e9 s in any unit; past it, not a duration (a
	 * time_t conversion of it used to overflow: block spun for ever). */
	ck_assert_int_eq(parse_duration("1000000000", &d), 0);
	ck_assert(d == 1e9);
	ck_assert_int_eq(parse_duration("1000000000000ms", &d), 0);
	ck_assert_int_eq(parse_duration("1000000000.001", &d), -1);
	ck_assert_int_eq(parse_duration("16666667m", &d), -1);
	ck_assert_int_eq(parse_duration("277778h", &d), -1);
	ck_assert_int_eq(parse_duration("99999999999999999999", &d), -1);
	d = 42;
	ck_assert_int_eq(parse_duration("1000000000001ms", &d), -1);
	ck_assert(d == 42);
}
END_TEST

START_TEST(backoff_values)
{
	double b = -1, m = -1;

	ck_assert_int_eq(parse_backoff("2s", &b, &m), 0);
	ck_assert(b == 2);
	ck_assert(m == -1);
	ck_assert_int_eq(parse_backoff("100ms:10s", &b, &m), 0);
	ck_assert(b == 0.1);
	ck_assert(m == 10);
	ck_assert_int_eq(parse_backoff("1:1", &b, &m), 0);
	ck_assert(b == 1 && m == 1);
	ck_assert_int_eq(parse_backoff("1m:59s", &b, &m), -1);
	ck_assert_int_eq(parse_backoff("", &b, &m), -1);
	ck_assert_int_eq(parse_backoff(":", &b, &m), -1);
	ck_assert_int_eq(parse_backoff("1:x", &b, &m), -1);
	ck_assert_int_eq(parse_backoff("x:1", &b, &m), -1);
	ck_assert(b == 1 && m == 1);
}
END_TEST

START_TEST(counts)
{
	long long n = -5;

	ck_assert_int_eq(parse_count("0", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(parse_count("42", &n), 0);
	ck_assert_int_eq(n, 42);
	ck_assert_int_eq(parse_count("9223372036854775807", &n), 0);
	ck_assert(n == 9223372036854775807LL);
	n = 3;
	ck_assert_int_eq(parse_count("9223372036854775808", &n), -1);
	ck_assert_int_eq(parse_count("", &n), -1);
	ck_assert_int_eq(parse_count("-1", &n), -1);
	ck_assert_int_eq(parse_count("+1", &n), -1);
	ck_assert_int_eq(parse_count(" 1", &n), -1);
	ck_assert_int_eq(parse_count("1 ", &n), -1);
	ck_assert_int_eq(parse_count("1a", &n), -1);
	ck_assert_int_eq(parse_count("0x1", &n), -1);
	ck_assert_int_eq(parse_count("1.0", &n), -1);
	ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(ids)
{
	static const char *const good[] = {
	    "a", "A", "job-1", "a.b:c_d", "1a", "a1", "-", ".", "0.1", "1-2",
	};
	static const char *const nope[] = {
	    "", "0", "123", "a b", "a/b", "a,b", "a=b", "\xc3\xa9", "a\tb",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(parse_id_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof nope / sizeof nope[0]; i++)
		ck_assert_msg(!parse_id_valid(nope[i]), "%s", nope[i]);
}
END_TEST

START_TEST(line_length_limit)
{
	size_t n = PARSE_MAX_LINE;
	char *line = malloc(n + 2);
	struct job_spec *j;

	ck_assert_ptr_nonnull(line);
	memcpy(line, "sh ", 3);
	memset(line + 3, 'a', n - 3);
	line[n] = '\0';
	j = ok(line);
	ck_assert_uint_eq(strlen(j->argv[0]), n - 3);
	free(j);
	line[n] = 'a';
	line[n + 1] = '\0';
	ck_assert_ptr_null(bad(line, "line too long"));
	free(line);
}
END_TEST

START_TEST(long_continued_line_is_consumed_whole)
{
	size_t half = PARSE_MAX_LINE / 2 + 10;
	char *line = malloc(half);
	struct parser p;
	struct job_spec *j;

	ck_assert_ptr_nonnull(line);
	memset(line, 'b', half);
	memcpy(line, "exec a ", 7);
	line[half - 1] = '\\';
	parser_init(&p);
	ck_assert_int_eq(feed(&p, line, half, &j), PARSE_MORE);
	line[0] = 'c';
	ck_assert_int_eq(feed(&p, line, half, &j), PARSE_MORE);
	/* Over the limit now: nothing more is kept. */
	ck_assert_uint_eq(p.toks.cap, 0);
	ck_assert_int_eq(feed(&p, line, half, &j), PARSE_MORE);
	ck_assert_uint_eq(p.toks.cap, 0);
	/* A quote that does not end still ends the line. */
	ck_assert_int_eq(feeds(&p, "x 'y \\", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "line too long");
	ck_assert_ptr_null(j);
	ck_assert(!parser_pending(&p));
	ck_assert_int_eq(feeds(&p, "sleep 1", &j), PARSE_JOB);
	free(j);
	/* Continued to end of input. */
	ck_assert_int_eq(feed(&p, line, half, &j), PARSE_MORE);
	ck_assert_int_eq(feed(&p, line, half, &j), PARSE_MORE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_ERROR);
	ck_assert_str_eq(err, "line too long");
	ck_assert_int_eq(feeds(&p, "sleep 2", &j), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"2"});
	free(j);
	parser_free(&p);
	free(line);
}
END_TEST

START_TEST(nul_byte_is_an_error)
{
	struct parser p;
	struct job_spec *j = (struct job_spec *)1;

	parser_init(&p);
	ck_assert_int_eq(feed(&p, "sleep\0 1", 8, &j), PARSE_ERROR);
	ck_assert_str_eq(err, "NUL byte in line");
	ck_assert_ptr_null(j);
	ck_assert_int_eq(feed(&p, "sleep 1 # a\0b", 13, &j), PARSE_ERROR);
	ck_assert_str_eq(err, "NUL byte in line");
	ck_assert_int_eq(feed(&p, "\0", 1, &j), PARSE_ERROR);
	ck_assert_str_eq(err, "NUL byte in line");
	/* In a continued line, found at its end. */
	ck_assert_int_eq(feeds(&p, "exec echo \\", &j), PARSE_MORE);
	ck_assert_int_eq(feed(&p, "a\0 \\", 4, &j), PARSE_MORE);
	ck_assert_int_eq(feeds(&p, "b", &j), PARSE_ERROR);
	ck_assert_str_eq(err, "NUL byte in line");
	ck_assert_ptr_null(j);
	ck_assert_int_eq(feeds(&p, "sleep 1", &j), PARSE_JOB);
	free(j);
	ck_assert_int_eq(feed(&p, "'\0' \\", 5, &j), PARSE_MORE);
	ck_assert_int_eq(parser_finish(&p, &j, err, sizeof err), PARSE_ERROR);
	ck_assert_str_eq(err, "NUL byte in line");
	parser_free(&p);
}
END_TEST

START_TEST(parser_never_reads_past_len)
{
	struct parser p;
	struct job_spec *j;
	const char *s;

	parser_init(&p);
	/* Bytes after len would change the result if they were read. */
	s = "sleep 1'";
	ck_assert_int_eq(parser_feed(&p, s, 7, &j, err, sizeof err), PARSE_JOB);
	args_eq(j, 1, (const char *[]){"1"});
	free(j);
	s = "exec a\\b";
	ck_assert_int_eq(parser_feed(&p, s, 7, &j, err, sizeof err),
			 PARSE_MORE);
	ck_assert_int_eq(parser_feed(&p, "c", 1, &j, err, sizeof err),
			 PARSE_JOB);
	args_eq(j, 2, (const char *[]){"a", "c"});
	free(j);
	s = "exec \"ab\"";
	ck_assert_int_eq(parser_feed(&p, s, 8, &j, err, sizeof err),
			 PARSE_ERROR);
	ck_assert_str_eq(err, "unterminated quote");
	free(j);
	s = "exec \"a\\\"";
	ck_assert_int_eq(parser_feed(&p, s, 8, &j, err, sizeof err),
			 PARSE_ERROR);
	ck_assert_str_eq(err, "unterminated quote");
	free(j);
	s = "exec 'ab'";
	ck_assert_int_eq(parser_feed(&p, s, 8, &j, err, sizeof err),
			 PARSE_ERROR);
	free(j);
	s = "xsleep 9";
	ck_assert_int_eq(parser_feed(&p, s + 1, 5, &j, err, sizeof err),
			 PARSE_ERROR);
	ck_assert_str_eq(err, "sleep: expected 1 argument");
	free(j);
	ck_assert_int_eq(parser_feed(&p, "", 0, &j, err, sizeof err),
			 PARSE_NONE);
	parser_free(&p);
}
END_TEST

START_TEST(every_prefix_of_tricky_lines_is_safe)
{
	static const char *const t[] = {
	    "id=a after=1,b exec \"x\\\"y\\\\\" 'z' a\\ b # c \\",
	    "exec \"\\",
	    "exec '\\'",
	    "  \\",
	    "timeout=1.5ms backoff=1:2 on=loop sleep \"1\"\r",
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t n = strlen(t[i]);
		for (size_t k = 0; k <= n; k++) {
			struct parser p;
			struct job_spec *j = NULL;
			enum parse_rc rc;

			parser_init(&p);
			rc = feed(&p, t[i], k, &j);
			if (rc == PARSE_MORE)
				rc = parser_finish(&p, &j, err, sizeof err);
			ck_assert(rc != PARSE_MORE);
			free(j);
			parser_free(&p);
		}
	}
}
END_TEST

START_TEST(spec_is_one_allocation)
{
	struct parser p;
	struct job_spec *j;
	char line[] = "id=one group=g after=a,b timeout=2 exec echo 'x y' z";
	size_t size;

	parser_init(&p);
	ck_assert_int_eq(
	    parser_feed(&p, line, strlen(line), &j, err, sizeof err),
	    PARSE_JOB);
	parser_free(&p);
	memset(line, '#', sizeof line - 1);
	size = malloc_usable_size(j);
	const char *lo = (const char *)j, *hi = lo + size;
	const char *strs[] = {j->id,	   j->group,   j->kindname, j->after[0],
			      j->after[1], j->argv[0], j->argv[1],  j->argv[2]};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		ck_assert(strs[i] >= lo && strs[i] + strlen(strs[i]) < hi);
	ck_assert((const char *)j->after >= lo &&
		  (const char *)(j->after + 2) <= hi);
	ck_assert((const char *)j->argv >= lo &&
		  (const char *)(j->argv + 4) <= hi);
	ck_assert_str_eq(j->id, "one");
	ck_assert_str_eq(j->group, "g");
	ck_assert_str_eq(j->after[0], "a");
	ck_assert_str_eq(j->after[1], "b");
	ck_assert_str_eq(j->kindname, "exec");
	args_eq(j, 3, (const char *[]){"echo", "x y", "z"});
	free(j);

	/* Error specs too. */
	parser_init(&p);
	ck_assert_int_eq(feeds(&p, "id=e frob", &j), PARSE_ERROR);
	parser_free(&p);
	lo = (const char *)j;
	hi = lo + malloc_usable_size(j);
	ck_assert(j->id >= lo && j->id < hi);
	ck_assert(j->kindname >= lo && j->kindname < hi);
	free(j);
}
END_TEST

START_TEST(spec_is_compact)
{
	struct job_spec *j = ok("sleep 1");

	/* The struct, argv[2] and "sleep\0" "1\0". */
	ck_assert_uint_le(malloc_usable_size(j),
			  sizeof *j + 2 * sizeof(char *) + 8 + 16);
	free(j);
}
END_TEST

START_TEST(many_arguments)
{
	size_t n = 4 + 2 * 1000;
	char *line = malloc(n + 1);
	struct job_spec *j;

	ck_assert_ptr_nonnull(line);
	memcpy(line, "exec", 4);
	for (size_t i = 4; i < n; i += 2)
		memcpy(line + i, " x", 2);
	line[n] = '\0';
	j = ok(line);
	ck_assert_int_eq(j->argc, 1000);
	ck_assert_str_eq(j->argv[999], "x");
	free(j);
	free(line);
}
END_TEST

START_TEST(parser_reuse_over_many_lines)
{
	struct parser p;
	struct job_spec *j;
	char line[64];

	parser_init(&p);
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof line, "id=j%d sleep %d", i, i % 7);
		ck_assert_int_eq(feeds(&p, line, &j), PARSE_JOB);
		snprintf(line, sizeof line, "j%d", i);
		ck_assert_str_eq(j->id, line);
		free(j);
		ck_assert_int_eq(feeds(&p, "# c", &j), PARSE_NONE);
	}
	parser_free(&p);
}
END_TEST

/* parse_spec_set_arg: one argument replaced, everything else kept. */
START_TEST(set_arg_replaces_one_argument_and_keeps_the_rest)
{
	struct job_spec *j = NULL;
	char err[256];

	ck_assert_int_eq(parse_line("id=x after=a,2 group=g timeout=1s "
				    "exec one two three",
				    &j, err, sizeof err),
			 PARSE_JOB);
	j = parse_spec_set_arg(j, 1, "a much longer replacement");
	ck_assert_str_eq(j->kindname, "exec");
	ck_assert_int_eq(j->argc, 3);
	ck_assert_str_eq(j->argv[0], "one");
	ck_assert_str_eq(j->argv[1], "a much longer replacement");
	ck_assert_str_eq(j->argv[2], "three");
	ck_assert_ptr_null(j->argv[3]);
	ck_assert_str_eq(j->id, "x");
	ck_assert_str_eq(j->group, "g");
	ck_assert_int_eq(j->nafter, 2);
	ck_assert_str_eq(j->after[0], "a");
	ck_assert_str_eq(j->after[1], "2");
	ck_assert(j->timeout == 1.0);
	ck_assert_ptr_eq(j->kind, kind_find("exec"));
	free(j);
}
END_TEST

/* Run the http check on a NULL-terminated argv; its return value. */
static int
http_check(const char *const *argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	err[0] = '\0';
	return net_check_http(argc, (char *const *)argv, err, sizeof err);
}

START_TEST(http_urls_libcurl_takes_pass)
{
	static const char *const good[] = {
	    "http://example.org/", "https://example.org", "HTTP://EXAMPLE.org/x",
	    "hTTps://a/", "http:/a", "http:///a", "http://a:80/", "http://a:/",
	    "http://a:", "http://a:0", "http://a:65535/", "http://a:080/",
	    "http://u:p@a/", "http://@a/", "http://:@a/", "http://u[x]@a/",
	    "http://u/x@a/", "http://[::1]/", "http://[::1]:80/",
	    "http://[::1]:/", "http://[fe80::1%25eth0]/", "http://[fe80::1%eth0]/",
	    "http://[::ffff:1.2.3.4]/", "http://1.2.3.999/", "http://0x7f.1/",
	    "http://a%41b/", "http://a%zz/", "http://a%/", "http://a%7fb/",
	    "http://a_b.c-d~e|f/", "http://-a-/", "http://caf\xc3\xa9.org/",
	    "http://a/%zz", "http://a/?q=1#f", "http://a?q",
	    "http://a#f", "http://a/\\", "http://a/b#c#d", "http://a/\xff",
	    "https://user:pa:ss@host:443/p?q#f",
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		const char *argv[] = {good[i], NULL};
		ck_assert_msg(http_check(argv) == 0, "%s: %s", good[i], err);
	}
}
END_TEST

START_TEST(http_urls_libcurl_refuses_fail)
{
	static const char *const badurl[] = {
	    "http:a", "http:////a", "http://", "http:", "http://:80/",
	    "http://a:65536/", "http://a:8x/", "http://a:-1/", "http://a:80:80/",
	    "http://a:99999999999999999999/", "http://u@/", "http://a:b@/",
	    "http://a@b@c/", "http://[::1", "http://[::g]/", "http://[::1]x/",
	    "http://[1.2.3.4]/", "http://[]/", "http://[::1%]/", "http://[::1]%/",
	    "http://a]/", "http://a[/", "http://a b/", "http://a/b c",
	    "http://a%20b/", "http://a%2F/", "http://a%3a80/", "http://a%01b/",
	    "http://a$b/", "http://a!b/", "http://a,b/", "http://a=b/",
	    "http://a'b/", "http://a\\b/", "http://a\"b/", "http://a<b>/",
	    "http://a\x01/", "http://a/\x7f", "http://a/\tb", "http://a/#\x01",
	    "http://?", "http://#", "http:?x", "http:/?x", "https:\\\\a",
	    "not-a-url", "example.org", "/path", "://a/", "1http://a/",
	    "http//a/", "",
	};
	static const char *const scheme[] = {
	    "ftp://example.org/", "file:///etc/passwd", "foo://a/", "ws://a/",
	    "mailto:x@y",
	};
	char want[ERRLEN];

	for (size_t i = 0; i < sizeof badurl / sizeof badurl[0]; i++) {
		const char *argv[] = {"-L", badurl[i], NULL};
		ck_assert_msg(http_check(argv) == -1, "%s passed", badurl[i]);
		snprintf(want, sizeof want, "http: bad URL '%s'", badurl[i]);
		ck_assert_str_eq(err, want);
	}
	for (size_t i = 0; i < sizeof scheme / sizeof scheme[0]; i++) {
		const char *argv[] = {scheme[i], NULL};
		ck_assert_int_eq(http_check(argv), -1);
		snprintf(want, sizeof want,
			 "http: URL must be http or https: '%s'", scheme[i]);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(http_options_are_checked)
{
	static const struct {
		const char *argv[6];
		const char *msg; /* NULL: passes */
	} cases[] = {
	    {{"-X", "PUT", "-H", "A: b", "http://a/"}, NULL},
	    {{"http://a/", "-d", "", "-L", "-H", "X-Y:"}, NULL},
	    {{"-X", "HEAD", "-L", "https://a/"}, NULL},
	    {{"-Z", "http://a/"}, "http: unknown option '-Z'"},
	    {{"--", "http://a/"}, "http: unknown option '--'"},
	    {{"-H", "nocolon", "http://a/"},
	     "http: bad header 'nocolon' (want 'NAME: VALUE')"},
	    {{"-H", ": v", "http://a/"},
	     "http: bad header ': v' (want 'NAME: VALUE')"},
	    {{"-H", "A: b\nC: d", "http://a/"},
	     "http: bad header 'A: b\nC: d' (want 'NAME: VALUE')"},
	    {{"-X", "BAD METHOD", "http://a/"}, "http: bad method 'BAD METHOD'"},
	    {{"-X", "", "http://a/"}, "http: bad method ''"},
	    {{"http://a/", "-X"}, "http: -X needs a value"},
	    {{"http://a/", "-d"}, "http: -d needs a value"},
	    {{"-X", "GET", "-X", "PUT", "http://a/"}, "http: -X given twice"},
	    {{"-d", "a", "-d", "b", "http://a/"}, "http: -d given twice"},
	    {{"http://a/", "http://b/"}, "http: more than one URL: 'http://b/'"},
	    {{"-X", "GET"}, "http: missing URL"},
	    {{"-L"}, "http: missing URL"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = http_check(cases[i].argv);
		if (cases[i].msg == NULL) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_str_eq(err, cases[i].msg);
		}
	}
}
END_TEST

START_TEST(http_args_are_split)
{
	const char *argv[] = {"-d", "x=1", "-H", "A: b", "-L",
			      "https://a/", "-X", "PATCH", NULL};
	struct http_args a;

	ck_assert_int_eq(net_check_http_args(8, (char *const *)argv, &a, err,
					     sizeof err),
			 0);
	ck_assert_str_eq(a.url, "https://a/");
	ck_assert_str_eq(a.method, "PATCH");
	ck_assert_str_eq(a.data, "x=1");
	ck_assert(a.follow);
}
END_TEST

/* The suite: every test above in one test case per area. */
static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tok = tcase_create("tokens");
	TCase *cont = tcase_create("continuations");
	TCase *opt = tcase_create("options");
	TCase *val = tcase_create("values");
	TCase *lim = tcase_create("limits");

	tcase_add_test(tok, blank_and_comment_lines_give_none);
	tcase_add_test(tok, simple_job_has_unset_options);
	tcase_add_test(tok, blanks_are_space_tab_and_cr);
	tcase_add_test(tok, single_quotes_are_literal);
	tcase_add_test(tok, double_quotes_know_four_escapes);
	tcase_add_test(tok, double_quotes_know_hex_escapes);
	tcase_add_test(tok, other_backslashes_in_double_quotes_stay);
	tcase_add_test(tok, backslash_outside_quotes_escapes_next_char);
	tcase_add_test(tok, quotes_glue_to_text_in_one_token);
	tcase_add_test(tok, empty_quotes_are_empty_tokens);
	tcase_add_test(tok, hash_starts_comment_only_at_token_start);
	tcase_add_test(tok, unterminated_quotes_are_errors);
	tcase_add_test(tok, unterminated_quote_keeps_kind_and_id);
	tcase_add_test(tok, quote_does_not_continue_over_backslash);
	suite_add_tcase(s, tok);

	tcase_add_test(cont, continuation_joins_lines_with_a_blank);
	tcase_add_test(cont, continuation_tolerates_crlf);
	tcase_add_test(cont, continuation_ends_at_blank_or_comment_line);
	tcase_add_test(cont, backslash_at_eof_is_ignored);
	tcase_add_test(cont, escaped_backslash_at_end_does_not_continue);
	tcase_add_test(cont, backslash_in_comment_or_quotes_does_not_continue);
	suite_add_tcase(s, cont);

	tcase_add_test(opt, options_come_before_the_kind);
	tcase_add_test(opt, equals_after_the_kind_is_an_argument);
	tcase_add_test(opt, option_errors);
	tcase_add_test(opt, retries_limits);
	tcase_add_test(opt, id_and_group_limits);
	tcase_add_test(opt, after_lists);
	tcase_add_test(opt, missing_and_unknown_kinds);
	tcase_add_test(opt, error_spec_holds_kind_word_and_id);
	tcase_add_test(opt, arity_errors);
	tcase_add_test(opt, arity_messages_follow_the_kind_table);
	tcase_add_test(opt, on_follows_the_kind_table);
	tcase_add_test(opt, kind_rows_are_indexed_by_their_id);
	tcase_add_test(opt, kind_check_rejects_bad_arguments);
	tcase_add_test(opt, http_urls_libcurl_takes_pass);
	tcase_add_test(opt, http_urls_libcurl_refuses_fail);
	tcase_add_test(opt, http_options_are_checked);
	tcase_add_test(opt, http_args_are_split);
	suite_add_tcase(s, opt);

	tcase_add_test(val, durations_valid);
	tcase_add_test(val, durations_invalid);
	tcase_add_test(val, backoff_values);
	tcase_add_test(val, counts);
	tcase_add_test(val, ids);
	suite_add_tcase(s, val);

	tcase_set_timeout(lim, 60);
	tcase_add_test(lim, line_length_limit);
	tcase_add_test(lim, long_continued_line_is_consumed_whole);
	tcase_add_test(lim, nul_byte_is_an_error);
	tcase_add_test(lim, parser_never_reads_past_len);
	tcase_add_test(lim, every_prefix_of_tricky_lines_is_safe);
	tcase_add_test(lim, spec_is_one_allocation);
	tcase_add_test(lim, spec_is_compact);
	tcase_add_test(lim, many_arguments);
	tcase_add_test(lim, parser_reuse_over_many_lines);
	tcase_add_test(opt, set_arg_replaces_one_argument_and_keeps_the_rest);
	tcase_add_test(opt, hidden_kinds_are_not_in_the_language);
	suite_add_tcase(s, lim);
	return s;
}

/* Run the suite; fail the process on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(parse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
