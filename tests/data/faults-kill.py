#!/usr/bin/env python3
"""faults-kill.py: SIGKILL random workers and children of a running corun.

  faults-kill.py PID WORKERS CHILDREN SECS SEED LOG

PID is corun's pid. Its processes are found in /proc: the fork server is
the child of corun that runs the same program as corun; the workers are
the children of the fork server; every other child of corun is a job's
child process (exec, sh). Zombies are never chosen, nor a pid killed
before.

Every few milliseconds one victim is chosen at random (seeded: SEED) among
the kinds whose quota (WORKERS, CHILDREN) is not used up, and killed with
SIGKILL. The run ends when both quotas are used up, when corun is gone or
after SECS seconds. Each kill is a line of LOG: `worker PID` or
`child PID ARGS`; LOG.done is created at the end with the counts, as
`WORKERS CHILDREN`.
"""

import os
import random
import signal
import sys
import time


def stat_of(pid):
    """(ppid, state) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold blanks and parentheses: skip past it.
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[1]), rest[0].decode()


def args_of(pid):
    """The command line of pid as one string ('' when it is gone)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def exe_of(pid):
    """The program pid runs, or None."""
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def tree(top):
    """(workers, children) of corun top: live pids, not zombies."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = stat_of(int(name))
        if st is None or st[1] in ("Z", "X"):
            continue
        kids.setdefault(st[0], []).append(int(name))
    me = exe_of(top)
    servers = [p for p in kids.get(top, []) if exe_of(p) == me]
    children = [p for p in kids.get(top, []) if p not in servers]
    workers = [w for s in servers for w in kids.get(s, [])]
    return workers, children


def main():
    """Kill until the quotas are used up, corun is gone or time is up."""
    top, nworkers, nchildren = (int(a) for a in sys.argv[1:4])
    secs = float(sys.argv[4])
    rng = random.Random(int(sys.argv[5]))
    log = open(sys.argv[6], "w", buffering=1)
    killed = set()
    done = {"worker": 0, "child": 0}
    quota = {"worker": nworkers, "child": nchildren}
    end = time.monotonic() + secs
    while time.monotonic() < end and stat_of(top) is not None:
        if all(done[k] >= quota[k] for k in done):
            break
        workers, children = tree(top)
        pools = {"worker": [p for p in workers if p not in killed],
                 "child": [p for p in children if p not in killed]}
        kinds = [k for k in pools if pools[k] and done[k] < quota[k]]
        if kinds:
            kind = rng.choice(sorted(kinds))
            pid = rng.choice(sorted(pools[kind]))
            args = args_of(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
            killed.add(pid)
            done[kind] += 1
            if kind == "worker":
                log.write("worker %d\n" % pid)
            else:
                log.write("child %d %s\n" % (pid, args))
        time.sleep(rng.uniform(0.003, 0.02))
    log.close()
    with open(sys.argv[6] + ".done", "w") as f:
        f.write("%d %d\n" % (done["worker"], done["child"]))


main()
