"""Text from data made safe for a terminal: control characters shown as ``\\uXXXX`` escapes."""

from __future__ import annotations

__all__ = ("safe_text",)

# What a terminal or a log viewer acts on instead of showing: C0 controls (ESC starts colour,
# cursor and window-title sequences; CR overwrites a line), DEL, C1 controls (0x9b is a one-byte
# CSI), the Unicode line and paragraph separators, and the bidirectional controls that make a
# line read differently from what it holds ("Trojan Source").
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_CONTROLS = (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *_BIDI)
_ESCAPES = {code: f"\\u{code:04x}" for code in _CONTROLS}
_MULTILINE = {code: text for code, text in _ESCAPES.items() if code not in (0x09, 0x0A)}


def safe_text(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character replaced by its visible ``\\uXXXX`` escape.

    The escape is also a valid JSON escape, so JSON output stays valid and decodes unchanged.

    :param text: the text (anything else is converted with ``str``).
    :param multiline: keep newlines and tabs (for blocks of text; a table cell keeps neither).
    :returns: the text, safe to print.
    """
    return str(text).translate(_MULTILINE if multiline else _ESCAPES)
