"""CLI: `stigscap export ckl|cklb ARF… -o OUT` and `stigscap report ARF… -o report.html`.

`write_checklists(...)` and `checklist_options` are reused by `eval`/`scan` for --ckl/--cklb.
"""

from __future__ import annotations

from pathlib import Path

import click

from stigscap.evaluator.checklists.model import ROLES, ChecklistOptions
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write

FORMATS = ("ckl", "cklb")


def render_checklists(arfs, fmt: str, *, stig=None, merge=None,
                      options: ChecklistOptions | None = None) -> dict[str, bytes]:
    """{file name: bytes}, one checklist per asset, in format `fmt` (ckl or cklb)."""
    if fmt == "ckl":
        from stigscap.evaluator.checklists.ckl import ckls_from_arfs
        return ckls_from_arfs(arfs, stig=stig, merge=merge, options=options)
    if fmt == "cklb":
        from stigscap.evaluator.checklists.cklb import cklbs_from_arfs
        return cklbs_from_arfs(arfs, stig=stig, merge=merge, options=options)
    raise StigscapError(f"unknown checklist format '{fmt}' (use ckl or cklb)")


def write_checklists(arfs, out: str | Path, fmt: str, *, stig=None, merge=None,
                     options: ChecklistOptions | None = None) -> list[Path]:
    """Render everything first, then write: OUT is a file when there is one ARF with one
    asset (and OUT is not an existing directory), otherwise a directory with one file per
    asset. Nothing is written when any input is bad."""
    out = Path(out)
    files = render_checklists(list(arfs), fmt, stig=stig, merge=merge, options=options)
    if not files:
        raise StigscapError("no asset in the ARF input; nothing to export")
    single = len(list(arfs)) == 1 and len(files) == 1 and not out.is_dir()
    if single:
        atomic_write(out, next(iter(files.values())))
        return [out]
    if out.exists() and not out.is_dir():
        raise StigscapError(f"{len(files)} checklists to write: the output must be a "
                            "directory, not an existing file", file=str(out))
    written = []
    for name, data in files.items():
        atomic_write(out / name, data)
        written.append(out / name)
    return written


def checklist_options(f):
    """The checklist options shared by `export` and `eval/scan --ckl/--cklb`."""
    opts = [
        click.option("--stig", "stig", type=click.Path(dir_okay=False),
                     help="DISA manual STIG (U_…_Manual-xccdf.xml): list every rule of it, "
                          "not-automated ones as Not_Reviewed"),
        click.option("--merge", "merge", type=click.Path(dir_okay=False),
                     help="existing .ckl/.cklb whose manual reviews are carried over"),
        click.option("--role", type=click.Choice(ROLES), default="None", show_default=True,
                     help="ASSET role"),
        click.option("--marking", default="CUI", show_default=True, help="CKL MARKING"),
        click.option("--tech-area", default="Exchange Server", show_default=True,
                     help="technology area (CKL TECH_AREA)"),
        click.option("--timestamp", default=None,
                     help="ISO-8601 time for CKLB createdAt/updatedAt (default: the scan end)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def options_from(role: str, marking: str, tech_area: str, timestamp: str | None
                 ) -> ChecklistOptions:
    return ChecklistOptions(role=role, marking=marking, tech_area=tech_area, timestamp=timestamp)


@click.command("export")
@click.argument("fmt", metavar="ckl|cklb", type=click.Choice(FORMATS))
@click.argument("arfs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="output file (one ARF) or directory (several ARFs/assets)")
@checklist_options
def export_cmd(fmt, arfs, output, stig, merge, role, marking, tech_area, timestamp):
    """Write STIG Viewer checklists (CKL or CKLB), one per asset, from ARF results."""
    written = write_checklists(arfs, output, fmt, stig=stig, merge=merge,
                               options=options_from(role, marking, tech_area, timestamp))
    for p in written:
        click.echo(str(p))


@click.command("report")
@click.argument("arfs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="the HTML file to write")
@click.option("--stig", type=click.Path(dir_okay=False),
              help="DISA manual STIG, so rules stigscap does not automate are listed")
@click.option("--title", default=None, help="report title")
@click.option("--timestamp", default=None, help="ISO-8601 time printed as the report time")
def report_cmd(arfs, output, stig, title, timestamp):
    """Write one self-contained HTML compliance report for a host or a fleet."""
    from stigscap.evaluator.checklists.report_html import html_report
    html = html_report(list(arfs), stig=stig, title=title, timestamp=timestamp)
    atomic_write(output, html)
    click.echo(str(output))


COMMANDS = [export_cmd, report_cmd]
