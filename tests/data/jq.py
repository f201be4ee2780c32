#!/usr/bin/env python3
"""jq.py: read corun's JSON Lines records for the shell tests (tests/lib.sh).

  jq.py flat FILE   one line per record field: ID <tab> FIELD <tab> JSON value,
                    plus ID <tab> #n <tab> line number and ID <tab> #keys <tab>
                    the field names in order; a line that is not a JSON object
                    prints !bad <tab> line number and the exit status is 1
  jq.py py FILE EXPR
                    evaluate the Python expression EXPR with R (the records in
                    order) and by (the records by id); print the result (a
                    string as is, anything else as JSON)
  jq.py schema FILE print what breaks the record rules of corun(1),
                    OUTPUT, one problem a line (nothing: all good)
  jq.py text FILE ID
                    print the text-mode record line of job ID and the
                    "  | " and "  ! " lines that follow it
"""

import json
import re
import sys

FIELDS = ["id", "seq", "source", "kind", "executor", "status", "value",
          "stderr", "truncated", "error", "exit", "signal", "attempts",
          "queued", "start", "elapsed"]
RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"
STATUSES = ["ok", "failed", "timeout", "cancelled", "skipped", "error"]


def load(path):
    """The records of path, or exit 1 naming the first line that is bad."""
    recs = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError:
                rec = None
            if not isinstance(rec, dict):
                print("!bad\t%d\t%s" % (n, json.dumps(line[:200])))
                sys.exit(1)
            recs.append(rec)
    return recs


def flat(path):
    """Print every field of every record, one per line."""
    for n, rec in enumerate(load(path), 1):
        rid = str(rec.get("id"))
        print("%s\t#n\t%d" % (rid, n))
        print("%s\t#keys\t%s" % (rid, ",".join(rec.keys())))
        for key, val in rec.items():
            print("%s\t%s\t%s" % (rid, key, json.dumps(val)))


def evaluate(path, expr):
    """Print the value of expr over the records of path."""
    recs = load(path)
    by = {}
    for rec in recs:
        by[str(rec.get("id"))] = rec
    res = eval("(" + expr + "\n)", {"R": recs, "by": by, "json": json})
    if isinstance(res, str):
        print(res)
    else:
        print(json.dumps(res))


def is_int(v):
    """True for a JSON integer (not a boolean)."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_str(v, nullable=False):
    """True for a string, or also null when nullable."""
    return isinstance(v, str) or (nullable and v is None)


def problems(rec, raw):
    """The rules one record breaks, as messages."""
    bad = []
    if [k for k in rec if k in FIELDS] != FIELDS:
        bad.append("fields missing or out of order: %s" % list(rec))
        return bad
    types = [
        ("id", is_str(rec["id"])),
        ("seq", is_int(rec["seq"]) and rec["seq"] >= 1),
        ("source", is_str(rec["source"])
         and re.match(r"^.+:[0-9]+$", rec["source"]) is not None),
        ("kind", is_str(rec["kind"], True)),
        ("executor", rec["executor"] in ("loop", "thread", "process", None)),
        ("status", rec["status"] in STATUSES),
        ("value", is_str(rec["value"], True)),
        ("stderr", is_str(rec["stderr"], True)),
        ("truncated", isinstance(rec["truncated"], bool)),
        ("error", is_str(rec["error"], True)),
        ("exit", rec["exit"] is None or is_int(rec["exit"])),
        ("signal", rec["signal"] is None or is_int(rec["signal"])),
        ("attempts", is_int(rec["attempts"]) and rec["attempts"] >= 0),
        ("queued", rec["queued"] is None
         or (isinstance(rec["queued"], (int, float)) and rec["queued"] >= 0)),
        ("start", rec["start"] is None
         or (is_str(rec["start"]) and re.match(RFC3339, rec["start"]))),
        ("elapsed", (is_int(rec["elapsed"])
                     or isinstance(rec["elapsed"], float))
         and rec["elapsed"] >= 0),
    ]
    bad += ["bad %s: %r" % (k, rec[k]) for k, good in types if not good]
    if bad:
        return bad
    if not re.search(r'"elapsed": ?[0-9]+\.[0-9]{6}[,}]', raw):
        bad.append("elapsed has not 6 decimals")
    st = rec["status"]
    child = rec["kind"] in ("exec", "sh") and st != "error"
    if (st == "ok") != (rec["error"] is None):
        bad.append("error is set iff status is not ok")
    if rec["error"] is not None and ("\n" in rec["error"]
                                     or rec["error"] == ""):
        bad.append("error is not one non-empty line")
    if (st == "error") != (rec["executor"] is None):
        bad.append("executor is null iff status is error")
    if (st == "ok" or child) != (rec["value"] is not None):
        bad.append("value is a string iff ok or exec/sh")
    if child != (rec["stderr"] is not None):
        bad.append("stderr is a string iff exec/sh")
    if rec["exit"] is not None and not child:
        bad.append("exit set on a job that is not exec/sh")
    if rec["signal"] is not None and st == "ok":
        bad.append("signal set on an ok job")
    if st == "ok" and rec["attempts"] < 1:
        bad.append("an ok job made no attempt")
    if rec["attempts"] == 0 and rec["elapsed"] != 0:
        bad.append("elapsed is not 0 for a job that never started")
    if rec["attempts"] == 0 and rec["start"] is not None:
        bad.append("start is not null for a job that never started")
    if rec["start"] is None and rec["elapsed"] != 0:
        bad.append("elapsed is not 0 for a job without a start")
    if (rec["queued"] is None) != (rec["start"] is None):
        bad.append("queued is null iff start is")
    if rec["truncated"] and not child:
        bad.append("truncated set on a job that is not exec/sh")
    return bad


def schema(path):
    """Print each rule a record of path breaks, prefixed by its id."""
    recs = load(path)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        raws = f.readlines()
    for rec, raw in zip(recs, raws):
        for msg in problems(rec, raw):
            print("%s: %s" % (rec.get("id"), msg))


def text(path, jid):
    """Print the text record of job jid and its output block."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        words = line.split(" ")
        if line.startswith(" ") or len(words) < 2 or words[1] != jid:
            continue
        print(line)
        for more in lines[i + 1:]:
            if not (more.startswith("  | ") or more.startswith("  ! ")):
                break
            print(more)


def main():
    """Dispatch on the first argument."""
    sys.stdout.reconfigure(encoding="utf-8", errors="surrogateescape")
    if len(sys.argv) == 3 and sys.argv[1] == "flat":
        flat(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "py":
        evaluate(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "schema":
        schema(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "text":
        text(sys.argv[2], sys.argv[3])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


main()
