"""Syncing slash commands only when they changed: a hash of what Discord receives, kept per
application in a small state file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from discord import app_commands
from platformdirs import user_data_dir


def tree_fingerprint(tree: app_commands.CommandTree[Any]) -> str:
    """A hash of the JSON Discord receives on a sync: equal hashes mean nothing to sync."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    payload.sort(key=lambda item: str(item.get("name")))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def default_sync_state_path() -> Path:
    return Path(user_data_dir("mobility-coach", appauthor=False)) / "discord-commands.json"


def read_sync_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items()}


def write_sync_state(path: Path, application_id: int, fingerprint: str) -> None:
    state = read_sync_state(path)
    state[str(application_id)] = fingerprint
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    temporary.replace(path)
