"""The routing rules, pure: state in, events out; no I/O, no clock, ids passed in."""

from queue_manager.domain.decide import decide
from queue_manager.domain.evolve import apply
from queue_manager.domain.model import Operator, Site, Visitor
from queue_manager.domain.policy import RoutingPolicy

__all__ = ["Operator", "RoutingPolicy", "Site", "Visitor", "apply", "decide"]
