#!/usr/bin/env python3
"""faults-storm.py: the mixed jobs of the kill storm and their check.

  faults-storm.py jobs PREFIX N
                    print N jobs on every executor, with ids PREFIX-...,
                    each with a value of its own where the kind has one
  faults-storm.py check FILE PREFIX N [PREFIX N]...
                    read corun's JSON records from FILE (strictly: UTF-8,
                    one object a line) and print one line a problem:
                    a job of the lists without exactly one record, a
                    record of no such job, a sequence number missing or
                    twice, a status other than ok, a wrong value; then
                    `retried N` (jobs with more than one attempt), and
                    `retried-children N` (those of them that are exec/sh)
"""

import json
import sys


def prime_counts(n):
    """A list whose item m is the number of primes <= m, for m <= n."""
    sieve = bytearray([1]) * (n + 1)
    sieve[0:2] = b"\0\0"
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, n + 1, i)))
    counts = []
    total = 0
    for m in range(n + 1):
        total += sieve[m]
        counts.append(total)
    return counts


def jobs(prefix, n):
    """The jobs as (id, line, expected value)."""
    out = []
    counts = prime_counts(20000 + n)
    for i in range(n):
        jid = "%s-%d" % (prefix, i)
        k = i % 8
        if k in (0, 6):
            m = 20000 + i
            out.append((jid, "primes %d" % m, str(counts[m])))
        elif k == 1:
            out.append((jid, "spin 3ms", ""))
        elif k == 2:
            out.append((jid, "exec sleep 0.02", ""))
        elif k == 3:
            out.append((jid, "sh 'sleep 0.005; echo %s'" % jid, jid + "\n"))
        elif k == 4:
            out.append((jid, "block 1ms", ""))
        elif k == 5:
            out.append((jid, "sleep 1ms", ""))
        else:
            out.append((jid, "exec echo %s" % jid, jid + "\n"))
    return out


def check(path, lists):
    """Print what is wrong with the records of path for the job lists."""
    want = {}
    for prefix, n in lists:
        for jid, _, val in jobs(prefix, n):
            want[jid] = val
    seen = {}
    seqs = []
    retried = retried_children = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                rec = json.loads(raw.decode("utf-8"))
            except ValueError:
                print("line %d is not JSON" % n)
                continue
            jid = rec.get("id")
            seqs.append(rec.get("seq"))
            seen[jid] = seen.get(jid, 0) + 1
            if jid not in want:
                print("record of no job: %r" % jid)
                continue
            if rec.get("status") != "ok":
                print("%s: %s attempts %s error %r" % (
                    jid, rec.get("status"), rec.get("attempts"),
                    rec.get("error")))
            elif rec.get("value") != want[jid]:
                print("%s: value %r, expected %r" % (
                    jid, rec.get("value"), want[jid]))
            if rec.get("attempts", 0) > 1:
                retried += 1
                if rec.get("kind") in ("exec", "sh"):
                    retried_children += 1
    for jid in want:
        if seen.get(jid, 0) != 1:
            print("%s: %d records" % (jid, seen.get(jid, 0)))
    if sorted(seqs) != list(range(1, len(want) + 1)):
        print("sequence numbers are not 1..%d once each" % len(want))
    print("retried %d" % retried)
    print("retried-children %d" % retried_children)


def main():
    """Dispatch on the first argument."""
    if len(sys.argv) == 4 and sys.argv[1] == "jobs":
        for jid, line, _ in jobs(sys.argv[2], int(sys.argv[3])):
            print("id=%s %s" % (jid, line))
    elif len(sys.argv) >= 5 and len(sys.argv) % 2 == 1 \
            and sys.argv[1] == "check":
        args = sys.argv[3:]
        check(sys.argv[2], [(args[i], int(args[i + 1]))
                            for i in range(0, len(args), 2)])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


main()
