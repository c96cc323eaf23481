"""README.md and its Chinese twin README.zh-CN.md stay in step: the same command blocks, in the same order, and
the same section structure (a command or section added to one must be added to the other)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^( *)```bash\n(.*?)^\1```", re.S | re.M)


def _bash_blocks(text: str) -> list[str]:
    return [re.sub(r"^" + m.group(1), "", m.group(2), flags=re.M) for m in FENCE.finditer(text)]


def _shape(text: str) -> list[int]:
    """Heading levels in order, and table row counts: the skeleton both READMEs share."""
    return [len(h) for h in re.findall(r"^(#+) ", text, flags=re.M)] + [text.count("\n   | ")]


def test_command_blocks_are_identical():
    en = _bash_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    zh = _bash_blocks((REPO / "README.zh-CN.md").read_text(encoding="utf-8"))
    assert len(en) >= 3, "the README lost its command blocks"
    assert en == zh


def test_same_sections_and_tables():
    en = (REPO / "README.md").read_text(encoding="utf-8")
    zh = (REPO / "README.zh-CN.md").read_text(encoding="utf-8")
    assert _shape(en) == _shape(zh)
    assert "README.zh-CN.md" in en and "README.md" in zh  # each links to the other


def test_the_extraction_sees_a_difference():
    a = "x\n```bash\nmake demo\n```\n"
    b = "x\n```bash\nmake demo --quiet\n```\n"
    assert _bash_blocks(a) != _bash_blocks(b) and _bash_blocks(a) == ["make demo\n"]
