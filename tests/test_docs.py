"""Every ``python`` code block in README.md and docs/*.md runs, in order, as written.

Each page runs in a fresh temporary directory with a test-mode environment
pointing stripe-python at the fake Stripe server (tests/support/fake_stripe.py):
the page's first ``toml`` block that declares products becomes
``products.toml`` there (a page without one, like README, gets the catalog
page's, whose product is ``pro``), and every ``lookup_key`` in it is seeded as
a Stripe price. A page shares one namespace across its blocks, like a reader's session. The README's
webhook example gets ``request_body_bytes`` and ``request_headers``: a signed
``checkout.session.completed`` delivery, as a web framework would hand them over.

Blocks in another language (``toml``, ``sh``, ``console``, ``text``) are not run here;
``py`` blocks are files of a project: docs/django.md's walkthrough (a project's settings,
models, handlers), which tests/django/test_walkthrough.py writes and runs as written, and
docs/scale.md's queue adapters' ``tasks.py``, which tests/queues runs as each worker's
module and behind the web app.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docs_blocks import DOCS, ROOT, Block, code_blocks, section
from fake_stripe import SECRET_KEY, FakeStripe

from stripekit.testing import signed_event

PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
WEBHOOK_SECRET = "whsec_docs_harness"


def products_file(blocks: list[Block]) -> str | None:
    """The page's first toml block that declares products, if any."""
    for block in blocks:
        if block.lang == "toml" and "products" in tomllib.loads(block.code):
            return block.code
    return None


def test_the_block_reader_sees_languages_and_lines() -> None:
    text = "# T\n\n```python\nx = 1\n```\n\ntext\n\n```toml\na = 1\n```\n"
    assert code_blocks(text) == [Block("python", "x = 1\n", 4), Block("toml", "a = 1\n", 10)]
    titled = '```py title="tasks.py"\nkit = 1\n```\n'
    assert code_blocks(titled) == [Block("py", "kit = 1\n", 2, "tasks.py")]


def test_a_section_ends_at_the_next_heading_of_its_level_not_at_a_comment() -> None:
    text = "## A\n\n### B\n\n```sh\n# not a heading\n```\n\n### C\n\nc\n\n## D\n"
    assert section(text, "### B") == "### B\n\n```sh\n# not a heading\n```\n\n"
    assert section(text, "## A").endswith("### C\n\nc\n\n")
    with pytest.raises(LookupError, match="### E"):
        section(text, "### E")


def test_every_page_with_code_is_collected() -> None:
    runnable = {page.name for page in PAGES if _python_blocks(page)}
    assert {"README.md", "settings.md", "catalog.md", "checkout.md", "webhooks.md"} <= runnable
    assert {"store.md", "testing.md"} <= runnable


def _python_blocks(page: Path) -> list[Block]:
    return [b for b in code_blocks(page.read_text(encoding="utf-8")) if b.lang == "python"]


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.mark.parametrize("page", [p for p in PAGES if _python_blocks(p)], ids=lambda p: p.name)
def test_page_examples_run(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_stripe: FakeStripe,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocks = code_blocks(page.read_text(encoding="utf-8"))
    products = products_file(blocks) or products_file(
        code_blocks((ROOT / "docs" / "catalog.md").read_text(encoding="utf-8"))
    )
    assert products is not None, "docs/catalog.md lost its products.toml example"
    (tmp_path / "products.toml").write_text(products, encoding="utf-8")
    for product in tomllib.loads(products)["products"].values():
        for price in product["prices"]:
            fake_stripe.add_price(
                price["lookup_key"],
                unit_amount=price["amount"],
                currency=price["currency"],
                interval=price.get("interval"),
            )
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake_stripe.url,
        "STRIPEKIT_PRODUCTS": "products.toml",
        "STRIPEKIT_BASE_URL": "https://shop.example",
        "STRIPEKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}",
    }.items():
        monkeypatch.setenv(name, value)

    body, headers = signed_event(
        "checkout.session.completed",
        {"id": "cs_test_docs", "object": "checkout.session", "client_reference_id": "user-42"},
        secret=WEBHOOK_SECRET,
    )
    namespace: dict[str, Any] = {
        "__name__": f"docs_{page.stem}",
        "request_body_bytes": body,
        "request_headers": headers,
    }
    for block in blocks:
        if block.lang == "python":
            # Line numbers in a failure's traceback point into the page itself.
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            exec(code, namespace)

    if page.name == "README.md":
        # The example's handler ran, once, on the delivery it was handed.
        assert capsys.readouterr().out.count("paid: cs_test_docs for user user-42") == 1
        assert namespace["result"].status == 200
        assert fake_stripe.requests_to("POST", "/v1/checkout/sessions")
