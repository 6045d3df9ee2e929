"""The README's promises under faults: SIGKILLed services, a broker restart, a load throughout.

One run (see scenario.py) is shared by all the checks; each test reads one of its figures and
fails with the audited details. Figures are printed at the end of the session and written to
tests/faults/results/latest.md.
"""

from __future__ import annotations

import pytest

from tests.faults.figures import Figures
from tests.faults.scenario import SITES, VISITORS

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


def _details(figures: Figures, *names: str) -> str:
    return "\n".join(f"{n}: {item}" for n in names for item in figures.details.get(n, [])[:30])


def test_the_run_carried_a_real_load_through_every_fault(figures: Figures) -> None:
    assert len(figures.faults) == 5, figures.faults
    assert figures.visitors_asked >= VISITORS * 0.9, _details(figures, "gave up")
    assert figures.chats_started >= VISITORS / 2
    assert figures.offers_declined > 0 and figures.visitors_left > 0


def test_no_visitor_is_lost(figures: Figures) -> None:
    assert figures.lost == 0, _details(figures, "lost")


def test_no_visitor_is_offered_or_assigned_twice_at_once(figures: Figures) -> None:
    assert figures.double == 0, _details(figures, "double")


def test_no_operator_goes_over_capacity(figures: Figures) -> None:
    assert figures.over_capacity == 0, _details(figures, "over capacity")


def test_no_offer_stays_pending_long_after_its_timeout(figures: Figures) -> None:
    assert figures.stuck == 0, _details(figures, "stuck", "timeline")


def test_every_started_chat_can_be_ended(figures: Figures) -> None:
    assert figures.unended == 0, _details(figures, "unended")


def test_the_summary_equals_the_audited_truth(figures: Figures) -> None:
    assert figures.summary_mismatch == 0, _details(figures, "summary (full)", "summary (empty)")
    assert len(SITES) > 1


def test_offline_messages_left_are_all_listed(figures: Figures) -> None:
    assert figures.offline_lost == 0, _details(figures, "offline messages")


def test_every_console_knows_its_operators_presence(figures: Figures) -> None:
    assert figures.unaware_away == 0, _details(figures, "unaware away")


def test_the_gateway_answers_503_and_nothing_worse_during_faults(figures: Figures) -> None:
    assert figures.unexpected_errors == 0, _details(figures, "unexpected errors", "gave up")


def test_every_process_ran_the_code_the_run_began_with(figures: Figures) -> None:
    """A source edited during the run reaches only the processes (re)started after it."""
    assert figures.code_changed == 0, _details(figures, "code changed during the run")
