"""A griffe extension for the API reference: our docstrings' ``Example:`` is an examples section.

The house style (Google style, STYLE.md) writes ``Example:``; griffe reads only
``Examples:`` as examples (the ``>>>`` lines shown as code) and makes any other
title an admonition of plain text. Renaming the title while the API reference is
built keeps the sources as they are.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_TITLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Reads every ``Example:`` section as ``Examples:``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _TITLE.sub(r"\1Examples:", obj.docstring.value)
