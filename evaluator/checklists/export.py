"""ARF results → STIG Viewer checklists in one call: CKL (ckl.py) or CKLB (cklb.py), or
Heimdall's HDF (hdf.py), one per asset, with the rules of a DISA STIG listed and the manual
reviews of an earlier checklist carried over. Used by `export`, `eval/run/scan --ckl/--cklb/
--hdf` and the public API.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stigscap.evaluator.results.arf_reader import ArfReport, Benchmark, read_arf, read_stig
from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import atomic_write, parse_xml_bytes, read_input_bytes

from .ckl import checklist_from_ckl, render_ckl
from .cklb import checklist_from_cklb_bytes, render_cklb
from .hdf import render_hdf
from .model import Checklist, ChecklistOptions, apply_merge, build_checklists

FORMATS = ("ckl", "cklb", "hdf")
_RENDER = {"ckl": render_ckl, "cklb": render_cklb, "hdf": render_hdf}
EXTENSIONS = {"ckl": ".ckl", "cklb": ".cklb", "hdf": ".json"}


def read_checklist(path: str | Path) -> Checklist:
    """A CKL or CKLB file (told apart by content), for --merge; every problem is one
    StigscapError."""
    p = Path(path)
    data = read_input_bytes(p, "checklist")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"{":
        return checklist_from_cklb_bytes(data, str(p))
    if head == b"<":
        return checklist_from_ckl(parse_xml_bytes(data, str(p)).getroot(), str(p))
    raise StigscapError("not a checklist (neither CKL XML nor CKLB JSON)", file=str(p))


def checklists_from_arfs(arfs: Iterable[Any], *, stig: Benchmark | str | Path | None = None,
                         merge: Checklist | str | Path | None = None,
                         options: ChecklistOptions | None = None) -> list[Checklist]:
    """ARFs (paths, bytes, parsed trees or ArfReport) → one neutral checklist per asset."""
    reports: list[ArfReport] = [read_arf(a) for a in arfs]
    bench = read_stig(stig) if isinstance(stig, (str, Path)) else stig
    old: Checklist | None
    if isinstance(merge, (str, Path)):
        old, old_source = read_checklist(merge), str(merge)
    else:
        old, old_source = merge, "previous checklist"
    return apply_merge(build_checklists(reports, stig=bench, options=options), old, old_source)


def render_checklists(arfs: Iterable[Any], fmt: str, *, stig: Benchmark | str | Path | None = None,
                      merge: Checklist | str | Path | None = None,
                      options: ChecklistOptions | None = None) -> dict[str, bytes]:
    """{file name: bytes}, one checklist per asset, in format `fmt` (ckl or cklb)."""
    render = _RENDER.get(fmt)
    if render is None:
        raise StigscapError(f"unknown checklist format '{fmt}' (use ckl, cklb or hdf)")
    out: dict[str, bytes] = {}
    for c in checklists_from_arfs(arfs, stig=stig, merge=merge, options=options):
        out[_unique(out, c.file_stem(), EXTENSIONS[fmt])] = render(c)
    return out


def checklist_from_arf(arf: Any, fmt: str, *, stig: Benchmark | str | Path | None = None,
                       merge: Checklist | str | Path | None = None,
                       options: ChecklistOptions | None = None) -> bytes:
    """The one checklist (bytes) of a single-asset ARF."""
    files = render_checklists([arf], fmt, stig=stig, merge=merge, options=options)
    if len(files) != 1:
        raise StigscapError(f"the ARF holds {len(files)} assets; use render_checklists")
    return next(iter(files.values()))


def write_checklists(arfs: Iterable[Any], out: str | Path, fmt: str, *,
                     stig: Benchmark | str | Path | None = None,
                     merge: Checklist | str | Path | None = None,
                     options: ChecklistOptions | None = None) -> list[Path]:
    """Render everything first, then write: OUT is a file when there is one ARF with one
    asset (and OUT is not an existing directory), otherwise a directory with one file per
    asset. Nothing is written when any input is bad."""
    out = Path(out)
    arfs = list(arfs)
    files = render_checklists(arfs, fmt, stig=stig, merge=merge, options=options)
    if not files:
        raise StigscapError("no asset in the ARF input; nothing to export")
    if len(arfs) == 1 and len(files) == 1 and not out.is_dir():
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


def _unique(taken: dict[str, bytes], stem: str, ext: str) -> str:
    name, n = stem + ext, 2
    while name in taken:
        name, n = f"{stem}_{n}{ext}", n + 1
    return name
