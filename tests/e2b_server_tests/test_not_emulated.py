"""What the local server does not emulate is refused loudly: 501, E2B's error body, a plain
message; ``--help`` lists it. allow_internet_access=False is emulated (no outbound)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from e2b import AsyncSandbox, Sandbox
from e2b.exceptions import SandboxException

from tests.e2b_server.pytest_plugin import REPO_ROOT


def _refused(err: pytest.ExceptionInfo, feature: str) -> None:
    assert getattr(err.value, "status_code", None) == 501, err.value
    assert f"{feature}" in str(err.value) and "not emulated by the local E2B server" in str(err.value)


def test_not_emulated_sdk_calls_are_refused_with_501_sync(e2b_server) -> None:
    opts = e2b_server.sdk_opts
    sbx = Sandbox.create(**opts)
    with pytest.raises(SandboxException) as err:
        sbx.create_snapshot()
    _refused(err, "snapshots")
    with pytest.raises(SandboxException) as err:
        sbx.fork()
    _refused(err, "fork")
    with pytest.raises(SandboxException) as err:
        sbx.get_metrics()
    _refused(err, "metrics")
    with pytest.raises(SandboxException) as err:
        Sandbox.create(network={"deny_out": ["10.0.0.0/8"]}, **opts)
    _refused(err, "network rules")
    assert sbx.is_running()  # a refusal changes nothing


def test_not_emulated_routes_answer_e2bs_error_body(e2b_server, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(**e2b_server.sdk_opts)
        with pytest.raises(SandboxException) as err:
            await sbx.fork()
        return sbx.sandbox_id, err

    sandbox_id, err = run_async(go())
    _refused(err, "fork")
    with httpx.Client(base_url=e2b_server.api_url, headers={"X-API-KEY": e2b_server.api_key}) as client:
        for method, path, feature in (
            ("GET", "/volumes", "volumes"),
            ("GET", "/templates", "template builds"),
            ("POST", "/v3/templates", "template builds"),
            ("GET", f"/v2/sandboxes/{sandbox_id}/logs", "sandbox logs"),
            ("PUT", f"/sandboxes/{sandbox_id}/network", "network rules"),
            ("GET", "/secrets", "secrets"),
            ("GET", "/snapshots", "snapshots"),
        ):
            r = client.request(method, path, json={})
            assert r.status_code == 501, path
            assert r.json() == {"code": 501, "message": r.json()["message"]}
            assert r.json()["message"].startswith(feature)


def test_help_lists_what_is_not_emulated() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tests.e2b_server", "--help"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    listed = out.split("not emulated", 1)[1]
    for feature in ("snapshots", "fork", "volumes", "metrics", "network rules", "template builds"):
        assert f"\n  {feature}:" in listed


def test_allow_internet_access_false_leaves_only_loopback(e2b_server) -> None:
    if e2b_server.network != "private":
        pytest.skip("the server runs sandboxes on the host network")
    sbx = Sandbox.create(allow_internet_access=False, **e2b_server.sdk_opts)
    devices = sbx.commands.run("cat /proc/net/dev").stdout
    assert "tap0" not in devices and "lo:" in devices
    out = sbx.commands.run(f"curl -s -m 2 http://{e2b_server.host_alias}:{e2b_server.proxy_port}/ || echo offline")
    assert out.stdout.strip().endswith("offline")
