"""The jinja2 environment shared by the generator's format modules (templates hold XML shape)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jinja2

from stigscap.schemas.clock import as_utc


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("stigscap.generator", "templates"),
        autoescape=True,  # every interpolated text is XML-escaped
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render(template: str, **context) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")


def xml_datetime(ts: dt.datetime) -> str:
    """Naive-UTC xsd:dateTime, whole seconds (the form generated content carries)."""
    return as_utc(ts).replace(tzinfo=None).isoformat()
