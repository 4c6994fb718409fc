# glossary-bot in a container: see docs/deploy.md.
#   docker build -t glossary-bot .
#   docker compose up -d            (compose.yaml: token from .env, volumes for content and state)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GLOSSARY_CONFIG=/etc/glossary-bot/config.toml

# An unprivileged user: the bot needs no more than its state directory.
RUN useradd --system --uid 10001 --user-group --home-dir /state --no-create-home glossary

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip install .

COPY deploy/config.docker.toml /etc/glossary-bot/config.toml
# The bundled glossary, for a first start; mount your own term files over /content.
COPY data/terms /content
RUN mkdir -p /state && chown glossary:glossary /state

USER glossary
WORKDIR /state
# /content: the term files (read-only is fine); /state: the database, backups, heartbeat.
VOLUME ["/content", "/state"]
# Docker stops with SIGTERM and waits 10 s: the bot answers what is in flight and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["glossary-bot", "health"]
CMD ["glossary-bot", "run"]
