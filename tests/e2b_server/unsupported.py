"""What the local E2B server does not emulate, and how it refuses it.

Every call of these features is answered ``501`` with E2B's error body (``{"code": 501,
"message": ...}``) and a plain message naming the feature, so a test (or the app) that
depends on one fails loudly instead of silently getting a fake success. The SDK raises a
``SandboxException`` with ``status_code == 501`` (the SDK does not retry 501).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STATUS = 501


@dataclass(frozen=True)
class Feature:
    name: str
    calls: str  # the SDK calls / REST routes, for --help
    routes: tuple[re.Pattern[str], ...]


def _r(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


NOT_EMULATED: tuple[Feature, ...] = (
    Feature(
        "snapshots",
        "create_snapshot/list_snapshots/delete_snapshot: /sandboxes/<id>/snapshots, /snapshots",
        _r(r"^/sandboxes/[^/]+/snapshots$", r"^/snapshots(/.*)?$"),
    ),
    Feature("fork", "fork(): POST /sandboxes/<id>/fork", _r(r"^/sandboxes/[^/]+/fork$")),
    Feature(
        "volumes",
        "Volume.*: /volumes, and create(volume_mounts=...)",
        _r(r"^/volumes(/.*)?$"),
    ),
    Feature(
        "metrics",
        "get_metrics(): /sandboxes/<id>/metrics, /sandboxes/metrics",
        _r(r"^/sandboxes/[^/]+/metrics$", r"^/sandboxes/metrics$"),
    ),
    Feature(
        "network rules",
        "update_network(), create(network={allow_out/deny_out/...}) (allow_internet_access=False works)",
        _r(r"^/sandboxes/[^/]+/network$"),
    ),
    Feature(
        "template builds",
        "Template.build/aliases/tags: /templates, /v2/templates, /v3/templates, /default-templates",
        _r(r"^/(v[23]/)?templates(/.*)?$", r"^/default-templates$"),
    ),
    Feature(
        "sandbox logs",
        "get logs: /sandboxes/<id>/logs, /v2/sandboxes/<id>/logs",
        _r(r"^(/v2)?/sandboxes/[^/]+/logs$"),
    ),
    Feature("secrets", "Secret.*: /secrets", _r(r"^/secrets(/.*)?$")),
    Feature("MCP gateway", "create(mcp=...)", ()),
)


def message(feature: str) -> str:
    return (
        f"{feature} are not emulated by the local E2B server (python -m tests.e2b_server --help lists what is not)"
        if feature.endswith("s")
        else f"{feature} is not emulated by the local E2B server (python -m tests.e2b_server --help lists what is not)"
    )


def refused_route(path: str) -> str | None:
    """The message for a route of a feature that is not emulated, else None."""
    for feature in NOT_EMULATED:
        if any(r.match(path) for r in feature.routes):
            return message(feature.name)
    return None


def refused_create(body: dict[str, Any]) -> str | None:
    """The message for a create request that asks for something not emulated, else None."""
    network = body.get("network")
    if isinstance(network, dict) and any(v not in (None, [], {}) for v in network.values()):
        return message("network rules")
    if body.get("volumeMounts"):
        return message("volumes")
    if body.get("mcp"):
        return message("MCP gateway")
    return None


def help_text() -> str:
    lines = [f"not emulated (each call answers {STATUS} with E2B's error body and a plain message):"]
    for feature in NOT_EMULATED:
        lines.append(f"  {feature.name}: {feature.calls}")
    lines.append(
        "  also: CPU, memory and disk sizes (reported, not enforced), pause(strict=True) checks "
        "(envd always answers), the 30-day limit of paused sandboxes"
    )
    return "\n".join(lines)
