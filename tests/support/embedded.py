"""Where services started as processes keep their embedded stores: a test's own folder, never `.data/`."""

from __future__ import annotations

from pathlib import Path


def embedded_store_env(folder: Path) -> dict[str, str]:
    """The variables that put each service's embedded store (used without MONGO_URL) in `folder`."""
    return {
        "QUEUE_MANAGER_JOURNAL_PATH": str(folder / "queue-manager-journal.jsonl"),
        "SESSION_SERVICE_STORE_PATH": str(folder / "session-service.sqlite3"),
        "OFFLINE_MESSAGES_STORE_PATH": str(folder / "offline-messages.sqlite3"),
        "SUMMARY_PROJECTOR_STORE_PATH": str(folder / "summary-projector.sqlite3"),
    }
