import json

import pytest

from chalicelib import config


@pytest.fixture
def env(monkeypatch):
    def apply(**values):
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        config.get_settings.cache_clear()

    return apply


def test_settings_from_the_environment(env):
    env(TABLE_NAME="t-one")
    settings = config.get_settings()
    assert settings.table_name == "t-one"
    assert settings.stage == "test"
    assert settings.verify_tokens is True


def test_missing_settings_fail_fast_naming_each(env):
    env(TABLE_NAME=None, MEDIA_BUCKET=None)
    with pytest.raises(config.SettingsError) as raised:
        config.get_settings()
    assert "TABLE_NAME" in str(raised.value) and "MEDIA_BUCKET" in str(raised.value)


def test_local_stage_requires_a_loopback_endpoint(env):
    env(ECHOMATE_STAGE="local", AWS_ENDPOINT_URL=None)
    with pytest.raises(config.SettingsError, match=r"AWS_ENDPOINT_URL is required"):
        config.get_settings()
    env(AWS_ENDPOINT_URL="https://dynamodb.example.com")
    with pytest.raises(config.SettingsError, match=r"127\.0\.0\.1"):
        config.get_settings()
    env(AWS_ENDPOINT_URL="http://127.0.0.1:5000")
    assert config.get_settings().aws_endpoint_url == "http://127.0.0.1:5000"


def test_debug_is_refused_outside_the_local_stages(env):
    env(ECHOMATE_STAGE="prod", ECHOMATE_DEBUG="true")
    with pytest.raises(config.SettingsError, match="ECHOMATE_DEBUG"):
        config.get_settings()


def test_token_verification_needs_an_issuer(env):
    env(VERIFY_TOKENS_IN_APP="true", COGNITO_ISSUER=None)
    with pytest.raises(config.SettingsError, match="COGNITO_ISSUER"):
        config.get_settings()


def test_a_cursor_secret_is_required(env):
    env(CURSOR_SECRET=None, CURSOR_SECRET_ARN=None)
    with pytest.raises(config.SettingsError, match="CURSOR_SECRET"):
        config.get_settings()
    env(CURSOR_SECRET="short")
    with pytest.raises(config.SettingsError, match="16 characters"):
        config.get_settings()


def test_outputs_file_fills_what_the_environment_lacks(env, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"TABLE_NAME": "from-file", "MEDIA_BUCKET": "bucket-file"}))
    env(STACK_OUTPUTS_FILE=str(outputs), TABLE_NAME=None, MEDIA_BUCKET="bucket-env")
    settings = config.get_settings()
    assert settings.table_name == "from-file"
    assert settings.media_bucket == "bucket-env"  # the environment wins
    assert config.startup_value("TABLE_NAME") == "from-file"


def test_missing_outputs_file_says_how_to_make_it(env, tmp_path):
    env(STACK_OUTPUTS_FILE=str(tmp_path / "absent.json"))
    with pytest.raises(config.SettingsError, match="make dev"):
        config.get_settings()


def test_jwks_location_defaults_to_the_issuer(env):
    env(COGNITO_ISSUER="https://issuer.example/pool", COGNITO_JWKS_URL=None)
    assert (
        config.get_settings().jwks_location == "https://issuer.example/pool/.well-known/jwks.json"
    )
