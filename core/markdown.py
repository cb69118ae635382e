"""Markdown that a demo writes and both front ends render: visitor text in it must stay text."""
from __future__ import annotations

import re

MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")


def plain(text: str) -> str:
    """``text`` shown as itself wherever Markdown is rendered: visitor strings (file names, titles, texts
    quoted in messages) could otherwise carry links, images fetched from anywhere, or colour tags."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


def code_words(words: list[str]) -> str:
    """Markdown showing each word as code; a backtick inside one would end its code span early."""
    return " ".join(f"`{word.replace('`', 'ˋ')}`" for word in words)
