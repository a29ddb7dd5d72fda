"""CLI commands of the schemas stage: `stigscap validate FILE...`.

The command reads its command line and hands over to `validate_files` (click-free: the
`stigscap` launcher runs the common command lines there directly). Exit codes follow oscap's
validators: 0 every file valid, 2 at least one file invalid, 1 at least one file could not
be validated. Warnings never change the exit code.
"""

from __future__ import annotations

import click

from .validate_files import FORMATS, validate_files


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())  # a directory: error, per file
@click.option("--schema-dir", type=click.Path(file_okay=False),
              help="directory of the official XSDs (default: $STIGSCAP_SCHEMA_DIR, else "
                   "/usr/share/openscap/schemas from Debian's openscap-common)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
              show_default=True, help="output format (json: one object on stdout)")
@click.option("--xsd-only", is_flag=True, help="only XSD validation, no semantic/SCAP checks")
@click.option("--schematron", is_flag=True,
              help="also run openscap-common's compiled SDS 1.3 schematron (XSLT), as a cross-check "
                   "of the native SCAP 1.3 requirement checks")
@click.option("--no-warnings", is_flag=True, help="do not print warnings (nor info notes)")
@click.pass_context
def validate_cmd(ctx: click.Context, files: tuple[str, ...], schema_dir: str | None, fmt: str,
                 xsd_only: bool, schematron: bool, no_warnings: bool) -> None:
    """Validate SCAP documents against the official XSDs plus reference/SCAP 1.3 checks.

    Detects XCCDF 1.1/1.2 (Benchmark, TestResult, Tailoring), OVAL definitions / system
    characteristics / results / variables / directives, source data streams 1.2/1.3, ARF 1.1
    (envelope and every embedded report), CPE dictionary / language, OCIL, and STIG Viewer
    checklists (CKL against DISA's checklist schema 2.5, CKLB as STIG Viewer 3 writes it). Source and result
    data streams also get the SCAP 1.3 requirement checks (NIST SCAPVal's, natively); each
    finding names the element (line, path, id) and the requirement it breaks.
    """
    ctx.exit(validate_files(files, schema_dir=schema_dir, fmt=fmt, xsd_only=xsd_only,
                            schematron=schematron, no_warnings=no_warnings,
                            echo=click.echo))


COMMANDS = [validate_cmd]
