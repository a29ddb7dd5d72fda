"""The one jinja2 Environment factory (schemas/templating.py): cached per setting, filters given
as arguments never leak into another caller's Environment, undefined names always an error."""

from __future__ import annotations

import jinja2
import pytest

from stigscap.schemas.templating import environment


def _upper(v):
    return str(v).upper()


def test_cached_per_setting_and_filters_kept_apart():
    a = environment("stigscap.evaluator", autoescape=True, trim_blocks=True, lstrip_blocks=True)
    assert a is environment("stigscap.evaluator", autoescape=True, trim_blocks=True,
                            lstrip_blocks=True)
    b = environment("stigscap.evaluator", autoescape=True, trim_blocks=True, lstrip_blocks=True,
                    filters={"up": _upper})
    assert b is not a and "up" in b.filters and "up" not in a.filters
    assert b is environment("stigscap.evaluator", autoescape=True, trim_blocks=True,
                            lstrip_blocks=True, filters={"up": _upper})
    assert environment("stigscap.evaluator", autoescape=False) is not environment(
        "stigscap.evaluator", autoescape=True)


def test_settings_are_applied():
    env = environment("stigscap.generator", autoescape=True, keep_trailing_newline=True,
                      filters={"up": _upper})
    assert env.from_string("{{ x|up }}\n").render(x="<a&b>") == "&lt;A&amp;B&gt;\n"
    assert "xccdf.xml.j2" in env.list_templates()
    raw = environment("stigscap.evaluator", autoescape=False)
    assert raw.from_string("{{ x }}\n").render(x="<a>") == "<a>"   # no trailing newline kept
    with pytest.raises(jinja2.UndefinedError):
        raw.from_string("{{ missing }}").render()
