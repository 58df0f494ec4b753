"""The one way the report stage writes a markdown table: a header, its alignment row, rows."""

from __future__ import annotations


def md_header(columns: list[str], align: str = "") -> list[str]:
    """Header line and alignment line of a table; align: one letter per column, "l" (default
    for columns past its end) or "r" (right-aligned, `---:`)."""
    seps = ["---:" if a == "r" else "---" for a in align.ljust(len(columns), "l")]
    return [md_row(columns), "|" + "".join(f"{s}|" for s in seps)]


def md_row(cells: list) -> str:
    """One table row: `| a | b | c |`."""
    return "| " + " | ".join(str(c) for c in cells) + " |"
