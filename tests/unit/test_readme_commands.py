"""Every command the README shows works in a fresh shell after `make run`: none needs uv on
PATH, each module it runs exists, each make target and script it names too. (The hand flow
itself runs against a running system in tests/e2e/test_make_run.py.)"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def bash_blocks(markdown: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", markdown, flags=re.DOTALL)


def commands() -> list[str]:
    """Each command line of the README's shell blocks, continuation lines joined."""
    lines = "\n".join(bash_blocks(README)).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_no_readme_command_needs_uv_on_path() -> None:
    inline = re.findall(r"`([^`]*)`", README)
    needing_uv = [c for c in commands() + inline if re.search(r"(^|[\s;&|(=])uv run\b", c)]
    assert not needing_uv, needing_uv


def test_every_module_the_readme_runs_exists() -> None:
    modules = set(re.findall(r"\.venv/bin/python -m ([\w.]+)", README))
    assert "examples.livechat_cli" in modules
    missing = [m for m in sorted(modules) if importlib.util.find_spec(m) is None]
    assert not missing, missing


def test_every_make_target_and_script_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", "\n".join(commands())))
    assert {"run", "test", "token"} <= named
    assert named <= targets, named - targets
    scripts = set(re.findall(r"bash (scripts/[\w./-]+)", README))
    assert scripts and all((ROOT / s).is_file() for s in scripts), scripts
