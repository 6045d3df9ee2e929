"""The fault suite's figures: the checks (must be 0) and what happened, one line each."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Figures:
    lost: int = 0
    double: int = 0
    over_capacity: int = 0
    stuck: int = 0
    unended: int = 0
    summary_mismatch: int = 0
    offline_lost: int = 0
    unaware_away: int = 0
    unexpected_errors: int = 0
    code_changed: int = 0
    """Process starts that imported other sources than the run began with (an edit during the
    run): such a run measured no single version of the code."""
    # what happened, for the reader
    visitors_asked: int = 0
    visitors_left: int = 0
    chats_started: int = 0
    chats_ended: int = 0
    offers: int = 0
    offers_unanswered_before_restart: int = 0
    offers_declined: int = 0
    offers_timed_out: int = 0
    invitations_unanswered: int = 0
    offers_never_on_socket: int = 0
    back_online: int = 0
    resyncs: int = 0
    retried_503: int = 0
    transport_errors: int = 0
    socket_reconnects: int = 0
    events_audited: int = 0
    events_redelivered: int = 0
    seconds: float = 0.0
    # partitioned runs: partitions of a killed replica taken over by another, and how fast
    failovers: int = 0
    failovers_missing: int = 0
    failover_p50_seconds: float = 0.0
    failover_p99_seconds: float = 0.0
    projector_applied_again: int = 0
    """Projector batches applied again because their site changed since it was read."""
    faults: list[str] = field(default_factory=list)
    details: dict[str, list[str]] = field(default_factory=dict)

    CHECKS = ("lost", "double", "over_capacity", "stuck", "unended", "summary_mismatch")

    ASSERTED = (*CHECKS, "offline_lost", "unaware_away", "unexpected_errors", "code_changed")

    def all_well(self) -> bool:
        failover_in_time = self.failovers_missing == 0 and self.failover_p99_seconds <= 5.0
        return failover_in_time and all(getattr(self, name) == 0 for name in self.ASSERTED)

    def line(self) -> str:
        return "faults: " + " ".join(f"{name}={getattr(self, name)}" for name in self.CHECKS)

    def lines(self) -> list[str]:
        extra = [k for k in asdict(self) if k not in (*self.CHECKS, "faults", "details")]
        return [self.line(), *(f"faults: {k}={getattr(self, k)}" for k in extra)]
