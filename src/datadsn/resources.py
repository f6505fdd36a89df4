"""What this process has used, for summaries and profiles."""

from __future__ import annotations

import resource


def peak_kib() -> int:
    """This process's peak resident memory (KiB), since it started its program.

    Linux carries ``ru_maxrss`` across ``exec``: a command started by a large process (a
    benchmark that has just built 500 MB of input) would report its parent's size. The high-water
    mark of the process's own memory map (VmHWM) starts afresh at ``exec``.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
