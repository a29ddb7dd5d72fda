"""Hostile or broken input: one line on stderr, exit 1, no traceback, no file contents echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")
SECRET = "s3cr3t-canary-7f1c"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2">&lol9;</ds:data-stream-collection>
"""


def _xxe(target: Path) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "file://{target}"> ]>\n'
            '<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5">'
            '&xxe;</oval_definitions>\n')


CASES = {
    "billion-laughs": BILLION_LAUGHS,
    "xxe-etc-passwd": _xxe(Path("/etc/passwd")),
    "external-dtd": '<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd">\n'
                    '<x:Benchmark xmlns:x="http://checklists.nist.gov/xccdf/1.2"/>\n',
    "not-xml": "root:x:0:0:root:/root:/bin/bash\nthis is not XML at all\n",
    "binary": "\x00\x01\x02\x89PNG\r\n\x1a\n",
    "wrong-root": '<?xml version="1.0"?>\n<html><body>hello</body></html>\n',
    "wrong-namespace": '<Benchmark xmlns="http://example.com/not-xccdf"/>',
    "truncated": (FIXTURES / "mini-ds.xml").read_text()[:1500],
    "empty": "",
    "whitespace": "  \n\n ",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_one_line_exit_1(cli, schema_dir, tmp_path, name):
    path = tmp_path / f"{name}.xml"
    path.write_text(CASES[name], encoding="utf-8", errors="surrogateescape")
    res = cli("validate", path)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"stigscap: {path}")
    assert "Traceback" not in res.output
    assert res.stdout == ""
    assert "root:x:0" not in res.output  # neither the XXE target nor the not-XML text


def test_billion_laughs_in_a_huge_file(cli, schema_dir, tmp_path):
    """Above 8 MiB the parser runs with huge_tree (and two threads): still refused, quickly."""
    path = tmp_path / "big.xml"
    path.write_text(BILLION_LAUGHS + "<!--" + "x" * (9 << 20) + "-->\n", encoding="utf-8")
    res = cli("validate", path)
    assert res.exit_code == 1
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_xxe_secret_file_never_echoed(cli, schema_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    path = tmp_path / "xxe.xml"
    path.write_text(_xxe(secret))
    for fmt in ("text", "json"):
        res = cli("validate", "--format", fmt, path)
        assert res.exit_code == 1
        assert SECRET not in res.output
    assert json.loads(cli("validate", "--format", "json", path).stdout)["files"][0]["error"]


def test_missing_file_and_directory(cli, schema_dir, tmp_path):
    res = cli("validate", tmp_path / "nope.xml")
    assert res.exit_code == 1 and "cannot read file" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = cli("validate", tmp_path)
    assert res.exit_code in (1, 2)  # click rejects a directory argument as a usage error
    assert "Traceback" not in res.output


def test_unknown_oval_version_is_exit_1(cli, schema_dir, tmp_path):
    path = tmp_path / "oval.xml"
    path.write_text('<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" '
                    'xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5"><generator>'
                    '<oval:schema_version>9.9</oval:schema_version></generator></oval_definitions>')
    res = cli("validate", path)
    assert res.exit_code == 1
    assert "schema_version 9.9" in res.stderr and len(res.stderr.strip().splitlines()) == 1
