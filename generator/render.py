"""The jinja2 environment shared by the generator's format modules (templates hold XML shape)."""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache

import jinja2

from stigscap.schemas.errors import StigscapError


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
    """--timestamp (ISO 8601) wins, then SOURCE_DATE_EPOCH, then a content-derived fallback.

    Generated content never uses the wall clock, so the same input gives the same bytes.
    """
    if option:
        try:
            ts = dt.datetime.fromisoformat(option.replace("Z", "+00:00"))
        except ValueError:
            raise StigscapError(f"--timestamp {option!r} is not an ISO 8601 date-time") from None
        return ts.astimezone(dt.timezone.utc).replace(tzinfo=None) if ts.tzinfo else ts
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise StigscapError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time in seconds") from None
    if isinstance(fallback, dt.datetime):
        return fallback
    return dt.datetime(fallback.year, fallback.month, fallback.day)


def xml_datetime(ts: dt.datetime) -> str:
    return ts.replace(microsecond=0).isoformat()
