"""Remotes, branch names and pull-request pages."""

from __future__ import annotations

import pytest

from sesame_desktop.core.git_hosts import branch_from_name, compare_url, remote_host, validate_push_branch


@pytest.mark.parametrize(("url", "host"), [
    ("https://github.com/acme/rocket.git", "github.com"),
    ("git@github.com:acme/rocket.git", "github.com"),
    ("ssh://git@gitlab.example.org:2222/a/b.git", "gitlab.example.org:2222"),
    ("http://127.0.0.1:8080/demo.git", "127.0.0.1:8080"),
    ("/home/me/repo", ""),
])
def test_remote_host(url, host):
    assert remote_host(url) == host


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/acme/rocket.git", "https://github.com/acme/rocket/compare/main...sesame%2Ffix?expand=1"),
    ("git@github.com:acme/rocket.git", "https://github.com/acme/rocket/compare/main...sesame%2Ffix?expand=1"),
    ("https://gitlab.com/g/sub/p.git", "https://gitlab.com/g/sub/p/-/merge_requests/new?merge_request%5Bsource_"
                                       "branch%5D=sesame%2Ffix&merge_request%5Btarget_branch%5D=main"),
    ("https://bitbucket.org/t/r.git", "https://bitbucket.org/t/r/pull-requests/new?source=sesame%2Ffix&dest=main"),
    ("http://127.0.0.1:8080/demo.git", "http://127.0.0.1:8080/demo/compare/main...sesame%2Ffix?expand=1"),
    ("/home/me/repo", None),
    ("https://github.com", None),
])
def test_compare_url(url, expected):
    assert compare_url(url, "main", "sesame/fix") == expected


def test_branch_names():
    assert branch_from_name("Fix the login (dev)") == "sesame/fix-the-login-dev"
    assert branch_from_name("\u2728") == "sesame/changes"
    assert validate_push_branch("") == "Enter a branch name."
    assert "not a valid branch name" in validate_push_branch("a..b")
    assert validate_push_branch("sesame/ok-1") is None
