"""The one jinja2 Environment factory (templates hold the XML/HTML shape, Python the logic).

Every template user (the generator's formats, the system-characteristics, ARF, CKL and HTML
writers) gets its Environment here. What differs between them is an argument: the package
whose templates folder is loaded, autoescaping (XML/HTML text is escaped by jinja, except the
CKL writer, which escapes through its own filter), whitespace handling and extra filters.
Undefined names are always an error (`StrictUndefined`): a template never renders a silent
blank. Environments are cached per setting, so a template is compiled once per process;
callers must not change an Environment they are given (pass `filters` instead).

It lives in the base layer so the evaluator can use it without importing the generator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

import jinja2


def environment(package: str, folder: str = "templates", *, autoescape: bool,
                keep_trailing_newline: bool = False, trim_blocks: bool = False,
                lstrip_blocks: bool = False,
                filters: Mapping[str, Callable] | None = None) -> jinja2.Environment:
    """The (cached) Environment for `package`'s `folder` of templates with these settings."""
    return _cached(package, folder, autoescape, keep_trailing_newline, trim_blocks,
                   lstrip_blocks, tuple(sorted((filters or {}).items())))


@lru_cache(maxsize=None)
def _cached(package: str, folder: str, autoescape: bool, keep_trailing_newline: bool,
            trim_blocks: bool, lstrip_blocks: bool,
            filters: tuple[tuple[str, Callable], ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=autoescape, keep_trailing_newline=keep_trailing_newline,
        trim_blocks=trim_blocks, lstrip_blocks=lstrip_blocks,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(dict(filters))
    return env
