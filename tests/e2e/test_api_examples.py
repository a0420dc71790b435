"""The Python API of docs/api.md: its unittest and plain-script examples run as written,
and `import harness` loads nothing until a name is used."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import harness

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "api.md"


def _examples() -> dict[str, str]:
    """The guide's Python blocks by the file name their first line gives them."""
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text("utf-8"), re.S)
    return {block.splitlines()[0].split(":")[0].removeprefix("# "): block for block in blocks}


def _run(tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / name
    script.write_text(_examples()[name], "utf-8")
    return subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_guide_has_a_unittest_and_a_script_example() -> None:
    assert set(_examples()) == {"test_crm_export.py", "gate.py"}


def test_the_unittest_example_passes(tmp_path: Path) -> None:
    run = _run(tmp_path, "test_crm_export.py")
    assert run.returncode == 0, run.stderr
    assert re.search(r"^Ran 2 tests in \S+\n\nOK\n$", run.stderr, re.M), run.stderr


def test_the_unittest_example_fails_on_the_over_broad_prod_binding(tmp_path: Path) -> None:
    """What the guide says of `env="prod"`: the assertion names the grant and the fix."""
    example = _examples()["test_crm_export.py"].replace('env="dev"', 'env="prod"', 1)
    script = tmp_path / "test_prod.py"
    script.write_text(example, "utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1
    assert "AssertionError: least privilege does not hold:" in run.stderr
    assert "`crm.contacts.write` (role `crm-contacts-editor`) is broader than needed" in run.stderr
    assert run.stderr.rstrip().endswith("FAILED (failures=1)")


def test_the_script_example_gates_the_prod_bindings(tmp_path: Path) -> None:
    run = _run(tmp_path, "gate.py")
    assert run.returncode == 1  # the example workspace's prod bindings carry deliberate flaws
    assert run.stdout.startswith("# connector-harness: least-privilege check\n")
    assert "crm-sync@prod fails: over-broad" in run.stderr.splitlines()
    assert "support-digest@prod fails: missing" in run.stderr.splitlines()


def test_import_harness_loads_each_name_on_first_use() -> None:
    code = (
        "import sys, harness\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('harness'))\n"
        "print(loaded)\n"
        "print([getattr(harness, name).__name__ for name in harness.__all__ if name != '__version__'])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    loaded, names = run.stdout.splitlines()
    assert loaded == "['harness']"
    assert names == str([name for name in harness.__all__ if name != "__version__"])


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'check'"):
        _ = harness.check  # type: ignore[attr-defined]  # the point of the test


def test_a_binding_gives_the_urls_of_http_services_only() -> None:
    """A PostgreSQL service has no URL (it once made `binding(...)` fail)."""
    workspace = harness.load_workspace(ROOT / "docs" / "examples" / "postgres")
    with harness.LiveSandbox(workspace) as sandbox:
        handle = sandbox.binding(workspace.bindings[0].name)
    assert handle.base_urls == {}
    assert handle.headers == {"Authorization": f"Bearer {handle.token}"}
    scenarios = harness.load_workspace(ROOT)
    with harness.HttpSandbox(scenarios) as served:
        urls = served.binding("crm-sync@dev").base_urls
    assert set(urls) == {s.name for s in scenarios.services if s.hosts}
    assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
