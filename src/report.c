/*
 * report.c: result records (corun(1), OUTPUT), text or JSON Lines.
 *
 * report_format turns a record into bytes and is pure: it only appends to
 * the caller's buffer. Strings are made safe on the way: in JSON, invalid
 * UTF-8 becomes U+FFFD (one per maximal invalid subpart, as Unicode
 * recommends) and control characters are escaped; in text, invalid UTF-8
 * becomes U+FFFD too and control characters other than tab (C0, DEL and
 * C1) are shown as '?', so a child cannot drive the user's terminal.
 * Both scanners copy runs of plain bytes with one buf_add, since a busy run
 * formats hundreds of thousands of records a second.
 *
 * Records are queued and written by report_writer.c.
 *
 * Pure: no I/O, no state; any thread.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

/* Byte classes for the scanners. */
enum {
	BC_PLAIN, /* printable ASCII: copied as is */
	BC_CTRL,  /* C0 control or DEL */
	BC_QUOTE, /* '"' or '\\': plain in text, escaped in JSON */
	BC_TAB,	  /* tab: plain in text, escaped in JSON */
	BC_HIGH,  /* 0x80-0xff: the start of a UTF-8 sequence, or invalid */
};

#define C4 BC_CTRL, BC_CTRL, BC_CTRL, BC_CTRL
#define P4 BC_PLAIN, BC_PLAIN, BC_PLAIN, BC_PLAIN
#define H4 BC_HIGH, BC_HIGH, BC_HIGH, BC_HIGH
#define H16 H4, H4, H4, H4

/* One row per 16 byte values. */
/* clang-format off */
static const unsigned char byte_class[] = {
	/* 0x00 */ C4, C4, BC_CTRL, BC_TAB, BC_CTRL, BC_CTRL, C4,
	/* 0x10 */ C4, C4, C4, C4,
	/* 0x20 */ BC_PLAIN, BC_PLAIN, BC_QUOTE, BC_PLAIN, P4, P4, P4,
	/* 0x30 */ P4, P4, P4, P4,
	/* 0x40 */ P4, P4, P4, P4,
	/* 0x50 */ P4, P4, P4, BC_QUOTE, BC_PLAIN, BC_PLAIN, BC_PLAIN,
	/* 0x60 */ P4, P4, P4, P4,
	/* 0x70 */ P4, P4, P4, BC_PLAIN, BC_PLAIN, BC_PLAIN, BC_CTRL,
	/* 0x80 */ H16, H16, H16, H16, H16, H16, H16, H16,
};
/* clang-format on */
_Static_assert(sizeof byte_class == 256, "one class per byte value");

static const char replacement[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */


/*
 * The UTF-8 sequence at p (n > 0 bytes left, p[0] >= 0x80): its length if
 * it is valid, else minus the length of its maximal invalid subpart (the
 * lead byte and the continuation bytes that could still have completed it).
 */
static int
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return -1; /* continuation byte, C0, C1, F5-FF */
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi)
			return -(int)i;
		lo = 0x80;
		hi = 0xbf;
	}
	return (int)need + 1;
}

/* Append the bytes of s escaped for the inside of a JSON string. */
static void
json_add(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;
	char esc[6];

	while (i < len) {
		unsigned char c = p[i];
		unsigned char cl = byte_class[c];
		int n;

		if (cl == BC_PLAIN) {
			i++;
			continue;
		}
		if (cl == BC_HIGH) {
			n = utf8_seq(p + i, len - i);
			if (n > 0) {
				i += (size_t)n;
				continue;
			}
			buf_add(out, p + run, i - run);
			buf_add(out, replacement, sizeof replacement);
			i += (size_t)-n;
			run = i;
			continue;
		}
		buf_add(out, p + run, i - run);
		esc[0] = '\\';
		n = 2;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
			break;
		}
		buf_add(out, esc, (size_t)n);
		run = ++i;
	}
	buf_add(out, p + run, len - run);
}

/* Append s as a JSON string, quotes included. */
void
report_json_string(struct buf *out, const char *s, size_t len)
{
	buf_addc(out, '"');
	json_add(out, s, len);
	buf_addc(out, '"');
}

/* Append s for a terminal: invalid UTF-8 as U+FFFD, controls but tab as
 * '?'. */
static void
text_add(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	while (i < len) {
		unsigned char cl = byte_class[p[i]];
		int n;

		if (cl == BC_PLAIN || cl == BC_QUOTE || cl == BC_TAB) {
			i++;
			continue;
		}
		if (cl == BC_CTRL) {
			buf_add(out, p + run, i - run);
			buf_addc(out, '?');
			run = ++i;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (n > 0 && !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			i += (size_t)n;
			continue;
		}
		buf_add(out, p + run, i - run);
		if (n > 0) {
			buf_addc(out, '?'); /* C1 control, U+0080-U+009F */
		} else {
			buf_add(out, replacement, sizeof replacement);
			n = -n;
		}
		i += (size_t)n;
		run = i;
	}
	buf_add(out, p + run, len - run);
}

/* Append v in decimal. */
static void
add_u64(struct buf *out, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_add(out, tmp + i, sizeof tmp - i);
}

/* Append v in decimal. */
static void
add_int(struct buf *out, int v)
{
	if (v < 0) {
		buf_addc(out, '-');
		add_u64(out, -(uint64_t)v);
	} else {
		add_u64(out, (uint64_t)v);
	}
}

/* Append seconds with the given number of decimals. */
static void
add_seconds(struct buf *out, double secs, int decimals)
{
	char tmp[64];
	int n;

	if (!(secs >= 0 && secs < 1e15)) /* negative, NaN, absurd: not JSON */
		secs = 0;
	n = snprintf(tmp, sizeof tmp, "%.*f", decimals, secs);
	buf_add(out, tmp, (size_t)n);
}

/* Append a string literal. */
#define ADD_LIT(out, lit) buf_add(out, lit, sizeof lit - 1)

/* Append a C string as a JSON string, or null. */
static void
add_json_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		ADD_LIT(out, "null");
	else
		report_json_string(out, s, strlen(s));
}

/* Does the record come from an exec or sh job (child output captured)? */
static bool
record_has_child(const struct record *rec)
{
	if (rec->res->has_errout)
		return true;
	return rec->executor != NULL && rec->output;
}

/* Does the record carry an HTTP status (an http job that got one)? */
static bool
record_is_http(const struct record *rec)
{
	return rec->res->http_status > 0 && rec->http;
}

/* The message of a job that is not ok: its error, or its status name. */
static const char *
record_error(const struct record *rec)
{
	const struct result *res = rec->res;

	if (res->status == ST_OK)
		return NULL;
	return res->error != NULL ? res->error : status_name(res->status);
}

/* Append one JSON Lines record. */
static void
format_json(struct buf *out, const struct record *rec)
{
	const struct result *res = rec->res;
	const char *file = rec->file != NULL ? rec->file : "-";
	bool child = record_has_child(rec);

	ADD_LIT(out, "{\"id\":");
	if (rec->id != NULL) {
		report_json_string(out, rec->id, strlen(rec->id));
	} else {
		buf_addc(out, '"');
		add_u64(out, rec->seq);
		buf_addc(out, '"');
	}
	ADD_LIT(out, ",\"seq\":");
	add_u64(out, rec->seq);
	ADD_LIT(out, ",\"source\":\"");
	json_add(out, file, strlen(file));
	buf_addc(out, ':');
	add_u64(out, rec->line);
	ADD_LIT(out, "\",\"kind\":");
	add_json_cstr(out, rec->kind);
	if (rec->args != NULL) {
		ADD_LIT(out, ",\"args\":[");
		for (int i = 0; i < rec->nargs; i++) {
			if (i > 0)
				buf_addc(out, ',');
			report_json_string(out, rec->args[i],
					   strlen(rec->args[i]));
		}
		ADD_LIT(out, "],\"command\":");
		add_json_cstr(out, rec->command);
	}
	ADD_LIT(out, ",\"executor\":");
	add_json_cstr(out, rec->executor);
	if (res->host != NULL) {
		ADD_LIT(out, ",\"host\":");
		add_json_cstr(out, res->host);
	}
	ADD_LIT(out, ",\"status\":");
	add_json_cstr(out, status_name(res->status));

	ADD_LIT(out, ",\"value\":");
	if (res->status == ST_OK || child)
		report_json_string(out, res->value.data, res->value.len);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"stderr\":");
	if (child)
		report_json_string(out, res->errout.data, res->errout.len);
	else
		ADD_LIT(out, "null");

	if (res->truncated)
		ADD_LIT(out, ",\"truncated\":true,\"error\":");
	else
		ADD_LIT(out, ",\"truncated\":false,\"error\":");
	add_json_cstr(out, record_error(rec));
	ADD_LIT(out, ",\"exit\":");
	if (child && res->exit >= 0)
		add_int(out, res->exit);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"signal\":");
	if (res->signal > 0)
		add_int(out, res->signal);
	else
		ADD_LIT(out, "null");
	ADD_LIT(out, ",\"attempts\":");
	add_int(out, rec->attempts);
	if (rec->start > 0) {
		ADD_LIT(out, ",\"queued\":");
		add_seconds(out, rec->queued, 6);
		ADD_LIT(out, ",\"start\":\"");
		buf_add_rfc3339(out, rec->start);
		buf_addc(out, '"');
	} else {
		ADD_LIT(out, ",\"queued\":null,\"start\":null");
	}
	ADD_LIT(out, ",\"elapsed\":");
	add_seconds(out, rec->elapsed, 6);
	if (record_is_http(rec)) {
		ADD_LIT(out, ",\"http_status\":");
		add_int(out, res->http_status);
	}
	if (rec->resumed)
		ADD_LIT(out, ",\"resumed\":true");
	ADD_LIT(out, "}\n");
}

/* Append every line of b (the last one given a newline), each after
 * prefix. */
static void
format_lines(struct buf *out, const struct buf *b, const char *prefix)
{
	const char *p = b->data, *end = b->data + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;

		buf_add(out, prefix, 4);
		text_add(out, p, (size_t)(eol - p));
		buf_addc(out, '\n');
		p = eol + 1;
	}
}

/* Append one text record: its line, then the output block of a child. */
static void
format_text(struct buf *out, const struct record *rec)
{
	const struct result *res = rec->res;
	const struct buf *val = &res->value;
	const char *text;
	size_t len;

	buf_adds(out, status_name(res->status));
	buf_addc(out, ' ');
	if (rec->id != NULL)
		text_add(out, rec->id, strlen(rec->id));
	else
		add_u64(out, rec->seq);
	buf_addc(out, ' ');
	add_seconds(out, rec->elapsed, 3);
	buf_add(out, "s ", 2);
	if (rec->command != NULL)
		text_add(out, rec->command, strlen(rec->command));
	else if (rec->kind != NULL)
		text_add(out, rec->kind, strlen(rec->kind));
	else
		buf_addc(out, '-');
	if (res->host != NULL) {
		buf_addc(out, '@');
		text_add(out, res->host, strlen(res->host));
	}
	buf_addc(out, ':');

	if (rec->resumed) {
		text = "(resumed)";
		len = strlen(text);
	} else if (res->status == ST_OK) {
		const char *nl =
		    val->len ? memchr(val->data, '\n', val->len) : NULL;
		text = val->data;
		len = nl != NULL ? (size_t)(nl - val->data) : val->len;
	} else {
		text = record_error(rec);
		len = strlen(text);
	}
	if (len > 0) {
		buf_addc(out, ' ');
		text_add(out, text, len);
	}
	buf_addc(out, '\n');

	if (!record_has_child(rec))
		return;
	bool multi = val->len > 1 && memchr(val->data, '\n', val->len - 1);
	bool show_out = val->len > 0 && (res->status != ST_OK || multi);
	if (!show_out && res->errout.len == 0)
		return;
	format_lines(out, val, "  | ");
	format_lines(out, &res->errout, "  ! ");
}

/* Append one record, with its trailing newline, to out. */
void
report_format(struct buf *out, const struct record *rec, int json)
{
	if (json)
		format_json(out, rec);
	else
		format_text(out, rec);
}

