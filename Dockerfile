# syntax=docker/dockerfile:1
# mobility-coach: `coach run` serving Telegram and/or Discord, /healthz and /metrics on 8080.
#   docker build -t mobility-coach .
#   docker run -e COACH_TELEGRAM_TOKEN=... -v coach-data:/data -p 8080:8080 mobility-coach
# With PostgreSQL: docker compose up (see docker-compose.yml).

# --- builder: the project's wheel (content carried inside as bot/_content) and the wheels of
# every dependency, so the final stage installs offline and carries no build tools.
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY content ./content
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# --- final: the slim runtime, a non-root user, the database under the /data volume.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    MPLCONFIGDIR=/tmp/matplotlib \
    COACH_DATABASE_URL=sqlite+aiosqlite:////data/coach.sqlite3 \
    COACH_HTTP_PORT=8080 \
    COACH_LOG_JSON=true \
    COACH_LOG_LEVEL=INFO

RUN groupadd --system --gid 10001 coach \
    && useradd --system --uid 10001 --gid coach --home-dir /home/coach --create-home \
       --shell /usr/sbin/nologin coach \
    && mkdir -p /data \
    && chown coach:coach /data

# The wheels are mounted for this one step, not copied: they never become an image layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/mobility_coach-*.whl \
    && coach content check

VOLUME ["/data"]
WORKDIR /home/coach
USER 10001:10001
# 8080: /healthz and /metrics. 8443: the Telegram webhook, when COACH_TELEGRAM_WEBHOOK_URL is set.
EXPOSE 8080 8443

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('COACH_HTTP_PORT', '8080'), timeout=4)"]

CMD ["coach", "run"]
