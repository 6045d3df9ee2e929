"""Shared fixtures. Every integration test talks to the real RabbitMQ at AMQP_URL."""

from __future__ import annotations

import uuid

import pytest

from tests.support.mongo import mongo_kind


def pytest_report_header() -> list[str]:
    return [f"store tests use: {mongo_kind()}"]


@pytest.fixture
def site_id() -> str:
    """A fresh site per test: tests share the broker, never each other's routing state."""
    return f"site-{uuid.uuid4().hex[:12]}"
