# jitbot container image: production (the default target) and a demo (--target demo).
#
#   docker build -t jitbot .
#   docker run --rm --read-only --tmpfs /tmp -p 3000:3000 -v jitbot-data:/data \
#     -v "$PWD/jitbot.yml:/app/jitbot.yml:ro" -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET jitbot
#
# The default command is production's HTTP mode, `serve --http --port 3000`: it needs
# SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, Slack's request URL is
# https://<host>/slack/events, and the HEALTHCHECK asks /healthz on 3000. Socket Mode (no
# public URL) is the same command without --http, and needs SLACK_BOT_TOKEN and
# SLACK_APP_TOKEN instead:  docker run ... -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN jitbot serve
# (its /healthz is on 3000 too). `--http` decides the mode, not which secrets are set.
#
# /metrics is on a port of its own, 9100, bound to every interface of the container: the
# container's network is the boundary, so publish 9100 only to the scraper's network
# (`-p 127.0.0.1:9100:9100`, a Kubernetes port the Service leaves out), never to Slack's.
# AWS credentials come the usual boto3 ways (task/instance role, AWS_* variables, ...).
# The database is SQLite in the /data volume unless DATABASE_URL says otherwise
# (postgresql+psycopg://user:pass@host/db). It runs as uid:gid 10001:10001 and writes
# only /data and /tmp, so `--read-only --tmpfs /tmp` works; a /data it cannot write is
# refused at start in one line naming the path and the uid.
#
#   docker build --target demo -t jitbot-demo . && docker run --rm jitbot-demo
# runs `jitbot demo`: the whole lifecycle on a fake Slack and moto, no credentials.
#
# Dependencies are installed from requirements.lock (pip-compile; README "Running it for
# real"), then the wheel built from this tree without its own dependency resolution.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml README.md requirements.lock requirements-demo.lock ./
COPY bot ./bot
COPY workflows ./workflows
COPY storage ./storage
COPY sim ./sim
# The venvs get the locked dependencies, then the wheel with --no-deps: what is installed
# is exactly the lock. pip and setuptools are removed from them afterwards.
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/jitbot \
    && /opt/jitbot/bin/python -m pip install --no-deps -r requirements.lock \
    && /opt/jitbot/bin/python -m pip install --no-deps /wheels/jitbot-*.whl \
    && /opt/jitbot/bin/python -m pip uninstall --yes pip setuptools \
    && python -m venv /opt/jitbot-demo \
    && /opt/jitbot-demo/bin/python -m pip install --no-deps -r requirements-demo.lock \
    && /opt/jitbot-demo/bin/python -m pip install --no-deps /wheels/jitbot-*.whl \
    && /opt/jitbot-demo/bin/python -m pip uninstall --yes pip setuptools

FROM python:3.11-slim AS base
# The base image's own pip, setuptools and wheel go too: nothing installs at run time.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && groupadd --gid 10001 jitbot \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin jitbot \
    && mkdir -p /data /app \
    && chown 10001:10001 /data
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/jitbot.db \
    JITBOT_CONFIG=/app/jitbot.yml
WORKDIR /app
VOLUME /data
USER 10001:10001

FROM base AS demo
COPY --from=build /opt/jitbot-demo /opt/jitbot-demo
ENV PATH=/opt/jitbot-demo/bin:$PATH
ENTRYPOINT ["jitbot"]
CMD ["demo"]

FROM base AS production
COPY --from=build /opt/jitbot /opt/jitbot
ENV PATH=/opt/jitbot/bin:$PATH
EXPOSE 3000 9100
# urllib raises on a non-2xx answer (503: database or AWS failed) and on no answer.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
ENTRYPOINT ["jitbot"]
CMD ["serve", "--http", "--port", "3000", "--metrics-port", "9100", "--metrics-host", "0.0.0.0"]
