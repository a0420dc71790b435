from __future__ import annotations

import gc
import os
import pickle
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import platformdirs
import pytest

from harness.workspace import cache, loader
from harness.workspace.loader import load_workspace

EXAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "_base"
REPOSITORY = Path(__file__).resolve().parents[2]  # mocks/ and scenarios/


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "cache"))
    shutil.copytree(EXAMPLE, tmp_path / "ws")
    return tmp_path / "ws"


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    builds: list[int] = []
    original = loader._Loader.build

    def counting(self: loader._Loader, *args: object) -> object:
        builds.append(1)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader._Loader, "build", counting)
    return builds


def test_an_unchanged_workspace_is_loaded_from_the_cache(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = _count_builds(monkeypatch)
    first = load_workspace(workspace)
    second = load_workspace(workspace)
    assert builds == [1]
    assert second == first
    assert len(list((workspace.parent / "cache").glob("*.pickle"))) == 1


def test_any_changed_byte_misses(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = _count_builds(monkeypatch)
    load_workspace(workspace)
    spec = next((workspace / "mocks").glob("*.yaml"))
    spec.write_text(spec.read_text() + "\n# a comment\n")
    load_workspace(workspace)
    (workspace / "scenarios" / "notes.bin").write_bytes(b"sidecar")  # any file may be a body
    load_workspace(workspace)
    assert builds == [1, 1, 1]


def test_the_cache_can_be_turned_off(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.VARIABLE, "off")
    builds = _count_builds(monkeypatch)
    load_workspace(workspace)
    load_workspace(workspace)
    assert builds == [1, 1]
    assert not (workspace.parent / "cache").exists()


def test_a_broken_entry_is_ignored(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_workspace(workspace)
    (entry,) = (workspace.parent / "cache").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    builds = _count_builds(monkeypatch)
    load_workspace(workspace)
    assert builds == [1]


def test_flows_stored_in_parts_load_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "FLOWS_PER_PART", 2)  # the repository's workspace: several parts
    builds = _count_builds(monkeypatch)
    first = load_workspace(REPOSITORY)
    second = load_workspace(REPOSITORY)
    assert builds == [1]
    assert len(first.flows) > 2 * cache.FLOWS_PER_PART
    assert second == first
    assert [flow.name for flow in second.flows] == [flow.name for flow in first.flows]


def test_an_entry_missing_a_part_is_ignored(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "FLOWS_PER_PART", 1)
    load_workspace(workspace)
    (entry,) = (workspace.parent / "cache").glob("*.pickle")
    data = entry.read_bytes()
    entry.write_bytes(data[: data.rindex(pickle.PROTO)])  # the last part cut off
    builds = _count_builds(monkeypatch)
    load_workspace(workspace)
    assert builds == [1]


def test_no_flow_shares_an_object_with_another_or_the_rest() -> None:
    """What storing flows in parts relies on: a part's pickle holds every object its flows
    reach, and none of them is reached from elsewhere (but immutable atoms: strings,
    numbers, bytes, the empty tuple), so unpickling the parts apart changes nothing."""
    workspace = load_workspace(REPOSITORY)
    atoms = (str, int, float, bool, bytes, type(None), type)

    def reached(root: object) -> set[int]:
        seen: dict[int, object] = {}
        pending = [root]
        while pending:
            item = pending.pop()
            if isinstance(item, atoms) or item == () or id(item) in seen:
                continue
            seen[id(item)] = item  # kept alive, so that no id is reused during the walk
            pending.extend(gc.get_referents(item))
        return set(seen)

    rest = reached(replace(workspace, flows=()))
    owners: dict[int, str] = {}
    for flow in workspace.flows:
        for identity in reached(flow):
            assert identity not in rest, f"flow {flow.name} shares an object with the rest"
            assert owners.setdefault(identity, flow.name) == flow.name, (
                f"flows {owners[identity]} and {flow.name} share an object"
            )


@pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to give the cache directory another owner"
)
def test_a_directory_owned_by_someone_else_is_not_filled(workspace: Path) -> None:
    directory = workspace.parent / "cache"
    directory.mkdir()
    os.chown(directory, 65534, 65534)
    load_workspace(workspace)
    assert not list(directory.glob("*.pickle"))


def test_entries_others_could_have_written_are_not_loaded(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_workspace(workspace)
    (entry,) = (workspace.parent / "cache").glob("*.pickle")
    entry.chmod(0o666)
    builds = _count_builds(monkeypatch)
    load_workspace(workspace)
    assert builds == [1]


def test_the_cache_directory_is_the_platforms_unless_the_variable_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(cache.VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = Path(platformdirs.user_cache_dir("connector-harness", appauthor=False))
    assert cache.cache_directory() == expected
    if sys.platform.startswith("linux"):
        assert expected == tmp_path / "xdg" / "connector-harness"
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "mine"))
    assert cache.cache_directory() == tmp_path / "mine"
    for disabled in ("off", "0", "false", ""):
        monkeypatch.setenv(cache.VARIABLE, disabled)
        assert cache.cache_directory() is None
