"""SummaryProjectorSettings from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from summary_projector.settings import SummaryProjectorSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SUMMARY_PROJECTOR_DEFAULT_MAX_CHATS", "QUEUE_MANAGER_MAX_CHATS", "MONGO_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_match_the_queue_manager() -> None:
    assert SummaryProjectorSettings().default_max_chats == 3


def test_the_default_maximum_follows_the_queue_managers_unless_set_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUEUE_MANAGER_MAX_CHATS", "5")
    assert SummaryProjectorSettings().default_max_chats == 5
    monkeypatch.setenv("SUMMARY_PROJECTOR_DEFAULT_MAX_CHATS", "4")
    assert SummaryProjectorSettings().default_max_chats == 4


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUMMARY_PROJECTOR_DEFAULT_MAX_CHATS", "0"),
        ("SUMMARY_PROJECTOR_STREAM_POLL_SECONDS", "0"),
        ("SUMMARY_PROJECTOR_STREAM_MAX_SECONDS", "0"),
    ],
)
def test_an_invalid_value_stops_the_service_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    field = variable.removeprefix("SUMMARY_PROJECTOR_")
    with pytest.raises(ValidationError, match=f"(?i){field}"):
        SummaryProjectorSettings()
