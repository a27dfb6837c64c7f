"""The `coach` command as a newcomer and an operator use it (real subprocesses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import SOURCE_CONTENT

COACH = [sys.executable, "-m", "bot"]


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "COACH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        **env,
    }
    for name in ("COACH_TELEGRAM_TOKEN", "COACH_DISCORD_TOKEN"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run(
        COACH + args,
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )


def test_scripted_console_conversation(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/start",
            "None of these",
            "None of these",
            "3",
            "6",
            "Carrying shopping",  # an activity in their own words, then its rating
            "4",
            "Done",
            "Berlin",
            "07:30",
            "/routine",
            "1",
            "2",
            "No",
            "Yes",
            "7",
            "/progress",
        ]
    )
    result = run(["chat", "--user", "newcomer"], tmp_path, stdin=script + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Your activities: Carrying shopping 4/10." in out
    assert "You're all set" in out
    assert "[1] Done - check in" in out
    assert "Logged: pain 2/10, back neutral: yes, deadlift comfort: 7" in out
    assert "Sessions: 1 in all" in out


def test_content_check_lists_problems(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(SOURCE_CONTENT, broken)
    path = broken / "exercises" / "glute-bridge.yaml"
    path.write_text(path.read_text().replace("sets: 2", "sets: 99", 1))
    result = run(["content", "check", str(broken)], tmp_path)
    assert result.returncode == 1
    assert "glute-bridge.yaml" in result.stdout and "dose.sets" in result.stdout

    good = run(["content", "check", str(SOURCE_CONTENT)], tmp_path)
    assert good.returncode == 0 and "valid" in good.stdout

    # The coach refuses to start on it, with the same problem named.
    chat = run(["chat"], tmp_path, stdin="/help\n", COACH_CONTENT_DIR=str(broken))
    assert chat.returncode == 1
    assert "glute-bridge.yaml" in chat.stderr and "dose.sets" in chat.stderr


def test_run_without_tokens_points_to_chat(tmp_path: Path) -> None:
    result = run(["run"], tmp_path)
    assert result.returncode == 1
    assert "coach chat" in result.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout
