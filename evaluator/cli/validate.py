"""CLI commands of the schemas stage: `stigscap validate FILE...`.

Exit codes follow oscap's validators: 0 every file valid, 2 at least one file invalid,
1 at least one file could not be validated (unreadable, not XML, DTD, unknown root, schema
missing or changed). Warnings never change the exit code.
"""

from __future__ import annotations

import json

import click

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.validate import check_file

from .terminal import working

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2

# The trees parsed for the file validated last. They outlive the command (click drops its
# frame on the way out) so that the `stigscap` launcher's exit does not wait for them to be
# freed (a 24 MB stream's two trees: 60-130 ms); the next file or the next run frees them.
_LAST_PARSED: list[object] = []


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path())  # a directory: error, per file
@click.option("--schema-dir", type=click.Path(file_okay=False),
              help="directory of the official XSDs (default: $STIGSCAP_SCHEMA_DIR, else "
                   "/usr/share/openscap/schemas from Debian's openscap-common)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
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
    reports: list[dict[str, object]] = []
    code = EXIT_OK
    for f in files:
        _LAST_PARSED.clear()   # the previous file's trees
        try:
            with working(f"validating {f}…", quiet=fmt == "json"):
                result = check_file(f, schema_dir=schema_dir, semantic_checks=not xsd_only,
                                    schematron=schematron, keep=_LAST_PARSED)
        except StigscapError as exc:
            click.echo(f"stigscap: {exc}", err=True)
            reports.append({"file": f, "kind": None, "valid": None, "error": str(exc),
                            "problems": []})
            code = EXIT_ERROR
            continue
        problems = [p for p in result.problems if not (no_warnings and p.severity != "error")]
        if not result.valid and code == EXIT_OK:
            code = EXIT_INVALID
        n_err = len(result.errors)
        n_warn = sum(1 for p in result.problems if p.severity == "warning")
        n_info = len(result.problems) - n_err - n_warn
        if fmt == "json":
            reports.append({"file": f, "kind": result.kind, "document": result.document,
                            "valid": result.valid, "error": None,
                            "errors": n_err, "warnings": n_warn, "info": n_info,
                            "problems": [p.to_dict() for p in problems]})
        else:
            if problems:   # one write: an SSG stream has thousands of SCAP 1.3 warnings
                click.echo("\n".join(map(str, problems)))
            verdict = "valid" if result.valid else "INVALID"
            counts = [f"{n_err} errors, {n_warn} warnings"] if (n_err or n_warn or n_info) else []
            if n_info:
                counts.append(f"{n_info} info")
            extra = f" ({', '.join(counts)})" if counts else ""
            doc = f" ({result.document})" if result.document == "Tailoring" else ""
            click.echo(f"{f}: {verdict} {result.kind}{doc}{extra}")
    if fmt == "json":
        click.echo(json.dumps({"exit_code": code, "files": reports}, indent=1))
    ctx.exit(code)


COMMANDS = [validate_cmd]
