#!/usr/bin/env python3
"""faults-bytes.py: hostile bytes for corun, and checks of what it makes.

  faults-bytes.py gen SEED N
                    write N pseudo-random bytes (the same for the same
                    SEED) to standard output: UTF-8 sequences, valid and
                    cut short, overlong forms, surrogates, code points past
                    U+10FFFF, stray continuation bytes, NUL, C0 and C1
                    controls, DEL and plain ASCII, newlines among them
  faults-bytes.py lines SEED N
                    write N job lines `id=gI frob ...` whose arguments are
                    such bytes without newline or backslash (every tenth
                    with a NUL byte): each must become one error record
  faults-bytes.py json FILE
                    print what breaks in FILE as JSON Lines, one problem a
                    line: a line that is not UTF-8, not one JSON object, or
                    holds a raw control character
  faults-bytes.py value FILE ID FIELD SEED N CUT
                    print `same` when the FIELD ("value" or "stderr") of
                    record ID is the bytes of `gen SEED N`, cut to their
                    first CUT bytes (CUT > 0) or their last -CUT bytes
                    (CUT < 0) or not cut (0), then decoded from UTF-8 with
                    each maximal invalid subpart as one U+FFFD; else print
                    where the two first differ
  faults-bytes.py text FILE
                    print what breaks in FILE as text records: bytes that
                    are not UTF-8, control characters other than tab and
                    newline, DEL and C1 controls
"""

import json
import random
import sys

PIECES = [
    b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xef\xbf\xbf",
    b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xf0\x9f",
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80",
    b"\x80", b"\xbf", b"\xfe", b"\xff",
    b"\x00", b"\x1b[2J", b"\x07", b"\r", b"\x7f", b"\xc2\x85", b"\xc2\x9b",
    b"\t", b"\n", b"\"", b"\\", b"'",
]


# What gen draws from, with weights by repetition: the pieces above,
# printable ASCII, and every byte value alone.
POOL = (PIECES * 12 + [bytes([b]) for b in range(0x20, 0x7f)] * 4
        + [b"abc", b"hello ", b"0123456789"] * 40
        + [bytes([b]) for b in range(256)])


def gen(seed, n):
    """n hostile bytes from seed."""
    rng = random.Random(seed)
    out = b"".join(rng.choices(POOL, k=n // 2 + 16))
    while len(out) < n:
        out += b"".join(rng.choices(POOL, k=n // 2 + 16))
    return out[:n]


def lines(seed, n):
    """n job lines with hostile arguments."""
    rng = random.Random(seed)
    out = bytearray()
    for i in range(n):
        junk = gen(rng.randrange(1 << 30), rng.randrange(1, 200))
        junk = junk.replace(b"\n", b" ").replace(b"\\", b"/")
        junk = junk.replace(b"\x00", b" ")
        if i % 10 == 9:
            junk += b"\x00"
        out += b"id=g%d frob " % i + junk + b"\n"
    return bytes(out)


def check_json(path):
    """Print the problems of path as JSON Lines."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                print("line %d: not UTF-8 at byte %d" % (n, e.start))
                continue
            if any(ord(c) < 0x20 for c in text.rstrip("\n")):
                print("line %d: raw control character" % n)
            try:
                rec = json.loads(text)
            except ValueError as e:
                print("line %d: not JSON: %s" % (n, e))
                continue
            if not isinstance(rec, dict):
                print("line %d: not an object" % n)


def check_value(path, jid, field, seed, n, cut):
    """Compare a record's field with the expected decoding."""
    raw = gen(seed, n)
    if cut > 0:
        raw = raw[:cut]
    elif cut < 0:
        raw = raw[cut:]
    want = raw.decode("utf-8", errors="replace")
    got = None
    with open(path, "rb") as f:
        for line in f:
            rec = json.loads(line.decode("utf-8"))
            if rec.get("id") == jid:
                got = rec.get(field)
    if got == want:
        print("same")
        return
    if not isinstance(got, str):
        print("no string %s for %s: %r" % (field, jid, got))
        return
    i = 0
    while i < min(len(got), len(want)) and got[i] == want[i]:
        i += 1
    print("differ at char %d of %d/%d: got %r, expected %r" % (
        i, len(got), len(want), got[i:i + 12], want[i:i + 12]))


def check_text(path):
    """Print the problems of path as text records."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("not UTF-8 at byte %d: %r" % (e.start,
                                             data[e.start:e.start + 8]))
        return
    for i, c in enumerate(text):
        o = ord(c)
        if (o < 0x20 and c not in "\t\n") or 0x7f <= o <= 0x9f:
            print("control character U+%04X at char %d" % (o, i))
            return


def main():
    """Dispatch on the first argument."""
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "gen":
        sys.stdout.buffer.write(gen(int(a[1]), int(a[2])))
    elif len(a) == 3 and a[0] == "lines":
        sys.stdout.buffer.write(lines(int(a[1]), int(a[2])))
    elif len(a) == 2 and a[0] == "json":
        check_json(a[1])
    elif len(a) == 7 and a[0] == "value":
        check_value(a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]))
    elif len(a) == 2 and a[0] == "text":
        check_text(a[1])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


main()
