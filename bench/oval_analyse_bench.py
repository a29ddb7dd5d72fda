#!/usr/bin/env python3
"""`stigscap oval-analyse` beside `oscap oval analyse` (issue 13, row 3): the whole STIG's OVAL
component and external variables against system characteristics with N Receive connectors
(the collector's shape, built with the repo's syschar writer), full results written by both.

Each size runs both tools as separate processes, interleaved (oscap first, then stigscap, and
again), and reports the median wall and CPU (user+sys) time, the peak RSS and the ratios.
Targets: stigscap ≤ 1.0× oscap's CPU time and ≤ 1.0× its peak RSS at every size (CPU time,
not wall, decides: other work on the machine distorts wall time; both are printed). The
definition results of both must agree. Exit status 1 when a target is missed.

    .venv/bin/python bench/oval_analyse_bench.py [--sizes 1000,10000,100000] [--runs 3]
        [--work DIR]   (keep the inputs and outputs there)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from syschar_runs import (STIGSCAP, TS, definition_results, load_note, make_inputs,
                          median_run, run)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and size (100,000: 1)")
    ap.add_argument("--work", help="directory for inputs and outputs (default: a temporary one)")
    args = ap.parse_args()
    oscap = shutil.which("oscap")
    if not oscap:
        print("oscap is not installed: no anchor", file=sys.stderr)
        return 1
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="oval-analyse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        _ds, defs, variables, scs = make_inputs(work, sizes)
        print(f"# oval-analyse vs oscap oval analyse ({load_note()} at start)")
        print(f"{'connectors':>10} {'tool':<9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
              f"{'wall x':>7} {'cpu x':>6} {'mem x':>6}")
        ok = True
        for n in sizes:
            sc = scs[n]
            theirs_out, ours_out = work / f"oscap-{n}.xml", work / f"stigscap-{n}.xml"
            argv = {
                "oscap": [oscap, "oval", "analyse", "--variables", str(variables), "--results",
                          str(theirs_out), str(defs), str(sc)],
                "stigscap": [STIGSCAP, "oval-analyse", str(defs), str(sc), "--variables",
                             str(variables), "--results", str(ours_out), "--timestamp", TS],
            }
            runs: dict[str, list] = {"oscap": [], "stigscap": []}
            for _ in range(1 if n >= 100_000 else args.runs):
                for tool in ("oscap", "stigscap"):
                    runs[tool].append(run(argv[tool]))
            a, b = median_run(runs["oscap"]), median_run(runs["stigscap"])
            wall_x, cpu_x, mem_x = b.wall / a.wall, b.cpu / a.cpu, b.rss_mib / a.rss_mib
            for tool, r in (("oscap", a), ("stigscap", b)):
                tail = f" {wall_x:7.2f} {cpu_x:6.2f} {mem_x:6.2f}" if tool == "stigscap" else ""
                print(f"{n:>10,} {tool:<9} {r.wall:8.2f} {r.cpu:8.2f} {r.rss_mib:9.0f}{tail}")
            same = definition_results(theirs_out) == definition_results(ours_out)
            size_ok = cpu_x <= 1.0 and mem_x <= 1.0 and same
            ok &= size_ok
            print(f"{'':>10} {'':<9} definition results {'agree' if same else 'DIFFER'}; "
                  f"targets cpu ≤ 1.0x, memory ≤ 1.0x: {'met' if size_ok else 'MISSED'}",
                  flush=True)
            theirs_out.unlink(missing_ok=True)
            ours_out.unlink(missing_ok=True)
        print(f"# {load_note()} at end; {'all targets met' if ok else 'a target was MISSED'}")
        return 0 if ok else 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
