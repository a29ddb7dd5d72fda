"""xmlio.atomic_write: a writer killed mid-write leaves a temporary file users recognise, and
the next stigscap process writing into that directory removes it; a live writer's is kept.

Real processes: a child writes with atomic_write and is stopped inside it (its own os.fsync,
in the child only, reports and waits), then SIGKILLed; nothing of stigscap's code is replaced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stigscap.schemas.errors import StigscapError
from stigscap.schemas.xmlio import TMP_MARK, atomic_write

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import os, sys
    from stigscap.schemas.xmlio import atomic_write
    target, pause = sys.argv[1], sys.argv[2] == "pause"
    if pause:
        real_fsync = os.fsync
        def fsync(fd):
            real_fsync(fd)
            print("in-write", flush=True)
            sys.stdin.readline()         # until the test says go on (or kills us)
        os.fsync = fsync
    atomic_write(target, sys.argv[3].encode() * 100000)
    print("done", flush=True)
""")


def _writer(target: Path, pause: bool, payload: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(target),
                          "pause" if pause else "go", payload],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    if pause:
        assert p.stdout.readline().strip() == "in-write"
    return p


def _temps(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if TMP_MARK in p.name)


def test_killed_writer_leaves_a_recognisable_file_the_next_run_removes(tmp_path):
    target = tmp_path / "edge01-arf.xml"
    target.write_text("old complete file")
    killed = _writer(target, pause=True, payload="new")
    [tmp] = _temps(tmp_path)
    assert tmp.name.startswith(f".{target.name}{TMP_MARK}{killed.pid}-"), tmp.name
    assert tmp.stat().st_size == 300000                 # the whole payload, not yet renamed
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    assert _temps(tmp_path) == [tmp]                    # left behind …
    assert target.read_text() == "old complete file"    # … and the target is untouched
    # the next run, writing another file into the same directory, removes it
    nxt = _writer(tmp_path / "other.xml", pause=False, payload="b")
    assert nxt.communicate(timeout=60)[0].strip() == "done"
    assert _temps(tmp_path) == []
    assert target.read_text() == "old complete file"
    assert (tmp_path / "other.xml").read_bytes() == b"b" * 100000


def test_a_live_writers_file_is_kept(tmp_path):
    target = tmp_path / "edge01-arf.xml"
    slow = _writer(target, pause=True, payload="s")
    [tmp] = _temps(tmp_path)
    fast = _writer(target, pause=False, payload="f")
    assert fast.communicate(timeout=60)[0].strip() == "done"
    assert _temps(tmp_path) == [tmp]                    # still there: its writer lives
    assert target.read_bytes() == b"f" * 100000
    out, _ = slow.communicate("go on\n", timeout=60)
    assert out.strip() == "done" and slow.returncode == 0
    assert _temps(tmp_path) == [] and target.read_bytes() == b"s" * 100000


def test_a_locked_file_of_a_dead_pid_is_kept(tmp_path):
    """The pid in the name may belong to another host or pid namespace: a file whose lock is
    held is in use, whatever its pid says."""
    fcntl = pytest.importorskip("fcntl")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    held = tmp_path / f".x.xml{TMP_MARK}{pid}-held"
    stale = tmp_path / f".y.xml{TMP_MARK}{pid}-stale"
    for p in (held, stale):
        p.write_text("partial")
    with open(held, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        nxt = _writer(tmp_path / "z.xml", pause=False, payload="z")
        assert nxt.communicate(timeout=60)[0].strip() == "done"
        assert _temps(tmp_path) == [held]
    assert not stale.exists()


def test_other_files_are_never_touched(tmp_path):
    keep = [tmp_path / ".hidden", tmp_path / f"x{TMP_MARK}1-a",  # not a dot file
            tmp_path / f".x{TMP_MARK}notapid-a", tmp_path / ".x.xml.abc123.tmp"]
    for p in keep:
        p.write_text("mine")
    os.symlink(tmp_path / ".hidden", tmp_path / f".l{TMP_MARK}999999999-a")
    os.mkfifo(tmp_path / f".f{TMP_MARK}999999999-a")
    nxt = _writer(tmp_path / "z.xml", pause=False, payload="z")
    assert nxt.communicate(timeout=60)[0].strip() == "done"
    assert all(p.read_text() == "mine" for p in keep)
    assert (tmp_path / f".l{TMP_MARK}999999999-a").is_symlink()
    assert (tmp_path / f".f{TMP_MARK}999999999-a").exists()


def test_a_directory_as_target_is_a_one_line_error(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(StigscapError, match="is a directory, expected a file"):
        atomic_write(tmp_path / "d", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
