"""docs/django.md's walkthrough, followed as written: from `django-admin startproject` in an
empty folder to an order paid on the emulator and fulfilled by the project's handler.

Every ``sh`` block's lines run in order in the folder (the emulator and the
site in the background, as the page's second terminal and runserver); every
``py`` and ``toml`` block is the file its first line names, written or, for
"(add at the end)", appended. The page's ports are swapped for free ones; the
browser's part (Buy, pay with 4242...) is done over HTTP.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from venvs import ROOT, clean_env, run

from stripekit._serving import free_port

pytestmark = pytest.mark.slow

PAGE = ROOT / "docs" / "django.md"
_BLOCK = re.compile(r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
_FILE = re.compile(r"^# (?P<path>[\w./]+)(?P<append> \(add at the end\))?\n")


def walkthrough() -> list[tuple[str, str]]:
    """The walkthrough's blocks, in order: (language, body)."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("## From `startproject` to a paid order")
    end = text.index("\n## ", start + 1)
    return [(m["lang"], m["body"]) for m in _BLOCK.finditer(text[start:end])]


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(600):
        assert process.poll() is None, process.communicate()[0][-3000:]
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def test_the_walkthrough_ends_in_a_fulfilled_order(tmp_path: Path) -> None:
    site, emulator = free_port(), free_port()
    ports = {
        "127.0.0.1:8000": f"127.0.0.1:{site}",
        "127.0.0.1:12111": f"127.0.0.1:{emulator}",
        "--port 12111": f"--port {emulator}",
    }

    def local(text: str) -> str:
        for page_port, free in ports.items():
            text = text.replace(page_port, free)
        return text.replace("path/to/stripekit", str(ROOT))

    env = clean_env()
    background: list[subprocess.Popen[str]] = []
    outputs: list[str] = []
    try:
        for lang, body in walkthrough():
            if lang in ("py", "toml"):
                found = _FILE.match(body)
                assert found, f"a {lang} block without its file's name: {body[:80]}"
                path = tmp_path / found["path"]
                content = local(body[found.end() :])
                if found["append"]:
                    content = path.read_text() + "\n" + content
                path.write_text(content)
                continue
            assert lang == "sh", lang
            for line in local(body).strip().splitlines():
                if " emulator " in line or " runserver " in line:
                    process = subprocess.Popen(
                        ["bash", "-c", f"exec {line}"], cwd=tmp_path, env=env, text=True,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    )  # fmt: skip
                    background.append(process)
                    url = f"http://127.0.0.1:{emulator if ' emulator ' in line else site}/"
                    _wait_for(url, process)
                    continue
                if "Order.objects" in line:
                    _buy(site, emulator)  # what the page says to do in the browser, first
                    for _ in range(100):  # the webhook lands a moment after the redirect
                        listed = run(line, cwd=tmp_path, env=env).stdout
                        if listed.strip().splitlines()[-1] != "[]":
                            break
                        time.sleep(0.1)
                    outputs.append(listed)
                    continue
                outputs.append(run(line, cwd=tmp_path, env=env).stdout)
    finally:
        for process in background:
            process.terminate()
        logs = [process.communicate(timeout=20)[0] for process in background]
    orders, events = outputs[-2:]
    assert orders.strip().splitlines()[-1] == "['ada@example.com']", orders
    assert "checkout.session.completed" in events and "processed" in events, events
    assert "fulfilled cs_test_" in logs[-1] and "for ada@example.com" in logs[-1], logs[-1][-3000:]


def _buy(site: int, emulator: int) -> None:
    """Pricing → Buy → pay with 4242 4242 4242 4242 → the success page says paid."""
    shop = f"http://127.0.0.1:{site}"
    with httpx.Client(base_url=shop, timeout=10) as browser:
        page = browser.get("/stripe/pricing")
        assert page.status_code == 200 and "The Django Book" in page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token
        form = {"product": "book", "csrfmiddlewaretoken": token[1]}
        to_checkout = browser.post("/stripe/checkout", data=form)
        assert to_checkout.status_code == 303, to_checkout.text
        pay = to_checkout.headers["location"]
        assert pay.startswith(f"http://127.0.0.1:{emulator}/c/pay/")
        paid = httpx.post(pay, data={"card_number": "4242424242424242", "email": "ada@example.com"})
        assert paid.status_code == 303
        success = browser.get(paid.headers["location"].removeprefix(shop))
        assert 'id="status">paid' in success.text
