/*
 * check_wire.c: the remote workers' protocol (src/wire.h): every frame
 * round-trips with edge values, caps hold exactly, prefixes of a valid
 * stream need more bytes, corrupt bytes are errors with a message, the
 * byte order is the network's on any host, and the greeting and HELLO
 * checks say what does not match.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "future.h"
#include "kinds.h"
#include "wire.h"

/* n bytes of c, with a NUL at every 1000th byte when nuls is set. */
static char *
filled(size_t n, char c, int nuls)
{
	char *s = malloc(n ? n : 1);

	memset(s, c, n);
	for (size_t i = 0; nuls && i < n; i += 1000)
		s[i] = '\0';
	return s;
}

/* Decode the single frame that b holds; it must take all of b. */
static void
decode_all(const struct buf *b, struct wire_msg *m)
{
	char err[256] = "";
	ssize_t n = wire_decode(b->data, b->len, m, err, sizeof err);

	ck_assert_msg(n == (ssize_t)b->len, "decoded %zd of %zu: %s", n, b->len,
		      err);
}

/* Decode bytes that must be refused, with a message containing want. */
static void
refused(const char *p, size_t n, const char *want)
{
	struct wire_msg m;
	char err[256] = "";

	ck_assert_int_eq(wire_decode(p, n, &m, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"",
		      err, want);
}

/* Overwrite the big-endian u32 at off. */
static void
poke32(char *p, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[off + (size_t)i] = (char)(v >> (24 - 8 * i));
}

START_TEST(test_wire_greeting_round_trips_and_checks)
{
	struct buf b = BUF_INIT;
	struct wire_greeting g;
	char err[256] = "";

	wire_put_greeting(&b);
	for (size_t cut = 0; cut < b.len; cut++)
		ck_assert_int_eq(
		    wire_greeting_decode(b.data, cut, &g, err, sizeof err), 0);
	ck_assert_int_eq(
	    wire_greeting_decode(b.data, b.len, &g, err, sizeof err),
	    (ssize_t)b.len);
	ck_assert_uint_eq(g.proto, WIRE_PROTO);
	ck_assert_str_eq(g.version, PACKAGE_VERSION);
	ck_assert_int_eq(wire_greeting_check("h1", &g, err, sizeof err), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_wire_greeting_of_another_protocol_names_host_and_versions)
{
	/* A later corun: protocol 2, version "9.9", then bytes we cannot
	 * read; the greeting alone is enough to refuse it clearly. */
	static const char bytes[] = "CORUNW\x00\x02\x03"
				    "9.9\xff\xff";
	struct wire_greeting g;
	char err[256] = "", want[256];

	ck_assert_int_eq(
	    wire_greeting_decode(bytes, sizeof bytes - 1, &g, err, sizeof err),
	    12);
	ck_assert_uint_eq(g.proto, 2);
	ck_assert_str_eq(g.version, "9.9");
	ck_assert_int_eq(wire_greeting_check("node7", &g, err, sizeof err), -1);
	snprintf(want, sizeof want,
		 "node7: corun 9.9 speaks wire protocol 2, this corun %s "
		 "speaks 1",
		 PACKAGE_VERSION);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_wire_greeting_refuses_other_output)
{
	static const char banner[] = "bash: corun: command not found\n";
	static const char zero[] = "CORUNW\x00\x01\x00";
	static const char ctl[] = "CORUNW\x00\x01\x03"
				  "1\n2";
	struct wire_greeting g;
	char err[256] = "";

	ck_assert_int_eq(wire_greeting_decode(banner, sizeof banner - 1, &g,
					      err, sizeof err),
			 -1);
	ck_assert_str_eq(err, "not a corun worker: its output begins "
			      "\"bash: corun: com\"");
	/* The first wrong byte is enough; a right prefix needs more. */
	ck_assert_int_eq(wire_greeting_decode("COX", 3, &g, err, sizeof err),
			 -1);
	ck_assert_int_eq(wire_greeting_decode("CORU", 4, &g, err, sizeof err),
			 0);
	ck_assert_int_eq(
	    wire_greeting_decode("\x01\x02", 2, &g, err, sizeof err), -1);
	ck_assert_str_eq(err, "not a corun worker: its output begins "
			      "\"\\x01\\x02\"");
	ck_assert_int_eq(
	    wire_greeting_decode(zero, sizeof zero - 1, &g, err, sizeof err),
	    -1);
	ck_assert_int_eq(
	    wire_greeting_decode(ctl, sizeof ctl - 1, &g, err, sizeof err), -1);
	ck_assert(strstr(err, "0x0a") != NULL);
}
END_TEST

START_TEST(test_wire_hello_round_trips_and_check_names_missing_kinds)
{
	struct buf kinds = BUF_INIT, b = BUF_INIT;
	struct wire_hello ours, peer;
	struct wire_msg m;
	char err[256] = "";

	wire_kinds(&kinds);
	ck_assert_str_eq(kinds.data, "sleep exec sh cancel http tcp resolve "
				     "block read primes spin call");
	ours = (struct wire_hello){.cpus = 2,
				   .jobs = 0,
				   .procs = 2,
				   .threads = INT32_MAX,
				   .heartbeat = WIRE_NO_TIME,
				   .grace = 2500000,
				   .kinds = kinds.data,
				   .kindslen = (uint32_t)kinds.len,
				   .env = "A=1\0B_2=x=y\0EMPTY=\0",
				   .envlen = 19,
				   .workdir = "/tmp/w d",
				   .wdlen = 8};
	ck_assert_int_eq(wire_put_hello(&b, &ours), 0);
	decode_all(&b, &m);
	ck_assert_int_eq(m.type, WIRE_HELLO);
	ck_assert(m.tag == 0);
	ck_assert_uint_eq(m.u.hello.cpus, 2);
	ck_assert_uint_eq(m.u.hello.jobs, 0);
	ck_assert_uint_eq(m.u.hello.procs, 2);
	ck_assert_uint_eq(m.u.hello.threads, INT32_MAX);
	ck_assert(m.u.hello.heartbeat == WIRE_NO_TIME);
	ck_assert(m.u.hello.grace == 2500000);
	ck_assert_uint_eq(m.u.hello.kindslen, kinds.len);
	ck_assert(memcmp(m.u.hello.kinds, kinds.data, kinds.len) == 0);
	ck_assert_uint_eq(m.u.hello.envlen, 19);
	ck_assert(memcmp(m.u.hello.env, "A=1\0B_2=x=y\0EMPTY=\0", 19) == 0);
	ck_assert_uint_eq(m.u.hello.wdlen, 8);
	ck_assert(memcmp(m.u.hello.workdir, "/tmp/w d", 8) == 0);
	ck_assert_int_eq(
	    wire_hello_check("h", &ours, &m.u.hello, err, sizeof err), 0);

	peer = ours;
	peer.kinds = "sleep exec sh cancel resolve block read primes spin "
		     "call https";
	peer.kindslen = (uint32_t)strlen(peer.kinds);
	ck_assert_int_eq(wire_hello_check("h2", &ours, &peer, err, sizeof err),
			 -1);
	ck_assert_str_eq(err, "h2: its corun does not know kinds http, tcp");
	peer.kinds = "exec sh cancel http tcp resolve block read primes spin "
		     "call";
	peer.kindslen = (uint32_t)strlen(peer.kinds);
	ck_assert_int_eq(wire_hello_check("h3", &ours, &peer, err, sizeof err),
			 -1);
	ck_assert_str_eq(err, "h3: its corun does not know kind sleep");

	/* Rules: at least one CPU, limits that fit an int, kinds NUL-free
	 * and non-empty. */
	peer = ours;
	peer.cpus = 0;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	peer = ours;
	peer.jobs = (uint32_t)INT32_MAX + 1;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	peer = ours;
	peer.kinds = "sleep\0exec";
	peer.kindslen = 10;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	peer.kindslen = 0;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	/* The environment: NAME=VALUE entries, each NUL-ended; a name
	 * starts with a letter or _; no NUL in the workdir; a grace. */
	{
		static const struct {
			const char *env;
			uint32_t len;
		} bad[] = {{"A=1", 3},	 {"=1\0", 3}, {"1A=x\0", 5},
			   {"A-B=x\0", 6}, {"AB\0", 3}, {"A=1\0\0", 5}};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			peer = ours;
			peer.env = bad[i].env;
			peer.envlen = bad[i].len;
			ck_assert_msg(wire_put_hello(&b, &peer) == -1,
				      "env %zu taken", i);
		}
		ck_assert(wire_env_ok("_=\0", 3));
		ck_assert(wire_env_ok(NULL, 0));
	}
	peer = ours;
	peer.workdir = "a\0b";
	peer.wdlen = 3;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	peer = ours;
	peer.grace = WIRE_NO_TIME;
	ck_assert_int_eq(wire_put_hello(&b, &peer), -1);
	ck_assert_uint_eq(b.len, WIRE_HDR + 44 + kinds.len + 19 + 8);
	buf_free(&b);
	buf_free(&kinds);
}
END_TEST

START_TEST(test_wire_every_frame_type_round_trips_with_edge_values)
{
	struct buf b = BUF_INIT;
	char *value = filled(CORUN_OUTPUT_CAP, 'v', 1);
	char *errout = filled(CORUN_STDERR_CAP, 'e', 1);
	char *msg = filled(WIRE_ERROR_MAX, 'm', 0);
	char *line = filled(WIRE_LINE_MAX, 'l', 0);
	char *chunk = filled(WIRE_CHUNK_MAX, '\0', 0);
	char *name = filled(WIRE_NAME_MAX, 'n', 0);
	struct wire_job j1 = {1, WIRE_NO_TIME, "1 process sleep 1", 17};
	struct wire_job j2 = {UINT32_MAX, 0, line, WIRE_LINE_MAX};
	struct wire_result r1 = {.status = 5, .exit = WIRE_NO_EXIT};
	struct wire_result r2 = {.status = 1,
				 .exit = 255,
				 .signal = 127,
				 .http_status = 999,
				 .retry_after = UINT32_MAX,
				 .truncated = 1,
				 .has_errout = 1,
				 .unstarted = 1,
				 .has_error = 1,
				 .value = value,
				 .vlen = CORUN_OUTPUT_CAP,
				 .errout = errout,
				 .errlen = CORUN_STDERR_CAP,
				 .error = msg,
				 .msglen = WIRE_ERROR_MAX};
	struct wire_result r3 = {
	    .status = 0, .exit = 0, .value = "a\0b", .vlen = 3, .has_error = 1};
	struct wire_cancel c1 = {WIRE_NO_TIME - 1, 1}, c2 = {0, 0};
	struct wire_file f1 = {UINT64_MAX - WIRE_CHUNK_MAX,
			       1,
			       name,
			       WIRE_NAME_MAX,
			       chunk,
			       WIRE_CHUNK_MAX};
	struct wire_file f2 = {0, 0, "b", 1, NULL, 0};
	struct wire_msg m;
	size_t pos = 0;
	char err[256];
	ssize_t n;

	ck_assert_int_eq(wire_put_job(&b, 0, &j1), 0);
	ck_assert_int_eq(wire_put_job(&b, UINT64_MAX, &j2), 0);
	wire_put_started(&b, 42);
	ck_assert_int_eq(wire_put_result(&b, 42, &r1), 0);
	ck_assert_int_eq(wire_put_result(&b, 43, &r2), 0);
	ck_assert_int_eq(wire_put_result(&b, 44, &r3), 0);
	wire_put_cancel(&b, 45, &c1);
	wire_put_cancel(&b, 46, &c2);
	wire_put_ping(&b, UINT64_MAX);
	wire_put_pong(&b, 0);
	ck_assert_int_eq(wire_put_file(&b, &f1), 0);
	ck_assert_int_eq(wire_put_file(&b, &f2), 0);
	wire_put_bye(&b);

#define NEXT(want)                                                             \
	do {                                                                   \
		n = wire_decode(b.data + pos, b.len - pos, &m, err,            \
				sizeof err);                                   \
		ck_assert_msg(n > 0, "frame at %zu: %zd %s", pos, n, err);     \
		ck_assert_int_eq(m.type, want);                                \
		pos += (size_t)n;                                              \
	} while (0)

	NEXT(WIRE_JOB);
	ck_assert(m.tag == 0);
	ck_assert_uint_eq(m.u.job.attempt, 1);
	ck_assert(m.u.job.timeout == WIRE_NO_TIME);
	ck_assert_uint_eq(m.u.job.linelen, 17);
	ck_assert(memcmp(m.u.job.line, "1 process sleep 1", 17) == 0);
	NEXT(WIRE_JOB);
	ck_assert(m.tag == UINT64_MAX);
	ck_assert_uint_eq(m.u.job.attempt, UINT32_MAX);
	ck_assert(m.u.job.timeout == 0);
	ck_assert_uint_eq(m.u.job.linelen, WIRE_LINE_MAX);
	ck_assert(memcmp(m.u.job.line, line, WIRE_LINE_MAX) == 0);
	NEXT(WIRE_STARTED);
	ck_assert(m.tag == 42);
	NEXT(WIRE_RESULT);
	ck_assert(m.tag == 42);
	ck_assert_uint_eq(m.u.result.status, 5);
	ck_assert_uint_eq(m.u.result.exit, WIRE_NO_EXIT);
	ck_assert_uint_eq(m.u.result.signal, 0);
	ck_assert_uint_eq(m.u.result.http_status, 0);
	ck_assert(!m.u.result.truncated && !m.u.result.has_errout &&
		  !m.u.result.unstarted && !m.u.result.has_error);
	ck_assert_uint_eq(
	    m.u.result.vlen + m.u.result.errlen + m.u.result.msglen, 0);
	NEXT(WIRE_RESULT);
	ck_assert(m.tag == 43);
	ck_assert_uint_eq(m.u.result.status, 1);
	ck_assert_uint_eq(m.u.result.exit, 255);
	ck_assert_uint_eq(m.u.result.signal, 127);
	ck_assert_uint_eq(m.u.result.http_status, 999);
	ck_assert_uint_eq(m.u.result.retry_after, UINT32_MAX);
	ck_assert(m.u.result.truncated && m.u.result.has_errout &&
		  m.u.result.unstarted && m.u.result.has_error);
	ck_assert_uint_eq(m.u.result.vlen, CORUN_OUTPUT_CAP);
	ck_assert(memcmp(m.u.result.value, value, CORUN_OUTPUT_CAP) == 0);
	ck_assert_uint_eq(m.u.result.errlen, CORUN_STDERR_CAP);
	ck_assert(memcmp(m.u.result.errout, errout, CORUN_STDERR_CAP) == 0);
	ck_assert_uint_eq(m.u.result.msglen, WIRE_ERROR_MAX);
	ck_assert(memcmp(m.u.result.error, msg, WIRE_ERROR_MAX) == 0);
	NEXT(WIRE_RESULT);
	ck_assert(m.tag == 44);
	ck_assert_uint_eq(m.u.result.exit, 0);
	ck_assert_uint_eq(m.u.result.vlen, 3);
	ck_assert(memcmp(m.u.result.value, "a\0b", 3) == 0);
	ck_assert(m.u.result.has_error);
	ck_assert_uint_eq(m.u.result.msglen, 0);
	NEXT(WIRE_CANCEL);
	ck_assert(m.tag == 45);
	ck_assert(m.u.cancel.grace == WIRE_NO_TIME - 1);
	ck_assert(m.u.cancel.hurry);
	NEXT(WIRE_CANCEL);
	ck_assert(m.tag == 46);
	ck_assert(m.u.cancel.grace == 0);
	ck_assert(!m.u.cancel.hurry);
	NEXT(WIRE_PING);
	ck_assert(m.tag == UINT64_MAX);
	NEXT(WIRE_PONG);
	ck_assert(m.tag == 0);
	NEXT(WIRE_FILE);
	ck_assert(m.u.file.offset == UINT64_MAX - WIRE_CHUNK_MAX);
	ck_assert(m.u.file.last);
	ck_assert_uint_eq(m.u.file.namelen, WIRE_NAME_MAX);
	ck_assert(memcmp(m.u.file.name, name, WIRE_NAME_MAX) == 0);
	ck_assert_uint_eq(m.u.file.datalen, WIRE_CHUNK_MAX);
	ck_assert(memcmp(m.u.file.data, chunk, WIRE_CHUNK_MAX) == 0);
	NEXT(WIRE_FILE);
	ck_assert(m.u.file.offset == 0 && !m.u.file.last);
	ck_assert_uint_eq(m.u.file.namelen, 1);
	ck_assert_uint_eq(m.u.file.datalen, 0);
	NEXT(WIRE_BYE);
#undef NEXT
	ck_assert_uint_eq(pos, b.len);
	ck_assert_int_eq(wire_decode(b.data + pos, 0, &m, err, sizeof err), 0);
	buf_free(&b);
	free(value);
	free(errout);
	free(msg);
	free(line);
	free(chunk);
	free(name);
}
END_TEST

START_TEST(test_wire_encoders_refuse_one_past_caps_and_bad_fields)
{
	struct buf b = BUF_INIT;
	char *big = filled(CORUN_OUTPUT_CAP + 1, 'x', 0);
	char *line = filled(WIRE_LINE_MAX + 1, 'l', 0);
	struct wire_result r;
	struct wire_job j;
	struct wire_file f;

	r = (struct wire_result){
	    .exit = WIRE_NO_EXIT, .value = big, .vlen = CORUN_OUTPUT_CAP + 1};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.exit = WIRE_NO_EXIT,
				 .errout = big,
				 .errlen = CORUN_STDERR_CAP + 1};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.exit = WIRE_NO_EXIT,
				 .has_error = 1,
				 .error = big,
				 .msglen = WIRE_ERROR_MAX + 1};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.has_error = 1, .error = "a\0b", .msglen = 3};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.error = "ab", .msglen = 2};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.status = 6};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.exit = 256};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.signal = 128};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);
	r = (struct wire_result){.http_status = 1000};
	ck_assert_int_eq(wire_put_result(&b, 1, &r), -1);

	j = (struct wire_job){1, 0, line, WIRE_LINE_MAX + 1};
	ck_assert_int_eq(wire_put_job(&b, 1, &j), -1);
	j = (struct wire_job){1, 0, "a\0b", 3};
	ck_assert_int_eq(wire_put_job(&b, 1, &j), -1);
	j = (struct wire_job){1, 0, "", 0};
	ck_assert_int_eq(wire_put_job(&b, 1, &j), -1);
	j = (struct wire_job){0, 0, "x", 1};
	ck_assert_int_eq(wire_put_job(&b, 1, &j), -1);

	f = (struct wire_file){0, 0, "n", 1, big, WIRE_CHUNK_MAX + 1};
	ck_assert_int_eq(wire_put_file(&b, &f), -1);
	f = (struct wire_file){0, 0, big, WIRE_NAME_MAX + 1, "", 0};
	ck_assert_int_eq(wire_put_file(&b, &f), -1);
	f = (struct wire_file){0, 0, "", 0, "", 0};
	ck_assert_int_eq(wire_put_file(&b, &f), -1);
	f = (struct wire_file){0, 0, "a\0b", 3, "", 0};
	ck_assert_int_eq(wire_put_file(&b, &f), -1);
	f = (struct wire_file){UINT64_MAX, 0, "n", 1, "d", 1};
	ck_assert_int_eq(wire_put_file(&b, &f), -1);

	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
	free(big);
	free(line);
}
END_TEST

START_TEST(test_wire_decoder_refuses_one_past_caps)
{
	struct buf b = BUF_INIT;
	char *value = filled(CORUN_OUTPUT_CAP, 'v', 0);
	struct wire_result r = {
	    .exit = WIRE_NO_EXIT, .value = value, .vlen = CORUN_OUTPUT_CAP};
	struct wire_file f = {0, 1, "name", 4, value, WIRE_CHUNK_MAX};
	size_t voff = WIRE_HDR + 24; /* the value's length */

	/* A RESULT claiming a value one byte over the cap (the frame's
	 * length grown to match, one byte of it moved from the error). */
	ck_assert_int_eq(wire_put_result(&b, 1, &r), 0);
	buf_addc(&b, 'x');
	poke32(b.data, 0, (uint32_t)(b.len - WIRE_HDR));
	poke32(b.data, voff, CORUN_OUTPUT_CAP + 1);
	refused(b.data, b.len, "RESULT: value of 1048577 bytes over the cap");
	buf_reset(&b);

	ck_assert_int_eq(wire_put_file(&b, &f), 0);
	buf_addc(&b, 'x');
	poke32(b.data, 0, (uint32_t)(b.len - WIRE_HDR));
	poke32(b.data, WIRE_HDR + 16 + 4, WIRE_CHUNK_MAX + 1);
	refused(b.data, b.len, "FILE: data of 1048577 bytes over the cap");
	buf_reset(&b);

	/* A frame over the cap is refused from its first 4 bytes. */
	buf_add(&b, "\x00\x40\x00\x01", 4);
	refused(b.data, b.len, "frame of 4194305 bytes over the cap 4194304");
	buf_reset(&b);
	/* So is, from its first 8, a length no frame of its type can have;
	 * the largest one it can have waits for its payload. */
	buf_add(&b, "\x00\x20\x00\x11\x00\x00\x00\x02", 8);
	refused(b.data, b.len, "JOB frame of 2097169 bytes, not 17..2097168");
	b.data[3] = 0x10;
	{
		struct wire_msg m;
		char err[64];
		ck_assert_int_eq(
		    wire_decode(b.data, b.len, &m, err, sizeof err), 0);
	}
	buf_free(&b);
	free(value);
}
END_TEST

START_TEST(test_wire_every_truncation_of_a_stream_needs_more)
{
	struct buf kinds = BUF_INIT, b = BUF_INIT;
	struct wire_hello h = {.cpus = 4, .jobs = 8, .procs = 2, .threads = 2};
	struct wire_job j = {1, 2500000, "1 process exec echo hi", 22};
	struct wire_result r = {.status = 1,
				.exit = 3,
				.value = "v\0v",
				.vlen = 3,
				.errout = "e",
				.errlen = 1,
				.has_errout = 1,
				.has_error = 1,
				.error = "exit status 3",
				.msglen = 13};
	struct wire_cancel c = {3000000, 0};
	struct wire_file f = {4, 1, "base", 4, "\0\1\2", 3};
	size_t ends[16], nends = 0;

	wire_kinds(&kinds);
	h.kinds = kinds.data;
	h.kindslen = (uint32_t)kinds.len;
	ck_assert_int_eq(wire_put_hello(&b, &h), 0);
	ends[nends++] = b.len;
	ck_assert_int_eq(wire_put_job(&b, 9, &j), 0);
	ends[nends++] = b.len;
	wire_put_started(&b, 9);
	ends[nends++] = b.len;
	ck_assert_int_eq(wire_put_result(&b, 9, &r), 0);
	ends[nends++] = b.len;
	wire_put_cancel(&b, 10, &c);
	ends[nends++] = b.len;
	wire_put_ping(&b, 77);
	ends[nends++] = b.len;
	wire_put_pong(&b, 77);
	ends[nends++] = b.len;
	ck_assert_int_eq(wire_put_file(&b, &f), 0);
	ends[nends++] = b.len;
	wire_put_bye(&b);
	ends[nends++] = b.len;

	for (size_t cut = 0; cut <= b.len; cut++) {
		/* An exact-size copy, so valgrind sees reads past the cut. */
		char *p = malloc(cut ? cut : 1);
		size_t pos = 0, whole = 0, want = 0;
		struct wire_msg m;
		char err[256] = "";
		ssize_t n;

		memcpy(p, b.data, cut);
		while ((n = wire_decode(p + pos, cut - pos, &m, err,
					sizeof err)) > 0) {
			pos += (size_t)n;
			whole++;
		}
		ck_assert_msg(n == 0, "cut at %zu: error %s", cut, err);
		while (want < nends && ends[want] <= cut)
			want++;
		ck_assert_uint_eq(whole, want);
		free(p);
	}
	buf_free(&b);
	buf_free(&kinds);
}
END_TEST

START_TEST(test_wire_corrupt_frames_are_errors)
{
	struct buf b = BUF_INIT;
	struct wire_msg m;
	char err[256];
	struct wire_job j = {1, 0, "x", 1};

	/* Unknown types, from the first 8 bytes. */
	refused("\0\0\0\0\0\0\0\0", 8, "frame of unknown type 0");
	refused("\0\0\0\0\0\0\0\x0a", 8, "frame of unknown type 10");
	refused("\0\0\0\0\xff\0\0\x01", 8, "frame of unknown type 4278190081");

	/* Empty frames with a payload, a payload too short for its fields:
	 * refused from the header, before the payload has come. */
	refused("\0\0\0\1\0\0\0\3\0\0\0\0\0\0\0\1", 16,
		"STARTED frame of 1 bytes, not 0..0");
	refused("\0\0\0\1\0\0\0\x09", 8, "BYE frame of 1 bytes, not 0..0");
	refused("\0\0\0\4\0\0\0\5\0\0\0\0\0\0\0\1abcd", 20,
		"CANCEL frame of 4 bytes, not 12..12");
	refused("\0\0\0\x14\0\0\0\1", 8, "HELLO frame of 20 bytes, not");

	/* A tag where there must be none. */
	refused("\0\0\0\0\0\0\0\x09\0\0\0\0\0\0\0\1", 16, "BYE: tag 1, not 0");

	/* A string running past the payload's end; a NUL in a line; bytes
	 * left over; unknown flag bits; attempt 0. */
	ck_assert_int_eq(wire_put_job(&b, 1, &j), 0);
	poke32(b.data, WIRE_HDR + 12, 2);
	refused(b.data, b.len,
		"JOB: line of 2 bytes runs past the payload's end");
	poke32(b.data, WIRE_HDR + 12, 1);
	b.data[WIRE_HDR + 16] = '\0';
	refused(b.data, b.len, "JOB: NUL byte in the line");
	b.data[WIRE_HDR + 16] = 'x';
	poke32(b.data, WIRE_HDR, 0);
	refused(b.data, b.len, "JOB: the attempt or the line out of range");
	poke32(b.data, WIRE_HDR, 1);
	ck_assert_int_eq(wire_decode(b.data, b.len, &m, err, sizeof err),
			 (ssize_t)b.len);
	buf_addc(&b, 'z');
	poke32(b.data, 0, (uint32_t)(b.len - WIRE_HDR));
	refused(b.data, b.len, "JOB: 1 bytes after the last field");
	buf_reset(&b);

	wire_put_cancel(&b, 1, &(struct wire_cancel){0, 1});
	poke32(b.data, WIRE_HDR + 8, 3);
	refused(b.data, b.len, "CANCEL: flags out of range");
	buf_reset(&b);
	ck_assert_int_eq(
	    wire_put_result(&b, 1, &(struct wire_result){.exit = 1}), 0);
	poke32(b.data, WIRE_HDR + 20, 0x10);
	refused(b.data, b.len, "RESULT: flags out of range");
	poke32(b.data, WIRE_HDR + 20, 0);
	poke32(b.data, WIRE_HDR, 6);
	refused(b.data, b.len, "RESULT: a status field out of range");
	buf_free(&b);
}
END_TEST

/* A result as result_init leaves it (check_wire links the parser's
 * library alone, without future.c). */
static void
result_zero(struct result *r)
{
	memset(r, 0, sizeof *r);
	r->exit = -1;
}

/* Free what result_zero's result came to own. */
static void
result_drop(struct result *r)
{
	buf_free(&r->value);
	buf_free(&r->errout);
	free(r->error);
}

/* Send r through a RESULT frame and back into out. */
static void
result_through_wire(const struct result *r, struct result *out)
{
	struct buf b = BUF_INIT;
	struct wire_result w;
	struct wire_msg m;

	wire_result_from(&w, r);
	ck_assert_int_eq(wire_put_result(&b, 5, &w), 0);
	decode_all(&b, &m);
	ck_assert_int_eq(m.type, WIRE_RESULT);
	result_zero(out);
	wire_result_to(out, &m.u.result);
	buf_free(&b);
}

START_TEST(test_wire_result_maps_struct_result_both_ways)
{
	struct result r, o;
	char *big;

	result_zero(&r);
	r.status = ST_TIMEOUT;
	r.signal = 9;
	r.retry_after = 5;
	r.has_errout = true;
	buf_add(&r.value, "a\0b", 3);
	buf_adds(&r.errout, "tail");
	r.error = strdup("timed out after 1s");
	result_through_wire(&r, &o);
	ck_assert_int_eq(o.status, ST_TIMEOUT);
	ck_assert_int_eq(o.exit, -1);
	ck_assert_int_eq(o.signal, 9);
	ck_assert_int_eq(o.http_status, 0);
	ck_assert_int_eq(o.retry_after, 5);
	ck_assert(!o.truncated && o.has_errout && !o.unstarted);
	ck_assert_uint_eq(o.value.len, 3);
	ck_assert(memcmp(o.value.data, "a\0b", 3) == 0);
	ck_assert_str_eq(o.errout.data, "tail");
	ck_assert_str_eq(o.error, "timed out after 1s");
	result_drop(&o);
	result_drop(&r);

	/* No message stays no message; an empty one stays empty. */
	result_zero(&r);
	r.status = ST_OK;
	r.exit = 0;
	r.http_status = 204;
	r.unstarted = true;
	result_through_wire(&r, &o);
	ck_assert_int_eq(o.exit, 0);
	ck_assert_int_eq(o.http_status, 204);
	ck_assert(o.unstarted);
	ck_assert_ptr_null(o.error);
	ck_assert_uint_eq(o.value.len + o.errout.len, 0);
	result_drop(&o);
	r.error = strdup("");
	result_through_wire(&r, &o);
	ck_assert_str_eq(o.error, "");
	result_drop(&o);
	result_drop(&r);

	/* What no local result holds is made to fit: the value cut (and
	 * marked truncated), the stderr tail's last bytes, the message's
	 * first, an exit status out of range dropped. */
	result_zero(&r);
	r.status = ST_FAILED;
	r.exit = 300;
	big = filled(CORUN_OUTPUT_CAP + 10, 'v', 0);
	buf_add(&r.value, big, CORUN_OUTPUT_CAP + 10);
	buf_add(&r.errout, big, CORUN_STDERR_CAP + 5);
	buf_adds(&r.errout, "END");
	big[WIRE_ERROR_MAX + 10] = '\0';
	r.error = big;
	result_through_wire(&r, &o);
	ck_assert_int_eq(o.exit, -1);
	ck_assert(o.truncated);
	ck_assert_uint_eq(o.value.len, CORUN_OUTPUT_CAP);
	ck_assert_uint_eq(o.errout.len, CORUN_STDERR_CAP);
	ck_assert(memcmp(o.errout.data + CORUN_STDERR_CAP - 3, "END", 3) == 0);
	ck_assert_uint_eq(strlen(o.error), WIRE_ERROR_MAX);
	result_drop(&o);
	result_drop(&r);
}
END_TEST

START_TEST(test_wire_byte_order_is_network_order)
{
	/* A JOB written by hand: length 19, type 2, tag 0x0102030405060708,
	 * attempt 2, timeout 1 s (1000000 us = 0xf4240), line "x y". */
	static const char job[] = "\x00\x00\x00\x13"
				  "\x00\x00\x00\x02"
				  "\x01\x02\x03\x04\x05\x06\x07\x08"
				  "\x00\x00\x00\x02"
				  "\x00\x00\x00\x00\x00\x0f\x42\x40"
				  "\x00\x00\x00\x03"
				  "x y";
	/* A PING with nonce 0x1122334455667788. */
	static const char ping[] = "\x00\x00\x00\x00\x00\x00\x00\x06"
				   "\x11\x22\x33\x44\x55\x66\x77\x88";
	struct buf b = BUF_INIT;
	struct wire_msg m;
	char err[256];
	struct wire_job j = {2, 1000000, "x y", 3};

	ck_assert_int_eq(wire_decode(job, sizeof job - 1, &m, err, sizeof err),
			 (ssize_t)(sizeof job - 1));
	ck_assert_int_eq(m.type, WIRE_JOB);
	ck_assert(m.tag == 0x0102030405060708ull);
	ck_assert_uint_eq(m.u.job.attempt, 2);
	ck_assert(m.u.job.timeout == 1000000);
	ck_assert(wire_seconds(m.u.job.timeout) == 1.0);
	ck_assert_uint_eq(m.u.job.linelen, 3);
	ck_assert(memcmp(m.u.job.line, "x y", 3) == 0);
	ck_assert_int_eq(wire_put_job(&b, 0x0102030405060708ull, &j), 0);
	ck_assert_uint_eq(b.len, sizeof job - 1);
	ck_assert(memcmp(b.data, job, b.len) == 0);
	buf_reset(&b);

	ck_assert_int_eq(
	    wire_decode(ping, sizeof ping - 1, &m, err, sizeof err), 16);
	ck_assert_int_eq(m.type, WIRE_PING);
	ck_assert(m.tag == 0x1122334455667788ull);
	wire_put_pong(&b, m.tag);
	ck_assert(memcmp(b.data + 8, ping + 8, 8) == 0);
	ck_assert(b.data[7] == WIRE_PONG);
	buf_free(&b);
}
END_TEST

START_TEST(test_wire_durations_are_microseconds)
{
	ck_assert(wire_usec(-1) == WIRE_NO_TIME);
	ck_assert(wire_usec(0) == 0);
	ck_assert(wire_usec(1.5) == 1500000);
	ck_assert(wire_usec(0.0000004) == 0);
	ck_assert(wire_usec(0.0000006) == 1);
	ck_assert(wire_usec(1e300) == WIRE_NO_TIME - 1);
	ck_assert(wire_seconds(WIRE_NO_TIME) == -1);
	ck_assert(wire_seconds(2500000) == 2.5);
	ck_assert_str_eq(wire_type_name(WIRE_RESULT), "RESULT");
	ck_assert_str_eq(wire_type_name(0), "?");
	ck_assert_str_eq(wire_type_name(10), "?");
}
END_TEST

/* The suite. */
static Suite *
wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_wire_greeting_round_trips_and_checks);
	tcase_add_test(
	    tc, test_wire_greeting_of_another_protocol_names_host_and_versions);
	tcase_add_test(tc, test_wire_greeting_refuses_other_output);
	tcase_add_test(
	    tc, test_wire_hello_round_trips_and_check_names_missing_kinds);
	tcase_add_test(tc,
		       test_wire_every_frame_type_round_trips_with_edge_values);
	tcase_add_test(tc,
		       test_wire_encoders_refuse_one_past_caps_and_bad_fields);
	tcase_add_test(tc, test_wire_decoder_refuses_one_past_caps);
	tcase_add_test(tc, test_wire_every_truncation_of_a_stream_needs_more);
	tcase_add_test(tc, test_wire_corrupt_frames_are_errors);
	tcase_add_test(tc, test_wire_result_maps_struct_result_both_ways);
	tcase_add_test(tc, test_wire_byte_order_is_network_order);
	tcase_add_test(tc, test_wire_durations_are_microseconds);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; fail on any failure. */
int
main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
