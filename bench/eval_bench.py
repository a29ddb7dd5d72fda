#!/usr/bin/env python3
"""`stigscap eval` of the whole STIG against system characteristics with N Receive
connectors, beside `oscap oval analyse` of the data stream's OVAL component on the same
system characteristics (issue 13, row 2, evaluation half).

stigscap writes the full ARF (data stream, TestResult with evidence for every failing
connector, OVAL results with the system characteristics); oscap writes full OVAL results.
Both run as separate processes, interleaved; the table shows median wall and CPU (user+sys)
time, peak RSS and the ratios. Targets: stigscap's CPU time ≤ 2× oscap's, peak RSS ≤ 1 GB
(10^9 bytes), at every size. Exit status 1 when a target is missed.

    .venv/bin/python bench/eval_bench.py [--sizes 1000,10000,100000] [--runs 3] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from syschar_runs import STIGSCAP, TS, load_note, make_inputs, median_run, run

RSS_LIMIT_MIB = 1e9 / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and size (100,000: 1)")
    ap.add_argument("--work", help="directory for inputs and outputs (default: a temporary one)")
    ap.add_argument("--cpu-target", type=float, default=2.0)
    args = ap.parse_args()
    oscap = shutil.which("oscap")
    if not oscap:
        print("oscap is not installed: no anchor", file=sys.stderr)
        return 1
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="eval-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        ds, defs, variables, scs = make_inputs(work, sizes)
        print(f"# eval (ARF) vs oscap oval analyse ({load_note()} at start)")
        print(f"{'connectors':>10} {'tool':<9} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
              f"{'wall x':>7} {'cpu x':>6}")
        ok = True
        for n in sizes:
            sc = scs[n]
            theirs_out, ours_out = work / f"oscap-{n}.xml", work / f"arf-{n}.xml"
            argv = {
                "oscap": [oscap, "oval", "analyse", "--variables", str(variables), "--results",
                          str(theirs_out), str(defs), str(sc)],
                "stigscap": [STIGSCAP, "eval", str(ds), "--profile", "MAC-1_Classified",
                             "--system-characteristics", str(sc), "--results-arf",
                             str(ours_out), "--timestamp", TS, "--quiet"],
            }
            runs: dict[str, list] = {"oscap": [], "stigscap": []}
            for _ in range(1 if n >= 100_000 else args.runs):
                for tool in ("oscap", "stigscap"):
                    runs[tool].append(run(argv[tool]))
            a, b = median_run(runs["oscap"]), median_run(runs["stigscap"])
            wall_x, cpu_x = b.wall / a.wall, b.cpu / a.cpu
            for tool, r in (("oscap", a), ("stigscap", b)):
                tail = f" {wall_x:7.2f} {cpu_x:6.2f}" if tool == "stigscap" else ""
                print(f"{n:>10,} {tool:<9} {r.wall:8.2f} {r.cpu:8.2f} {r.rss_mib:9.0f}{tail}")
            size_ok = cpu_x <= args.cpu_target and b.rss_mib <= RSS_LIMIT_MIB and b.code == 2
            ok &= size_ok
            print(f"{'':>10} {'':<9} ARF {ours_out.stat().st_size / 1e6:.0f} MB, exit {b.code} "
                  f"(findings); targets cpu ≤ {args.cpu_target:.1f}x, RSS ≤ "
                  f"{RSS_LIMIT_MIB:.0f} MiB: {'met' if size_ok else 'MISSED'}", flush=True)
            theirs_out.unlink(missing_ok=True)
            ours_out.unlink(missing_ok=True)
        print(f"# {load_note()} at end; {'all targets met' if ok else 'a target was MISSED'}")
        return 0 if ok else 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
