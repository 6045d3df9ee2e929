"""Which code a service process started with: a fingerprint of the sources it imports.

A process reads the repository's Python sources when it starts (no bytecode is kept), so a file
edited while a long run is under way is what the processes (re)started after the edit run, and
the others run the code from before: the run then measured no single version. The first
partitioned fault run did so: one projector replica restarted 2 s after its store was edited and
served a record cache that the others' code no longer had (see the README, Reliability).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

IMPORTED = ("services", "shared")
"""The folders whose Python sources the services import (each service, and the shared code)."""


def source_fingerprint(root: Path = REPOSITORY) -> str:
    """A short hash of every Python source under `IMPORTED` (path and content)."""
    digest = hashlib.sha256()
    for folder in IMPORTED:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue  # a virtualenv or cache inside the tree, not the services' code
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def code_changes(began: str, starts: Mapping[str, Sequence[str]]) -> list[str]:
    """The process starts that ran other code than the run began with: one line each.

    `starts`: each process's name and the fingerprints of its starts, in order."""
    return [
        f"{name} start #{n}: sources {fingerprint}, the run began with {began}"
        for name, found in starts.items()
        for n, fingerprint in enumerate(found, start=1)
        if fingerprint != began
    ]
