"""Paths from input stay inside their root; reads are bounded and only of regular files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import InputError, Location
from harness.paths import contained, outside, read_bounded


def test_a_path_inside_is_kept(tmp_path: Path) -> None:
    where = Location("x")
    assert contained(tmp_path, "a/b.yaml", what="the file", where=where) == tmp_path / "a/b.yaml"


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd"])
def test_a_path_leaving_the_root_is_an_input_error(tmp_path: Path, relative: str) -> None:
    with pytest.raises(InputError, match="leads outside"):
        contained(tmp_path, relative, what="the file", where=Location("m.py", 3, 1))


def test_a_link_leading_out_is_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    assert outside(root, root / "link" / "x") == tmp_path / "x"
    assert outside(root, root / "inside") is None


def test_a_link_loop_is_outside(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert outside(tmp_path, tmp_path / "a") is not None


def test_a_device_is_never_read() -> None:
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(Path("/dev/zero"), 1024)


def test_a_pipe_is_never_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="not a regular file"):
        read_bounded(tmp_path / "pipe", 1024)


def test_a_directory_is_never_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a directory"):
        read_bounded(tmp_path, 1024)


def test_a_read_stops_at_the_limit(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 11)
    assert read_bounded(tmp_path / "f", 11) == b"x" * 11
    with pytest.raises(InputError, match="over the limit of 10 bytes"):
        read_bounded(tmp_path / "f", 10)
