#!/usr/bin/env bash
# Sets up the coach and opens a chat with it in this terminal. No tokens needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/coach chat "$@"
