"""Hyperlink text against target (OSC 8 links from untrusted output)."""

from sesame_desktop.core.link_text import is_web_link, link_text, shown_host_mismatch
from sesame_desktop.core.sgr import Style


def test_visible_host_other_than_the_target_is_reported():
    assert shown_host_mismatch("https://bank.example/login", "https://evil.test/x") == "bank.example"
    assert shown_host_mismatch("bank.example", "https://evil.test/") == "bank.example"
    assert shown_host_mismatch("https://docs.example/a", "https://docs.example/b") is None
    assert shown_host_mismatch("click here", "https://evil.test/") is None


def test_only_web_links_are_links():
    assert is_web_link("https://example.com/a")
    assert not is_web_link("javascript:alert(1)")
    assert not is_web_link("file:///etc/passwd")
    assert not is_web_link("https:///nohost")
    assert not is_web_link("https://exa mple.com")


def test_link_text_spans_neighbouring_runs_of_the_same_link():
    a = Style(fg=1, link="https://evil.test/")
    b = Style(fg=2, link="https://evil.test/")
    text = "see bank.example now"
    runs = ((4, 8, a), (8, 16, b))
    assert link_text(text, runs, 5) == "bank.example"
    assert link_text(text, runs, 0) is None
