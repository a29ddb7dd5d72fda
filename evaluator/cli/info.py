"""CLI: `stigscap info FILE` (like `oscap info`)."""

from __future__ import annotations

import json

import click

from stigscap.schemas.xmlio import parse_xml_file

from ..xccdf.info import document_info


@click.command("info")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def info_cmd(file: str, fmt: str) -> None:
    """Describe a SCAP document: benchmarks, profiles, rule counts, values, signatures.

    Reads a source data stream, an XCCDF Benchmark, TestResult or Tailoring, or an ARF report,
    and prints its data streams, each benchmark's profiles (with how many rules each selects),
    its rules (automated by OVAL, manual), its Values with their selectors, the TestResults of
    a report, and where XML signatures sit (they are not verified here: `stigscap verify`)."""
    info = document_info(parse_xml_file(file, huge_tree=True).getroot(), file)
    if fmt == "json":
        click.echo(json.dumps(info.to_json(), indent=2, sort_keys=True))
    else:
        for line in info.lines():
            click.echo(line)


COMMANDS = [info_cmd]
