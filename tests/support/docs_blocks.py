"""The fenced code blocks of the Markdown docs, read the same way by every test that runs
them (tests/test_docs.py, tests/queues)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE = re.compile(
    r"^```(?P<lang>[\w+-]*)(?P<info>[^\n]*)\n(?P<code>.*?)^```\s*$", re.MULTILINE | re.DOTALL
)
_TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int
    title: str | None = None
    """The file a block is (```py title="tasks.py"), if its fence names one."""


def code_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with the line each one's code starts on."""
    blocks = []
    for m in _FENCE.finditer(text):
        title = _TITLE.search(m["info"])
        line = text.count("\n", 0, m.start("code")) + 1
        blocks.append(Block(m["lang"].lower(), m["code"], line, title and title["title"]))
    return blocks


def section(text: str, heading: str) -> str:
    """The part of a page under ``heading`` (a whole line, such as ``### Celery``), up to
    the next heading of the same or a higher level (a ``#`` line in a code block is not one)."""
    level = len(heading.split(" ", 1)[0])
    lines = text.splitlines(keepends=True)
    found: list[str] | None = None
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.rstrip("\n") == heading:
            found = []
        elif not fenced and found is not None and re.match(rf"#{{1,{level}}} ", line):
            break
        if found is not None:
            found.append(line)
    if found is None:
        raise LookupError(f"no {heading!r} heading")
    return "".join(found)
