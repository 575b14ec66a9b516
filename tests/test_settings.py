"""Production refuses unsafe configuration and names the setting to fix."""

from __future__ import annotations

import pytest

from taskwell.settings import BUILTIN_SECRET, Settings, UnsafeConfiguration

GOOD_SECRET = "x" * 48


def test_development_runs_with_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TASKWELL_ENV", "TASKWELL_DATABASE_URL", "TASKWELL_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url == "sqlite+aiosqlite:///taskwell.db"
    assert settings.migrates_on_start


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"secret_key": BUILTIN_SECRET}, "TASKWELL_SECRET_KEY"),
        ({"secret_key": "short-secret"}, "TASKWELL_SECRET_KEY"),
        ({"secret_key": GOOD_SECRET, "debug": True}, "TASKWELL_DEBUG"),
        ({"secret_key": GOOD_SECRET, "cookie_secure": False}, "TASKWELL_COOKIE_SECURE"),
        ({"secret_key": GOOD_SECRET, "auto_migrate": True}, "TASKWELL_AUTO_MIGRATE"),
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, object], named: str) -> None:
    with pytest.raises(UnsafeConfiguration, match=named):
        Settings(env="production", **overrides)


def test_production_with_safe_settings_starts() -> None:
    settings = Settings(env="production", secret_key=GOOD_SECRET)
    assert not settings.migrates_on_start


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWELL_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("TASKWELL_DATABASE_URL", "postgresql+asyncpg://db/x")
    settings = Settings()
    assert settings.max_body_bytes == 2048
    assert settings.database_url == "postgresql+asyncpg://db/x"


def test_previous_jwt_keys_are_parsed() -> None:
    settings = Settings(jwt_key_id="k2", jwt_previous_keys="k1=old-secret, bad, k0 = older")
    assert list(settings.jwt_keys) == ["k2", "k1", "k0"]
    assert settings.jwt_keys["k0"] == "older"


def test_replica_urls_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKWELL_DATABASE_URL", "postgresql+asyncpg://app@db:5432/taskwell")
    monkeypatch.setenv(
        "TASKWELL_DATABASE_REPLICA_URLS",
        " postgresql+asyncpg://app@r1:5432/taskwell, postgresql://app@r2:5432/taskwell ,",
    )
    assert Settings().replica_urls == (
        "postgresql+asyncpg://app@r1:5432/taskwell",
        "postgresql://app@r2:5432/taskwell",
    )


@pytest.mark.parametrize(
    ("primary", "replicas", "named"),
    [
        ("sqlite+aiosqlite:///t.db", "postgresql://app@r1/taskwell", "TASKWELL_DATABASE_URL"),
        (
            "postgresql+asyncpg://app@db/taskwell",
            "mysql://app@r1/taskwell",
            "TASKWELL_DATABASE_REPLICA_URLS",
        ),
    ],
)
def test_replicas_need_postgres(primary: str, replicas: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Settings(database_url=primary, database_replica_urls=replicas)
