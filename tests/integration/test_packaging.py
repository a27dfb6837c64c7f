"""A plain, non-editable install carries the content: build the wheel and load from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_content(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        timeout=120,
    )
    wheel = next((tmp_path / "dist").glob("mobility_coach-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "bot/_content/programs/hamstrings-lower-back.yaml" in names
    assert any(name.startswith("storage/migrations/versions/0001") for name in names)
    probe = (
        "from bot.config import Settings, PACKAGED_CONTENT\n"
        "from bot.core.content import load_library\n"
        "s = Settings()\n"
        "assert s.content_dir == PACKAGED_CONTENT, s.content_dir\n"
        "print(len(load_library(s.content_dir).exercises))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n" + probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 3
