"""``python -m tests.e2b_server --port P --api-key K``: run the local E2B server by hand.

Prints one JSON line with ``api_url``, ``sandbox_url``, ``domain``, ``admin_url`` and the
chosen ports, then serves until SIGINT/SIGTERM (which kills every sandbox). Point the app or
the SDK at it with::

    E2B_API_URL=<api_url> E2B_SANDBOX_URL=<sandbox_url> E2B_API_KEY=<key> E2B_DOMAIN=<domain>
"""

from __future__ import annotations

import argparse

from .server import DEFAULT_TEMPLATES, Options, run
from .unsupported import help_text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m tests.e2b_server",
        description=__doc__.splitlines()[0],
        epilog=help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=0, help="control plane + envd port (0: any free port)")
    p.add_argument("--proxy-port", type=int, default=0, help="preview proxy port (0: any free port)")
    p.add_argument("--api-key", default="e2b_local_test_key", help="the only accepted X-API-KEY")
    p.add_argument(
        "--templates",
        default=",".join(DEFAULT_TEMPLATES),
        help="comma-separated template names that exist (others: 404)",
    )
    p.add_argument(
        "--isolation",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="bubblewrap namespaces (auto: when they work here), or none",
    )
    p.add_argument(
        "--network",
        choices=("auto", "private", "host"),
        default="auto",
        help="a network namespace per sandbox with outbound through slirp4netns (auto: when it "
        "works here), or the host's network",
    )
    p.add_argument("--state-dir", default=None, help="where sandbox folders live (default: a temp dir)")
    a = p.parse_args(argv)
    run(
        Options(
            port=a.port,
            proxy_port=a.proxy_port,
            api_key=a.api_key,
            templates=tuple(t for t in a.templates.split(",") if t),
            isolation=a.isolation,
            network=a.network,
            state_dir=a.state_dir,
        )
    )


if __name__ == "__main__":
    main()
