"""Printed local URLs open on the session's preview URL, not on the user's own computer."""

from __future__ import annotations

from sesame_desktop.core.preview_links import preview_link

PREVIEWS = {5173: "https://5173-abc.e2b.app", 8080: "https://8080-abc.e2b.app/", 80: "https://80-abc.e2b.app"}


def test_local_hosts_map_to_the_ports_preview_url_keeping_path_and_query():
    assert preview_link("http://localhost:5173/", PREVIEWS) == "https://5173-abc.e2b.app/"
    assert preview_link("http://0.0.0.0:8080/app?x=1#top", PREVIEWS) == "https://8080-abc.e2b.app/app?x=1#top"
    assert preview_link("http://127.0.0.1:5173", PREVIEWS) == "https://5173-abc.e2b.app/"
    assert preview_link("http://[::1]:5173/a", PREVIEWS) == "https://5173-abc.e2b.app/a"
    assert preview_link("http://localhost/", PREVIEWS) == "https://80-abc.e2b.app/"


def test_other_links_are_left_alone():
    for url in ("https://example.com:5173/", "http://localhost:9999/", "file:///etc/passwd",
                "http://localhost:notaport/", "javascript:alert(1)"):
        assert preview_link(url, PREVIEWS) == url
