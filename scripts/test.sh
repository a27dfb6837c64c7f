#!/usr/bin/env bash
# Sets up the coach and runs every check: lint, format, types, and all tests on SQLite and on
# the local PostgreSQL (COACH_TEST_POSTGRES_DSN, default postgresql://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check bot storage tests bench
.venv/bin/ruff format --check bot storage tests bench
.venv/bin/mypy
exec .venv/bin/pytest "$@"
