#!/usr/bin/env python3
"""Start-up time of the command line: `stigscap --help` and `stigscap` without arguments,
beside `oscap --version` (the anchor) and a bare `python -c pass` (the floor every Python tool
pays). Each command runs N times (default 15, interleaved, after one warm-up run) as its own
process; the table shows the median and the best wall time, the ratio to oscap and the peak
memory (max RSS). Exit status 1 when the median of `stigscap --help` exceeds the target
(0.15 s).

    .venv/bin/python bench/cli_startup.py [--runs 15] [--target 0.15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run(argv: list[str]) -> float:
    """Wall seconds of one run."""
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--target", type=float, default=0.15, help="seconds, median of --help")
    args = ap.parse_args()

    script = Path(sys.executable).parent / "stigscap"
    if not script.exists():
        print(f"no console script at {script}: install the project first", file=sys.stderr)
        return 1
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "stigscap --help": [str(script), "--help"],
        "stigscap": [str(script)],
        "stigscap --version": [str(script), "--version"],
    }
    oscap = shutil.which("oscap")
    if oscap:
        commands = {"oscap --version": [oscap, "--version"], **commands}
    env_note = f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}"
    times: dict[str, list[float]] = {k: [] for k in commands}
    peak: dict[str, int] = {}
    for argv in commands.values():   # warm-up: file cache, .pyc files
        _run(argv)
    for _ in range(args.runs):
        for name, argv in commands.items():
            times[name].append(_run(argv))
    for name, argv in commands.items():   # peak memory: each command alone in a fresh parent
        code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
                "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
        peak[name] = int(out.stdout.strip() or 0)

    anchor = statistics.median(times["oscap --version"]) if oscap else None
    print(f"# CLI start-up, {args.runs} runs each ({env_note})")
    print(f"{'command':<20} {'median s':>9} {'best s':>8} {'x oscap':>8} {'peak MiB':>9}")
    for name in commands:
        med = statistics.median(times[name])
        ratio = f"{med / anchor:8.1f}" if anchor else f"{'-':>8}"
        print(f"{name:<20} {med:9.3f} {min(times[name]):8.3f} {ratio} {peak[name] / 1024:9.1f}")
    help_median = statistics.median(times["stigscap --help"])
    verdict = "meets" if help_median <= args.target else "MISSES"
    print(f"stigscap --help: median {help_median:.3f} s {verdict} the target "
          f"{args.target:.2f} s")
    return 0 if help_median <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
