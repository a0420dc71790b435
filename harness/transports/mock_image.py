"""The harness's own mock-server image, built locally (FROM scratch, no registry).

The image holds the harness source and the directory links a Debian-style root needs;
the Python runtime and the harness's dependencies are mounted read-only from the host
when a container starts (`runtime_mounts`). Its tag is a hash of the harness source, so
a changed harness builds a new image and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import io
import sys
import sysconfig
import tarfile
from pathlib import Path
from typing import Any

from harness.errors import SandboxError
from harness.transports.docker_engine import connect, first_line
from harness.transports.reaping import LABEL

MOCK_IMAGE_REPOSITORY = "connector-harness/mock-server"
IMAGE_SOURCE = "/opt/connector-harness"  # where the mock-server image holds the harness
# the files of the harness the image holds: its source, schemas and bundled packs (.yaml)
PACKAGE_SUFFIXES = (".py", ".json", ".typed", ".yaml")

_PACKAGE = Path(__file__).resolve().parents[1]


def mock_image_tag() -> str:
    """The tag of the mock-server image for this harness source (its content hash)."""
    digest = hashlib.sha256()
    for path in sorted(_package_files()):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return f"{MOCK_IMAGE_REPOSITORY}:{digest.hexdigest()[:12]}"


def _package_files() -> list[Path]:
    return [
        p
        for p in _PACKAGE.rglob("*")
        if p.is_file() and p.suffix in PACKAGE_SUFFIXES and "__pycache__" not in p.parts
    ]


def build_mock_image(client: Any = None) -> str:
    """Build the mock-server image locally (FROM scratch, no registry); return its tag.

    The image holds the harness source and the directory links a Debian-style root
    needs; the Python runtime and the harness's dependencies are mounted read-only
    from the host when a container starts (`runtime_mounts`).
    """
    client = connect(client)
    tag = mock_image_tag()
    import docker.errors

    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        _add_file(tar, "Dockerfile", b"FROM scratch\nCOPY rootfs/ /\n")
        for directory in ("rootfs", "rootfs/usr", "rootfs/etc", "rootfs/tmp", "rootfs/opt"):
            _add_directory(tar, directory, 0o1777 if directory.endswith("tmp") else 0o755)
        for name in ("lib", "lib64", "bin", "sbin"):
            _add_link(tar, f"rootfs/{name}", f"usr/{name}")
        for path in sorted(_package_files()):
            relative = path.relative_to(_PACKAGE.parent)
            _add_file(tar, f"rootfs{IMAGE_SOURCE}/{relative}", path.read_bytes())
    context.seek(0)
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            rm=True,
            labels={LABEL: "mock-server-image"},
        )
    except docker.errors.DockerException as err:
        raise SandboxError(f"building the mock-server image failed: {first_line(err)}") from err
    return tag


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_directory(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_link(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def runtime_mounts() -> dict[str, str]:
    """Host paths the mock-server image needs read-only: /usr, the Python runtime, the
    installed dependencies (host path -> the same container path)."""
    wanted = ["/usr", sys.base_prefix, sysconfig.get_paths()["purelib"], "/etc/ld.so.cache"]
    mounts: dict[str, str] = {}
    for path in wanted:
        resolved = str(Path(path).resolve())
        if not Path(resolved).exists():
            continue
        if any(resolved == m or resolved.startswith(m.rstrip("/") + "/") for m in mounts):
            continue
        mounts[resolved] = resolved
    return mounts


def python_in_image() -> str:
    return str(Path(sys.base_prefix).resolve() / "bin" / f"python{sys.version_info[0]}")
