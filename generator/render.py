"""The jinja2 environment shared by the generator's format modules (templates hold XML shape)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jinja2

from stigscap.schemas.clock import resolve_time


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


def resolve_timestamp(option: str | None, fallback: dt.date | dt.datetime) -> dt.datetime:
    """--timestamp wins, then SOURCE_DATE_EPOCH, then a content-derived fallback (naive UTC).

    Generated content never uses the wall clock, so the same input gives the same bytes.
    """
    if not isinstance(fallback, dt.datetime):
        fallback = dt.datetime(fallback.year, fallback.month, fallback.day)
    return resolve_time(option, fallback=fallback).replace(tzinfo=None)


def xml_datetime(ts: dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat()
