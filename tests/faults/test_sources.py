"""The fault runs' check that every process ran the code the run began with (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sources import code_changes, source_fingerprint

pytestmark = pytest.mark.faults


def _tree(root: Path) -> Path:
    for path, text in {
        "services/summary-projector/summary_projector/adapters/sqlite_store.py": "cached = 1\n",
        "shared/livechat_shared/runtime/embedded.py": "shared = True\n",
        "services/summary-projector/.venv/lib/site.py": "installed = 1\n",
        "tests/faults/scenario.py": "run = 1\n",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_an_edited_service_or_shared_source_changes_the_fingerprint(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    began = source_fingerprint(root)
    store = root / "services/summary-projector/summary_projector/adapters/sqlite_store.py"
    store.write_text("cached = 2\n")
    edited = source_fingerprint(root)
    assert edited != began
    (root / "shared/livechat_shared/runtime/embedded.py").write_text("shared = False\n")
    assert source_fingerprint(root) not in (began, edited)


def test_what_the_services_do_not_import_leaves_the_fingerprint(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    began = source_fingerprint(root)
    (root / "tests/faults/scenario.py").write_text("run = 2\n")
    (root / "services/summary-projector/.venv/lib/site.py").write_text("installed = 2\n")
    (root / "services/summary-projector/README.md").write_text("words\n")
    assert source_fingerprint(root) == began


def test_only_the_starts_after_an_edit_are_listed() -> None:
    starts = {
        "summary_projector_0": ["aaa", "bbb"],  # restarted after the edit
        "summary_projector_1": ["aaa", "aaa"],
        "gateway": ["aaa"],
    }
    assert code_changes("aaa", starts) == [
        "summary_projector_0 start #2: sources bbb, the run began with aaa"
    ]
    assert code_changes("aaa", {"gateway": ["aaa"]}) == []
