"""Capacity is the queue manager's rule: the projector shows what it reports, never recounts it.

A second copy of the rule (a default maximum in the projector's settings, a load count in its
domain) drifted once already; these guard that none comes back. The import-linter independence
contract already keeps the projector from importing the queue manager's policy.
"""

from __future__ import annotations

import re
from pathlib import Path

import summary_projector
from summary_projector.settings import SummaryProjectorSettings

ROUTING_WORDS = re.compile(r"max_chats|max_calls|capacity|load|slots", re.IGNORECASE)
RECOUNT = re.compile(r"default_max|_chat_load|max_calls|calls_block|RoutingPolicy")


def test_the_projector_has_no_setting_for_a_routing_maximum() -> None:
    fields = set(SummaryProjectorSettings.model_fields)
    assert not {name for name in fields if ROUTING_WORDS.search(name)}, fields


def test_no_projector_module_recounts_capacity() -> None:
    package = Path(summary_projector.__file__).parent
    offenders = {
        str(path.relative_to(package)): RECOUNT.findall(path.read_text())
        for path in package.rglob("*.py")
    }
    assert {name: words for name, words in offenders.items() if words} == {}
