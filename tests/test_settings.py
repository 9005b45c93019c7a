from pathlib import Path

import pytest

from bot.settings import Settings

ENV_VARS = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "JITBOT_CONFIG",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No jitbot variable from the machine running the tests, and no stray .env file."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    settings = Settings()
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///jitbot.db"
    assert settings.jitbot_config == Path("jitbot.yml")


def test_reads_every_variable(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "sig")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_API_URL", "http://localhost:8888/api/")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/jitbot")
    monkeypatch.setenv("JITBOT_CONFIG", "/etc/jitbot/jitbot.yml")

    settings = Settings()

    assert settings.slack_bot_token == "xoxb-1"
    assert settings.slack_signing_secret == "sig"
    assert settings.slack_app_token == "xapp-1"
    assert settings.slack_api_url == "http://localhost:8888/api/"
    assert settings.database_url == "postgresql+psycopg://u:p@db/jitbot"
    assert settings.jitbot_config == Path("/etc/jitbot/jitbot.yml")


def test_names_are_case_insensitive(monkeypatch):
    monkeypatch.setenv("slack_bot_token", "xoxb-lower")
    assert Settings().slack_bot_token == "xoxb-lower"


def test_no_prefix_is_expected(monkeypatch):
    monkeypatch.setenv("JITBOT_SLACK_BOT_TOKEN", "xoxb-prefixed")
    assert Settings().slack_bot_token is None


def test_api_url_gets_a_trailing_slash(monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", "http://localhost:8888/api")
    assert Settings().slack_api_url == "http://localhost:8888/api/"
    assert Settings(slack_api_url="https://x.test/api").slack_api_url == "https://x.test/api/"


def test_no_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-file\n")
    assert Settings().slack_bot_token is None


def test_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = Settings()
    assert settings.slack_bot_token is None
    assert settings.database_url == "sqlite:///jitbot.db"
    assert settings.missing_for("socket") == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]


def test_secrets_stay_out_of_repr(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-secret")
    text = repr(Settings())
    assert "secret" not in text


def test_missing_for_socket_mode(monkeypatch):
    assert Settings().missing_for("socket") == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert Settings().missing_for("socket") == ["SLACK_APP_TOKEN"]
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    assert Settings().missing_for("socket") == []


def test_missing_for_http_mode(monkeypatch):
    assert Settings().missing_for("http") == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")  # not what HTTP mode needs
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "sig")
    assert Settings().missing_for("http") == ["SLACK_BOT_TOKEN"]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert Settings().missing_for("http") == []


def test_keyword_arguments_override_the_environment(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    assert Settings(slack_bot_token="xoxb-arg").slack_bot_token == "xoxb-arg"


def test_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode"):
        Settings().missing_for("websocket")  # type: ignore[arg-type]
