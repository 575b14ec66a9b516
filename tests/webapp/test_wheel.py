"""The wheel carries the built web app, so `pip install taskwell` alone serves the UI.

Builds a wheel from a copy of the source tree (the tree itself gets no build/ or egg-info),
checks that every file of webapp/dist but the hidden ones is inside, installs it (without
dependencies) into a folder of its own and checks that the installed package finds its build.
Needs the built app (`cd frontend && npm ci && npm run build`; .ci/run builds it first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from taskwell.webapp import PACKAGED_DIST

ROOT = Path(__file__).resolve().parents[2]


def _built_files() -> set[str]:
    return {
        path.relative_to(PACKAGED_DIST).as_posix()
        for path in PACKAGED_DIST.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(PACKAGED_DIST).parts)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (PACKAGED_DIST / "index.html").is_file():
        pytest.skip(f"the web app is not built in {PACKAGED_DIST} (cd frontend && npm run build)")
    tree = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "src",
        tree / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = out.glob("taskwell-*.whl")
    return built


def test_the_wheel_carries_every_file_of_the_build(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "taskwell/webapp/dist/"
    packaged = {name.removeprefix(prefix) for name in names if name.startswith(prefix)}

    assert "index.html" in packaged
    assert any(name.startswith("assets/") and name.endswith(".js") for name in packaged)
    assert packaged == _built_files()
    assert not any("/." in f"/{name}" for name in packaged)  # no .vite/, no .build-stamp


def test_the_installed_package_serves_its_own_build(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = (
        "from taskwell.webapp import PACKAGED_DIST as d; "
        "from taskwell.webapp.static import StaticSite; "
        "print(d); print(StaticSite(d, compress_min_bytes=None).is_built)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(target)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    where, built = shown.stdout.split()
    assert Path(where).is_relative_to(target)
    assert built == "True"
