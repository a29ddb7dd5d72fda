"""CLI: `stigscap fix ARF… -o remediate.ps1`."""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.schemas.clock import resolve_time, zulu
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

from ..checklists.export import checklists_from_arfs
from ..checklists.remediation import plan, render_script


@click.command("fix")
@click.argument("arfs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="the script (one host) or a directory of <host>.ps1 (several hosts)")
@click.option("--timestamp", metavar="ISO8601",
              help="time written into the script (default: SOURCE_DATE_EPOCH, else now)")
def fix_cmd(arfs, output, timestamp):
    """Write a PowerShell remediation script for the objects an ARF found failing.

    Only Set- commands of the failing rules' fixes, for the failing objects, each guarded so
    it changes an object only while it still differs, and with -WhatIf unless the script is
    run with -Apply. Rules whose fixes contradict each other are named and left out. stigscap
    never runs the script: review it, then run it in the Exchange Management Shell."""
    lists = checklists_from_arfs(list(arfs))
    if not lists:
        raise StigscapError("no asset in the ARF input; nothing to remediate")
    generated = zulu(resolve_time(timestamp))
    source = ", ".join(Path(a).name for a in arfs)
    scripts = {}
    for c in lists:
        name = f"{c.file_stem()}.ps1"
        scripts[name] = (render_script(c, source=source, generated=generated), plan(c))
    out = Path(output)
    if len(scripts) == 1 and not out.is_dir():
        targets = {out: next(iter(scripts.values()))}
    else:
        if out.exists() and not out.is_dir():
            raise StigscapError(f"{len(scripts)} scripts to write: the output must be a "
                                "directory, not an existing file", file=str(out))
        targets = {out / name: v for name, v in scripts.items()}
    for path, (data, _rem) in targets.items():
        atomic_write(path, data)
    for path, (_data, rem) in targets.items():
        click.echo(f"{path}: {len(rem.actions)} change(s), {len(rem.conflicts)} conflict(s), "
                   f"{len(rem.manual)} command(s) for manual review")


COMMANDS = [fix_cmd]
