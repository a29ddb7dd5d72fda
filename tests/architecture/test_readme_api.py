"""The Python example in the README runs as written (with a signing key where it expects one),
in a fresh interpreter that has only `import stigscap`, and does what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lxml import etree

from tests.pki import make_identity

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "the README has no Python API example"
    return blocks[0]


def test_readme_example_is_ten_lines_of_public_api():
    code = [line for line in _example().splitlines() if line.strip()]
    assert len(code) <= 10
    names = set(re.findall(r"stigscap\.(\w+)", _example()))
    import stigscap
    assert names <= set(stigscap.__all__)


def test_readme_example_runs(tmp_path):
    identity = make_identity(tmp_path, "signer")
    assert identity.key_pem.name == "signer.key" and identity.cert_pem.name == "signer.pem"
    run = subprocess.run([sys.executable, "-c", _example()], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PATH": "/usr/bin:/bin",
                                                      "SOURCE_DATE_EPOCH": "1764300000"})
    assert run.returncode == 0, run.stderr
    counts_text, exit_code = run.stdout.strip().rsplit(" ", 1)
    assert exit_code == "2"                       # the example exports hold findings
    assert "'fail'" in counts_text and "'pass'" in counts_text
    ckl = etree.parse(str(tmp_path / "edge01.ckl")).getroot()
    assert ckl.tag == "CHECKLIST"
    statuses = {s.text for s in ckl.iter("STATUS")}
    assert "Open" in statuses and "NotAFinding" in statuses


def test_public_api_lists_what_it_exports():
    import stigscap
    import stigscap.evaluator as evaluator
    assert stigscap.__all__ == evaluator.__all__
    for name in stigscap.__all__:
        assert getattr(stigscap, name) is getattr(evaluator, name)
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?\S*", stigscap.__version__)
    assert (Path(stigscap.__file__).parent / "py.typed").exists()
