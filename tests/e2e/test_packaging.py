"""The wheel holds the package data the harness reads at run time: the JSON schemas and the
HTML report's template and CSS."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_the_schemas_and_the_html_template(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(tmp_path)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("connector_harness-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {
        path.relative_to(ROOT).as_posix()
        for directory in ("harness/schemas", "harness/render/templates")
        for path in (ROOT / directory).iterdir()
    }
    assert data == {
        "harness/render/templates/report.css",
        "harness/render/templates/report.html",
        *(
            f"harness/schemas/{kind}.schema.json"
            for kind in ("baseline", "config", "policy", "report", "service", "shard")
        ),
    }
    assert data <= names
