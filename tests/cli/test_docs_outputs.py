"""docs/cli.md shows what the commands print today: scripts/cli_docs.py --check reruns them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_matches_the_commands() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE", "DJANGO"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_docs.py"), "--check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]


def test_the_check_sees_a_drift(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    # What changes between runs does not count; what the command prints does.
    moved = page.replace("evt_1QfailB7d", "evt_1QfailB7d").replace("line 105", "line 7")
    assert cli_docs.stable(moved) == cli_docs.stable(page)
    drifted = page.replace("✓ 4 change(s) applied", "✓ 4 changes applied")
    assert cli_docs.stable(drifted) != cli_docs.stable(page)
    assert "$ stripekit --help" in page and "│ demo " in page and "│ new " in page
