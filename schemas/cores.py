"""Is a core idle now? For the work that only pays off on a core nobody else wants: the
second parse of a file that `validate` runs in another thread (`catalog.start_prepare`,
`validate._XsdWorker`). Light on purpose: the launcher asks before the program has loaded."""

from __future__ import annotations

import os
import time


def spare_core() -> bool:
    """A second core is idle now. A second thread that parses the file again for the XSD pass
    (the launcher's early pass, validate's XSD worker) only pays off when that parse runs on a
    core nobody else wants.

    Judged from the threads runnable at this moment (Linux `/proc/loadavg`, minus this
    process's own threads), not the 1-minute load average, which mostly counts the work that
    just finished (in a benchmark or a script validating file after file: this process's
    predecessors)."""
    forced = os.environ.get("STIGSCAP_VALIDATE_WORKER")  # "1"/"0": force on/off (benchmarks)
    if forced in ("0", "1"):
        return forced == "1"
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    if cores < 2:
        return False
    others = others_running()
    for _ in range(2):   # a short-lived process caught in one look is not load: look again
        if others <= cores - 2:
            break
        time.sleep(0.001)
        others = min(others, others_running())
    return others <= cores - 2


def own_running() -> int:
    """This process's threads that are running or runnable now (this one at least)."""
    own = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat", encoding="ascii", errors="replace") as fh:
                own += fh.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError):
            continue   # the thread ended meanwhile
    return max(own, 1)


def others_running() -> float:
    """Threads of other processes that are runnable now (or the 1-minute load average)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            runnable = int(fh.read().split()[3].split("/")[0])
        return max(0, runnable - own_running())
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:  # pragma: no cover - platforms without a load average
            return 0.0
