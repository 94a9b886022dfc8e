"""Run the commands of docs/cli.md and write their real output into it (``--check``: compare).

Each ``console`` block of the page holds ``$ stripekit ...`` lines; this script
runs them in order, as a user would in a shop's folder, with the page's own
``.env`` and ``products.toml`` blocks, against the emulator, and puts what they
printed under each. A shop's webhook route answers ``webhooks send``; three
events are on record before the first command (one processed, one failed twice,
one unhandled). ``tests/cli/test_docs_outputs.py`` runs it with ``--check``, so
the page cannot drift from the command.

Usage: python scripts/cli_docs.py [--check]
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
WIDTH = 96  # the terminal the outputs are shown in
SHOW_LINES = 24  # `events show`: the record, the error and the start of the payload
DOC_EMULATOR = "http://127.0.0.1:12111"
DOC_SHOP = "http://127.0.0.1:8000"
# Where the stripekit package is (a checkout's src/, or site-packages), as tracebacks say it.
_PACKAGES = str(Path(__import__("stripekit").__file__).parent.parent)
_BLOCK = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)

SHOP = textwrap.dedent(
    '''
    """The shop the outputs come from: a failing dunning handler, a fulfilment one."""
    from stripekit import StripeKit, WebhookRegistry

    webhooks = WebhookRegistry()
    mailer_up = False


    @webhooks.on("checkout.session.completed")
    def fulfil(event):
        pass


    @webhooks.on("invoice.payment_failed")
    def dunning(event):
        if not mailer_up:
            raise RuntimeError("the mailer is down")


    kit = StripeKit(webhooks=webhooks)
    '''
)


def blocks(text: str, lang: str) -> list[re.Match[str]]:
    return [m for m in _BLOCK.finditer(text) if m["lang"] == lang]


def _change_price(folder: Path) -> None:
    products = folder / "products.toml"
    products.write_text(products.read_text().replace("amount = 1500", "amount = 1900"))


# What happens before a command whose comment says so.
BEFORE: dict[str, Callable[[Path], None]] = {
    "after changing pro_monthly to 1900": _change_price,
}


@contextmanager
def shop_folder(text: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """The shop's folder, its emulator and its webhook route; the command's environment."""
    from stripekit._serving import free_port, serve_in_thread
    from stripekit.emulator import run_emulator
    from stripekit.testing import signed_event

    env_block, toml = blocks(text, "text")[0]["body"], blocks(text, "toml")[0]["body"]
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cli-docs-")))
        emulator = stack.enter_context(run_emulator("127.0.0.1", free_port()))
        (folder / ".env").write_text(env_block.replace(DOC_EMULATOR, emulator.api_base))
        (folder / "products.toml").write_text(toml)
        (folder / "shop.py").write_text(SHOP)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE", "DJANGO"))}
        env.update(COLUMNS=str(WIDTH), TERM="dumb", NO_COLOR="1", PYTHONPATH=str(folder))
        # The shop, as its web process runs it: the .env's settings, its webhook route.
        saved = dict(os.environ)
        os.chdir(folder)
        os.environ.update({k: v for k, v in env.items() if k in ("PYTHONPATH",)})
        from dotenv import dotenv_values

        os.environ.update({k: v for k, v in dotenv_values(folder / ".env").items() if v})
        sys.path.insert(0, str(folder))
        import shop  # type: ignore[import-not-found]
        from fastapi import FastAPI

        from stripekit_fastapi import stripekit_router

        app = FastAPI()
        app.include_router(stripekit_router(shop.kit), prefix="/stripe")
        url = stack.enter_context(serve_in_thread(app, "127.0.0.1", free_port(), what="shop"))
        secret = os.environ["STRIPE_WEBHOOK_SECRET"]
        for event_type, event_id in [
            ("checkout.session.completed", "evt_1QpaidXk2"),
            ("invoice.payment_failed", "evt_1QfailB7d"),
            ("invoice.payment_failed", "evt_1QfailB7d"),
            ("customer.created", "evt_1QcustA9z"),
        ]:
            body, headers = signed_event(event_type, secret=secret, id=event_id)
            shop.kit.handle_webhook(body, headers)
        env["_SHOP_URL"], env["_EMULATOR_URL"] = url, emulator.api_base
        try:
            yield folder, env
        finally:
            shop.kit.store.close()
            os.environ.clear()
            os.environ.update(saved)
            os.chdir(ROOT)


_CARETS = re.compile(r"\s*[~^]+\s*")
"""A traceback's underline of the call it points at."""


def run_command(line: str, folder: Path, env: dict[str, str]) -> str:
    """One ``$ stripekit ...`` line's output, as the page shows it."""
    command, _, comment = line.partition("#")
    if comment.strip() in BEFORE:
        BEFORE[comment.strip()](folder)
    args = shlex.split(command.replace(DOC_SHOP, env["_SHOP_URL"]))
    assert args[0] == "stripekit", line
    done = subprocess.run(
        [sys.executable, "-m", "stripekit.cli", *args[1:]],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    out = out.replace(env["_SHOP_URL"], DOC_SHOP).replace(env["_EMULATOR_URL"], DOC_EMULATOR)
    out = out.replace(str(folder), "/home/ada/shop").replace(_PACKAGES, "/path/to/src")
    # Python 3.13's tracebacks underline more calls (~~~^^^) than 3.11's: not shown, so the
    # page is the same whichever Python makes it.
    lines = [row.rstrip() for row in out.splitlines() if not _CARETS.fullmatch(row)]
    if args[1:3] == ["events", "show"] and len(lines) > SHOW_LINES:
        lines = [*lines[:SHOW_LINES], "..."]
    return "\n".join(lines)


def render(text: str) -> str:
    """The page with every console block's outputs made anew."""
    with shop_folder(text) as (folder, env):
        pieces, last = [], 0
        for block in blocks(text, "console"):
            commands = [row for row in block["body"].splitlines() if row.startswith("$ ")]
            body = "\n\n".join(f"{c}\n{run_command(c[2:], folder, env)}" for c in commands)
            pieces += [text[last : block.start("body")], body.rstrip() + "\n"]
            last = block.end("body")
        return "".join([*pieces, text[last:]])


_VOLATILE = [
    (re.compile(r"\b(evt|prod|price|cs_test|in|cus|sub|pi|ch)_[A-Za-z0-9]{10,}"), r"\1_…"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( UTC)?"), "DATE"),
    (re.compile(r"\d{2}-\d{2} \d{2}:\d{2}"), "DATE"),
    (re.compile(r'"created": \d+'), '"created": N'),
    (re.compile(r"line \d+"), "line N"),
]


def stable(text: str) -> str:
    """The page without what changes from run to run (ids, times, line numbers)."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def main(argv: list[str]) -> int:
    import logging

    # The seeded failure is logged by the shop; the page shows it through the command.
    logging.getLogger("stripekit").addHandler(logging.NullHandler())
    text = PAGE.read_text(encoding="utf-8")
    fresh = render(text)
    if "--check" in argv:
        if stable(fresh) != stable(text):
            import difflib

            diff = difflib.unified_diff(
                stable(text).splitlines(), stable(fresh).splitlines(), "docs/cli.md", "now", n=1
            )
            print("\n".join(diff))
            print("docs/cli.md drifted from the command: run python scripts/cli_docs.py")
            return 1
        return 0
    PAGE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
