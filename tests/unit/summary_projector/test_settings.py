"""SummaryProjectorSettings from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from summary_projector.settings import SummaryProjectorSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGO_URL", raising=False)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
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
