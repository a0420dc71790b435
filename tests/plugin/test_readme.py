"""The README's pytest example runs as written against the example workspace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)
    (example,) = [block for block in blocks if "assert_least_privilege()" in block]
    return "import requests\n\n" + example


def test_the_readme_example_passes_as_written(pytester: pytest.Pytester) -> None:
    for name in ("mocks", "scenarios"):
        shutil.copytree(ROOT / name, pytester.path / name)
    shutil.copy(ROOT / "pyproject.toml", pytester.path)  # the packs and pytest settings
    pytester.makepyfile(test_example=_readme_example())
    result = pytester.runpytest_subprocess("test_example.py", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_readme_example_fails_on_an_over_broad_binding(pytester: pytest.Pytester) -> None:
    for name in ("mocks", "scenarios"):
        shutil.copytree(ROOT / name, pytester.path / name)
    shutil.copy(ROOT / "pyproject.toml", pytester.path)
    example = _readme_example().replace('env="dev"', 'env="prod"')
    pytester.makepyfile(test_example=example)
    result = pytester.runpytest_subprocess("test_example.py", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*crm.contacts.write*"])
