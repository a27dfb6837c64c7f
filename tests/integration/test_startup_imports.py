"""matplotlib is imported when a picture is drawn, not when the coach starts (real subprocesses).

It is most of a start-up's import time and memory, and most sessions never draw a chart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def python(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'start.sqlite3'}",
        # An empty picture folder: a cached picture would need no drawing, hence no import.
        "COACH_PICTURES_DIR": str(tmp_path / "pictures"),
    }
    for name in ("COACH_TELEGRAM_TOKEN", "COACH_DISCORD_TOKEN"):
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )


def imported(importtime_stderr: str) -> set[str]:
    """Module names from `python -X importtime` ("import time: self | cumulative | name")."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_building_the_coach_does_not_import_matplotlib(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "import bot.cli\n"
        "from bot.bootstrap import build_coach\n"
        "from bot.config import Settings\n"
        "async def main():\n"
        "    coach = await build_coach(Settings())\n"
        "    await coach.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n"
    )
    result = python(["-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_coach_chat_imports_matplotlib_only_to_draw(tmp_path: Path) -> None:
    onboarding = ["/start", "None of these", "None of these", "3", "6", "Skip", "Berlin", "07:30"]
    talk = python(
        ["-X", "importtime", "-m", "bot", "chat", "--user", "lazy"],
        tmp_path,
        stdin="\n".join([*onboarding, "/help"]) + "\n",
    )
    assert talk.returncode == 0, talk.stderr
    assert "You're all set" in talk.stdout
    modules = imported(talk.stderr)
    assert "sqlalchemy" in modules  # the listing is real
    assert not {m for m in modules if m.split(".")[0] == "matplotlib"}

    # /routine draws the exercise pictures the first time: now matplotlib comes in.
    routine = python(
        ["-X", "importtime", "-m", "bot", "chat", "--user", "lazy"], tmp_path, stdin="/routine\n"
    )
    assert routine.returncode == 0, routine.stderr
    assert "(picture: " in routine.stdout
    assert "matplotlib.figure" in imported(routine.stderr)

    # The same person checks in and asks for /progress: now a chart is drawn, so it imports.
    chart = python(
        ["-X", "importtime", "-m", "bot", "chat", "--user", "lazy"],
        tmp_path,
        stdin="/checkin 2 yes 7\n/progress\n",
    )
    assert chart.returncode == 0, chart.stderr
    assert "(picture saved to" in chart.stdout
    assert "matplotlib.figure" in imported(chart.stderr)
