"""Shared by bench/oval_analyse_bench.py and bench/eval_bench.py (not a benchmark itself):
the whole STIG's data stream, its OVAL component and external variables, system
characteristics with N Receive connectors in the collector's shape, and one command run as a
child process measured with wait4 (wall, user+sys CPU, peak RSS)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))   # the fixture builders of tests/ are importable as `tests.…`

from lxml import etree  # noqa: E402

from tests.oval.ovalcases_builder import variables_doc  # noqa: E402
from tests.xccdf.stig_syschar import compliance_oval, whole_stig_syschar  # noqa: E402


TS = "2026-01-01T00:00:00"
STIGSCAP = str(Path(sys.executable).parent / "stigscap")


@dataclass
class Run:
    wall: float
    cpu: float          # user + sys
    rss_mib: float      # peak resident set
    code: int


# The measured command is started by a small Python process of its own: a child's peak RSS
# (wait4) counts from fork, so a child of this (large) process would report this one's size.
_LAUNCH = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[
    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_pid, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime, ru.ru_maxrss)
"""


def run(argv: list[str]) -> Run:
    """One command as a child process: its wall time, CPU time and peak RSS."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _LAUNCH, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    fields = p.stdout.split()
    code = int(fields[0]) if len(fields) == 3 else p.returncode
    if p.returncode or code not in (0, 2):
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {p.stderr[-2000:]}")
    return Run(wall, float(fields[1]), int(fields[2]) / 1024, code)


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs),
               max(r.rss_mib for r in runs), runs[0].code)


def make_inputs(work: Path, sizes: list[int]) -> tuple[Path, Path, Path, dict[int, Path]]:
    """(data stream, its OVAL definitions, variables, {N: system characteristics}), built by
    a child process (building 100,000 connectors takes GBs this process should not keep)."""
    subprocess.run([sys.executable, __file__, str(work), *map(str, sizes)], check=True)
    return (work / "ds.xml", work / "defs.xml", work / "vars.xml",
            {n: work / f"sc-{n}.xml" for n in sizes})


def _build_inputs(work: Path, sizes: list[int]) -> None:
    ds = work / "ds.xml"
    subprocess.run([STIGSCAP, "generate", "-o", str(ds), "--timestamp", TS], check=True,
                   stdout=subprocess.DEVNULL)
    root = etree.parse(str(ds)).getroot()
    defs, variables = compliance_oval(root)
    defs_path, vars_path = work / "defs.xml", work / "vars.xml"
    defs_path.write_bytes(etree.tostring(defs, xml_declaration=True, encoding="UTF-8"))
    vars_path.write_bytes(variables_doc(variables))
    scs = {}
    for n in sizes:
        t0 = time.perf_counter()
        scs[n] = work / f"sc-{n}.xml"
        scs[n].write_bytes(whole_stig_syschar(root, n))
        print(f"# system characteristics, {n:,} connectors: {scs[n].stat().st_size / 1e6:.0f} MB "
              f"(built in {time.perf_counter() - t0:.0f} s, not timed)", flush=True)


def definition_results(path: Path) -> dict[str, str]:
    """definition id → result of an OVAL results document (read piece by piece)."""
    res = "{http://oval.mitre.org/XMLSchema/oval-results-5}"
    out = {}
    for _ev, el in etree.iterparse(str(path), tag=f"{res}definition", huge_tree=True):
        if el.get("definition_id") and el.get("result"):
            out[el.get("definition_id")] = el.get("result")
        el.clear()
    return out


def load_note() -> str:
    return (f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
            f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":   # the input builder (see make_inputs)
    _build_inputs(Path(sys.argv[1]), [int(a) for a in sys.argv[2:]])
