"""Small openpyxl helpers shared by the template and the workbook: styles, literal text, sheet names."""

from __future__ import annotations

import re

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(bold=True, size=14)
_THIN = Side(style="thin", color="999999")
THIN_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)

#: Fill colours of the status words (Excel's good / bad / neutral palette).
STATUS_FILLS = {
    "达标": PatternFill("solid", fgColor="C6EFCE"),
    "不达标": PatternFill("solid", fgColor="FFC7CE"),
    "暂未核算": PatternFill("solid", fgColor="FFEB9C"),
    "暂未调查": PatternFill("solid", fgColor="FFEB9C"),
    "无数据": PatternFill("solid", fgColor="D9D9D9"),
}
STATUS_FONTS = {"达标": Font(color="006100"), "不达标": Font(color="9C0006"), "暂未核算": Font(color="9C5700"),
                "暂未调查": Font(color="9C5700"), "无数据": Font(color="404040")}

_FORMULA_START = ("=", "+", "-", "@")


def set_text(cell, text: str) -> None:
    """Write ``text`` as a literal string: a region named ``=1+1`` must not become a formula.

    openpyxl turns any string starting with "=" into a formula; forcing the type back to string writes it
    as text, and ``quotePrefix`` keeps Excel from re-reading it as a formula when the cell is edited.
    """
    cell.value = text
    cell.data_type = "s"
    if text[:1] in _FORMULA_START:
        cell.quotePrefix = True


_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of []:*?/\\) for ``name``; adds it to ``taken``."""
    base = _BAD_SHEET.sub("_", str(name)).strip("'") or "sheet"
    base = base[:31]
    title, k = base, 2
    while title.lower() in {t.lower() for t in taken}:
        suffix = f"~{k}"
        title = base[: 31 - len(suffix)] + suffix
        k += 1
    taken.add(title)
    return title
