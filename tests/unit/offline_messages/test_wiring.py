"""Settings and store choice: the environment decides, and running without MongoDB says so."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from offline_messages.adapters.mongo_store import MongoMessageStore
from offline_messages.adapters.sqlite_store import SqliteMessageStore
from offline_messages.main import build_store
from offline_messages.settings import OfflineMessagesSettings


def test_settings_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFLINE_MESSAGES_STORE_PATH", "/tmp/elsewhere.sqlite3")
    monkeypatch.setenv("INTERNAL_API_TOKEN", "a-shared-secret-of-some-length")
    settings = OfflineMessagesSettings()
    assert settings.store_path == Path("/tmp/elsewhere.sqlite3")
    assert settings.internal_api_token == "a-shared-secret-of-some-length"


async def test_without_mongo_url_messages_are_kept_in_the_embedded_store_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.delenv("MONGO_URL", raising=False)
    monkeypatch.setenv("OFFLINE_MESSAGES_STORE_PATH", str(tmp_path / "offline.sqlite3"))
    with caplog.at_level(logging.WARNING, logger="offline_messages.main"):
        store = build_store(OfflineMessagesSettings())
    assert isinstance(store, SqliteMessageStore)
    assert store.database.path == tmp_path / "offline.sqlite3"
    assert "MONGO_URL is not set" in caplog.text
    await store.close()


async def test_with_mongo_url_messages_go_to_mongodb() -> None:
    # The client connects lazily: building the store touches no server.
    settings = OfflineMessagesSettings.model_validate({"MONGO_URL": "mongodb://127.0.0.1:1"})
    store = build_store(settings)
    assert isinstance(store, MongoMessageStore)
    await store.close()
