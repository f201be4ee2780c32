#!/usr/bin/env python3
"""peer_pool.py: the concurrent.futures peer of corun's pool benchmarks.

  peer_pool.py process|thread WORKERS N primes ARG
  peer_pool.py process|thread WORKERS N block SECONDS

Submits N calls of a trivial function to a ProcessPoolExecutor or a
ThreadPoolExecutor of WORKERS, one future per call (as corun runs one job
per line), and writes one JSON line per result as it completes (like
corun --json), to standard output. primes ARG counts the primes <= ARG
(corun's `primes`); block SECONDS is time.sleep (corun's `block`).
"""

import concurrent.futures
import json
import sys
import time


def primes(n):
    """The count of primes <= n, by trial division."""
    count = 0
    for k in range(2, n + 1):
        d = 2
        while d * d <= k:
            if k % d == 0:
                break
            d += 1
        else:
            count += 1
    return str(count)


def block(seconds):
    """Sleep, holding a pool thread or worker; the value is empty."""
    time.sleep(seconds)
    return ""


def main():
    """Run the calls and write their results."""
    if len(sys.argv) != 6 or sys.argv[1] not in ("process", "thread") \
            or sys.argv[4] not in ("primes", "block"):
        sys.exit(__doc__.split("\n\n")[1])
    pool_type = (concurrent.futures.ProcessPoolExecutor
                 if sys.argv[1] == "process"
                 else concurrent.futures.ThreadPoolExecutor)
    workers, n = int(sys.argv[2]), int(sys.argv[3])
    if sys.argv[4] == "primes":
        fn, arg = primes, int(sys.argv[5])
    else:
        fn, arg = block, float(sys.argv[5])
    out = sys.stdout
    with pool_type(max_workers=workers) as pool:
        futures = {pool.submit(fn, arg): i for i in range(1, n + 1)}
        for fut in concurrent.futures.as_completed(futures):
            out.write(json.dumps({"id": str(futures[fut]), "status": "ok",
                                  "value": fut.result()}) + "\n")


main()
