"""The generator's templates (XML shape) rendered through the one Environment factory."""

from __future__ import annotations

import datetime as dt

import jinja2

from stigscap.schemas.clock import resolve_time
from stigscap.schemas.templating import environment as _environment


def environment() -> jinja2.Environment:
    # every interpolated text is XML-escaped; whitespace exactly as the templates write it
    return _environment("stigscap.generator", autoescape=True, keep_trailing_newline=True)


def render(template: str, **context) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")


def resolve_timestamp(option: str | None, fallback: dt.date | dt.datetime) -> dt.datetime:
    """--timestamp wins, then SOURCE_DATE_EPOCH, then a content-derived fallback (naive UTC).

    Generated content never uses the wall clock, so the same input gives the same bytes.
    """
    if not isinstance(fallback, dt.datetime):
        fallback = dt.datetime(fallback.year, fallback.month, fallback.day)
    return resolve_time(option, fallback=fallback).replace(tzinfo=None)


def xml_datetime(ts: dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat()
