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
