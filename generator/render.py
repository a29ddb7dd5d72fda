"""The generator's templates (XML shape) rendered through the one Environment factory."""

from __future__ import annotations

import datetime as dt

import jinja2

from stigscap.schemas.clock import as_utc
from stigscap.schemas.templating import environment as _environment


def environment() -> jinja2.Environment:
    # every interpolated text is XML-escaped; whitespace exactly as the templates write it
    return _environment("stigscap.generator", autoescape=True, keep_trailing_newline=True)


def render(template: str, **context) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")


def xml_datetime(ts: dt.datetime) -> str:
    """Naive-UTC xsd:dateTime, whole seconds (the form generated content carries)."""
    return as_utc(ts).replace(tzinfo=None).isoformat()
