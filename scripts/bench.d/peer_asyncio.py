#!/usr/bin/env python3
"""peer_asyncio.py: the asyncio peer of corun's concurrent-timer benchmark.

  peer_asyncio.py N SECONDS

Starts N coroutines that each sleep SECONDS (asyncio.sleep), all at once,
waits for them with asyncio.gather, and writes one line per result to
standard output, as corun writes one record per job.
"""

import asyncio
import sys


async def job(i, seconds):
    """One sleeping job; its record line."""
    await asyncio.sleep(seconds)
    return "ok %d sleep:\n" % i


async def run(n, seconds):
    """Gather every job and write the records."""
    lines = await asyncio.gather(*(job(i, seconds)
                                   for i in range(1, n + 1)))
    sys.stdout.writelines(lines)


def main():
    """Parse N and SECONDS."""
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    asyncio.run(run(int(sys.argv[1]), float(sys.argv[2])))


main()
