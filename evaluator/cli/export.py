"""CLI: `stigscap export ckl|cklb ARF… -o OUT` and `stigscap report ARF… -o report.html`."""

from __future__ import annotations

import click

from stigscap.evaluator.checklists.export import FORMATS, write_checklists
from stigscap.schemas.clock import resolve_time
from stigscap.schemas.xmlio import atomic_write

from .options import checklist_options, checklist_options_from
from .terminal import working

@click.command("export")
@click.argument("fmt", metavar="ckl|cklb|hdf", type=click.Choice(FORMATS))
@click.argument("arfs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="output file (one ARF) or directory (several ARFs/assets)")
@checklist_options
def export_cmd(fmt, arfs, output, stig, merge, role, marking, tech_area, timestamp):
    """Write STIG Viewer checklists (CKL or CKLB) or Heimdall HDF JSON, one per asset, from ARF
    results."""
    with working(f"writing {fmt.upper()} from {len(arfs)} ARF file(s)…"):
        written = write_checklists(arfs, output, fmt, stig=stig, merge=merge,
                                   options=checklist_options_from(role, marking, tech_area,
                                                                  timestamp))
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
    html = html_report(list(arfs), stig=stig, title=title, timestamp=resolve_time(timestamp))
    atomic_write(output, html)
    click.echo(str(output))


COMMANDS = [export_cmd, report_cmd]
