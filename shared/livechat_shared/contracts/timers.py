"""A timer a rule starts: a command that comes back to its own service after a delay.

Rules return timers as values beside their events; a handler only schedules what it is given
(`Publisher.publish_delayed`), and a re-arm after a start derives them from stored state through
the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat_shared.contracts.commands import Command

REARM_MINIMUM_SECONDS = 1.0
"""A timer re-armed after its time passed still waits this long: the service finishes starting
(and its consumer runs) before the late command arrives."""


@dataclass(frozen=True)
class Timer:
    command: Command
    delay_seconds: float
    """The rule's full delay: which timer queue the command waits in."""
    due_in_seconds: float | None = None
    """For a timer re-armed from stored state: what is left of the delay."""

    @classmethod
    def rearmed(cls, command: Command, delay_seconds: float, left_seconds: float) -> Timer:
        return cls(command, delay_seconds, max(REARM_MINIMUM_SECONDS, left_seconds))
