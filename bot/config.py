"""Settings from COACH_* environment variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.pictures.store import DEFAULT_PICTURES

PACKAGED_CONTENT = Path(__file__).resolve().parent / "_content"
SOURCE_CONTENT = Path(__file__).resolve().parent.parent / "content"
# Charts show pain scores: a folder only this user can read, emptied of a person on /delete.
DEFAULT_CHARTS = Path(user_cache_dir("mobility-coach", appauthor=False)) / "charts"


def default_database_url() -> str:
    folder = Path(user_data_dir("mobility-coach", appauthor=False))
    return f"sqlite+aiosqlite:///{folder / 'coach.sqlite3'}"


def default_content_dir() -> Path:
    # A wheel carries the content inside the package; a source checkout has it beside `bot/`.
    return PACKAGED_CONTENT if PACKAGED_CONTENT.is_dir() else SOURCE_CONTENT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COACH_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    database_url: str = Field(default_factory=default_database_url)
    content_dir: Path = Field(default_factory=default_content_dir)
    charts_dir: Path = DEFAULT_CHARTS
    pictures_dir: Path = DEFAULT_PICTURES  # exercise drawings, cached per content version

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_listen: str = "0.0.0.0"
    telegram_port: int = 8443
    # Scheduled reminders go out as Telegram paid broadcasts (up to 1000/s; the bot's Stars pay
    # for them). Replies to what a person just did are never paid. See the README.
    telegram_paid_broadcast: bool = False

    discord_token: SecretStr | None = None

    http_port: int | None = None
    log_json: bool = False
    log_level: str = "INFO"

    tick_seconds: float = 30.0
    reminder_grace_minutes: int = 120
