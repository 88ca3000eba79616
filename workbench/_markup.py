"""Text from input files is data: the one place where it becomes HTML or Markdown. Every view that
puts a heap name, a function name, a path or a message into markup (notebook cells, widget labels,
the report) goes through these helpers; none builds markup from data by string formatting alone.

Rules (research note "Safe sharing" 5.3; CommonMark 0.31 §2.5, §6.1; GFM tables):
- HTML: ``html.escape(quote=True)``; enough for element text and quoted attribute values.
- Markdown: inside a code span every character is literal and renderers HTML-escape it
  (CommonMark, marked in JupyterLab, mistune in nbconvert), but backslash escapes do not work there,
  a backtick run of the fence's length closes the span, GFM splits table cells at ``|`` even inside
  spans, and a line break ends a paragraph's line. So ``md_code`` writes a plain code span only for
  text with no backtick, ``|`` or line break; any other text becomes an HTML ``<code>`` element
  whose text has every ASCII punctuation character as a numeric character reference (a reference
  "cannot be used in place of symbols indicating structure", so it makes no tag, link, emphasis,
  code span or table cell) and line breaks as spaces. ``md_text`` is that escaped text without the
  element, for data outside code (file names, messages).
- Charts need none of this: Vega draws titles and labels as SVG or canvas text, never as markup,
  and vega-tooltip escapes tooltip values by default (its ``sanitize``).
"""
from __future__ import annotations

import html
import re

_PUNCT = re.compile(r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]""")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c]+")


def html_text(value) -> str:
    """``value`` as HTML text (element content or a quoted attribute value)."""
    return html.escape(str(value), quote=True)


def md_text(value) -> str:
    """``value`` as plain Markdown text: every ASCII punctuation character written as ``&#NN;``,
    line breaks as spaces."""
    s = _BREAKS.sub(" ", str(value))
    return _PUNCT.sub(lambda m: f"&#{ord(m.group(0))};", s)


_SPAN_SAFE = re.compile(r"[^`|\r\n\u2028\u2029\x0b\x0c]+")


def md_code(value) -> str:
    """``value`` as inline code in Markdown, shown as code by any Markdown renderer."""
    s = str(value)
    if _SPAN_SAFE.fullmatch(s) and s.strip() == s:
        return f"`{s}`"
    return f"<code>{md_text(s)}</code>"


# ---- sizes and durations as a person reads them in a finding (frames keep bytes and ms; binary
# units, as DevTools shows sizes): human_bytes(5_242_880) == "5.0 MiB", human_ms(90_500) == "1 min 30 s"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(n) -> str:
    n = float(n)
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in _UNITS:
        if n < 1024 or unit == _UNITS[-1]:
            return f"{sign}{n:,.0f} {unit}" if unit == "B" else f"{sign}{n:,.1f} {unit}"
        n /= 1024
    return f"{sign}{n:,.1f} {_UNITS[-1]}"   # unreachable


def human_ms(ms) -> str:
    ms = float(ms)
    if ms < 1:
        return f"{ms * 1000:,.0f} µs"
    if ms < 1000:
        return f"{ms:,.1f} ms" if ms < 100 else f"{ms:,.0f} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:,.2f} s" if s < 10 else f"{s:,.1f} s"
    m, s = divmod(round(s), 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min" if m else f"{h} h"
