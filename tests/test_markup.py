"""Text from files stays text in HTML and Markdown: rendered by the Markdown engines the views meet
(mistune, which nbconvert uses; CommonMark and GFM through markdown-it), a name made of payloads
gives exactly one <code> element holding the name, and no other element or attribute."""
from html.parser import HTMLParser

import markdown_it
import mistune
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb

PAYLOADS = [
    "`</code><img src=y onerror=\"window.__wb_pwned=1\">",
    "</script><script>window.__wb_pwned=2</script>",
    "[x](javascript:window.__wb_pwned=3)",
    "\" onmouseover=\"window.__wb_pwned=4",
    "<svg onload=window.__wb_pwned=5>",
    "``` \n<img src=y onerror=alert(1)>\n```",
    "| a | b |\n|---|---|\n| <img src=y onerror=alert(1)> | c |",
    "# heading\n- list\n<div>",
    "&lt;img src=y onerror=alert(1)&gt;",
    "{name, locale}",
    "system / Context ->cache ThumbnailCache .table Map",
    " leading and trailing ",
    "",
]
ENGINES = {
    "mistune": lambda s: mistune.html(s),
    "commonmark": lambda s: markdown_it.MarkdownIt("commonmark").render(s),
    "gfm": lambda s: markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(s),
}


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.code, self.depth = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "code":
            self.depth += 1
            self.code.append("")

    def handle_endtag(self, tag):
        if tag == "code":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.code[-1] += data


def _parse(html: str) -> _Tree:
    t = _Tree()
    t.feed(html)
    return t


def _shown(s: str) -> str:
    """What a reader should see: line breaks as spaces."""
    return " ".join(s.replace("\r", "\n").split("\n"))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_code_is_one_code_element_holding_the_name(engine, payload):
    t = _parse(ENGINES[engine](f"Held by: {wb.md_code(payload)} and more"))
    assert t.tags == ["p", "code"] and t.attrs == []
    assert t.code[0].strip() == _shown(payload).strip()


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_makes_no_element(engine, payload):
    t = _parse(ENGINES[engine](f"file {wb.md_text(payload)} end"))
    assert t.tags == ["p"] and t.attrs == []


def test_md_code_keeps_plain_names_as_code_spans():
    assert wb.md_code("ThumbnailJob") == "`ThumbnailJob`"
    assert wb.md_code("a`b").startswith("<code>") and "`" not in wb.md_code("a`b")[6:-7]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_md_code_on_any_text(s):
    for render in ENGINES.values():
        t = _parse(render(f"x {wb.md_code(s)} y"))
        assert set(t.tags) <= {"p", "code"} and t.attrs == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_is_inert(payload):
    t = _parse(f"<div title=\"{wb.html_text(payload)}\">{wb.html_text(payload)}</div>")
    assert t.tags == ["div"] and [k for k, _ in t.attrs] == ["title"]
