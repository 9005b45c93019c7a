# jitbot container image.
#
#   docker build -t jitbot .
#   docker run --rm -v "$PWD/jitbot.yml:/app/jitbot.yml:ro" -v jitbot-data:/data \
#     -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN jitbot             # Socket Mode
#
# For HTTP mode pass SLACK_SIGNING_SECRET instead of SLACK_APP_TOKEN, publish port 3000
# and run `serve --http --port 3000 --metrics-port 9100 --metrics-host 0.0.0.0`.
# /metrics is on a port of its own, 9100, bound to every interface of the container: the
# container's network is the boundary, so publish 9100 only to the scraper's network
# (`-p 127.0.0.1:9100:9100`, a Kubernetes port the Service leaves out), never to Slack's.
# AWS credentials come the usual boto3 ways (task/instance role, AWS_* variables, ...).
# For PostgreSQL set DATABASE_URL=postgresql+psycopg://user:pass@host/db.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system jitbot \
    && useradd --system --gid jitbot --home-dir /app --no-create-home --shell /usr/sbin/nologin jitbot

WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY workflows ./workflows
COPY storage ./storage
RUN pip install --no-cache-dir ".[postgres]" \
    && rm -rf build ./*.egg-info

# SQLite by default, on a volume so the database outlives the container.
RUN mkdir -p /data && chown jitbot:jitbot /data
ENV DATABASE_URL=sqlite:////data/jitbot.db \
    JITBOT_CONFIG=/app/jitbot.yml
VOLUME /data

USER jitbot
EXPOSE 3000 9100
ENTRYPOINT ["jitbot"]
CMD ["serve", "--metrics-port", "9100", "--metrics-host", "0.0.0.0"]
