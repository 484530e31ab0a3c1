"""CSV exports that spreadsheets open safely: no cell is ever run as a formula (CSV injection)."""

from __future__ import annotations

FORMULA_STARTS = frozenset("=+-@\t\r")


def csv_safe(value) -> str:
    """A cell that Excel or LibreOffice will never run as a formula (CSV injection): a text starting with
    ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is prefixed with ``'``."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text
