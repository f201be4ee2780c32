#!/usr/bin/env python3
"""sigstate.py: run a program with signals blocked or ignored, as a parent's
sigprocmask or SIG_IGN survives exec.

  sigstate.py [block SIGS] [ignore SIGS] -- PROGRAM [ARG]...

SIGS is a comma-separated list of names without SIG (CHLD,INT,TERM).
"""

import os
import signal
import sys


def sigs(names):
    """The signal numbers of a comma-separated list of names."""
    return [getattr(signal, "SIG" + n) for n in names.split(",")]


def main():
    """Set the signal state the arguments ask for, then exec the program."""
    args = sys.argv[1:]
    while args and args[0] != "--":
        what, names = args[0], args[1]
        args = args[2:]
        if what == "block":
            signal.pthread_sigmask(signal.SIG_BLOCK, sigs(names))
        elif what == "ignore":
            for s in sigs(names):
                signal.signal(s, signal.SIG_IGN)
        else:
            sys.exit("sigstate.py: block or ignore, not " + what)
    os.execvp(args[1], args[1:])


main()
