"""Test harness shared by the whole suite.

- Qt runs on the offscreen platform (set before any QApplication exists).
- One qasync event loop for the session, installed as asyncio's loop, so that async slots and
  ``asyncio.sleep`` advance whenever Qt processes events (``qtbot.wait*``).
- A test that leaves asyncio tasks running once its fixtures are torn down fails; the tasks
  are cancelled then, so they never resume in the next test on deleted objects.
- ``run_async`` drives a coroutine to completion from a synchronous test through qtbot.
- hypothesis is imported up front: its pytest plugin otherwise imports (and compiles) it in
  the terminal summary, after the Qt tests, where CPython 3.11.7 can fail with "AST
  constructor recursion depth mismatch" and turn a green run red.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QT_API"] = "pyside6"
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")

import asyncio  # noqa: E402
from collections.abc import Awaitable, Callable, Iterator  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import hypothesis.internal.observability  # noqa: E402,F401  (see below)
import PySide6  # noqa: E402,F401  (qasync picks its binding at import: PySide6 first)
import pytest  # noqa: E402
import qasync  # noqa: E402

T = TypeVar("T")

pytest_plugins = ["tests.fixtures.keyring_service", "tests.fixtures.app_env", "tests.fixtures.git_repos", "tests.fixtures.agent_cli", "tests.fixtures.git_server", "tests.e2b_server.pytest_plugin"]


@pytest.fixture(scope="session")
def qasync_loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop on top of pytest-qt's QApplication, set as asyncio's loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    executor = qasync.QThreadExecutor(4)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    executor.shutdown(wait=True)


@pytest.fixture(autouse=True)
def _event_loop_for_every_test(qasync_loop) -> asyncio.AbstractEventLoop:
    """Every test sees the qasync loop as asyncio's current loop."""
    return qasync_loop


def _pending_tasks(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks(loop) if not t.done()]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After the test's fixtures are torn down, fail the test if asyncio tasks remain.

    Fixtures may end what they started (a session manager's ``close()``); whatever is still
    pending afterwards is cancelled here, before the next test, so it never resumes there.
    """
    result = yield
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return result
    if not isinstance(loop, qasync.QEventLoop):
        return result
    pending = _pending_tasks(loop)
    if not pending:
        return result
    leftovers = [repr(t.get_coro()) for t in pending]
    for task in pending:
        task.cancel()
    from pytestqt.qtbot import QtBot  # local: only when needed

    try:
        QtBot(item).waitUntil(lambda: not _pending_tasks(loop), timeout=5000)
    except Exception:  # noqa: BLE001 - reported below with the task list
        leftovers.append("(some tasks did not finish within 5 s of cancel)")
    if not item.config.getoption("--allow-leftover-tasks"):
        pytest.fail("test left asyncio tasks running:\n  " + "\n  ".join(leftovers), pytrace=False)
    return result


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--allow-leftover-tasks",
        action="store_true",
        default=False,
        help="do not fail tests that leave asyncio tasks running (debugging only)",
    )


@pytest.fixture
def run_async(qtbot, qasync_loop) -> Callable[..., Any]:
    """Run a coroutine on the qasync loop and return its result (or raise its exception)."""

    def run(awaitable: Awaitable[T], timeout: float = 20.0) -> T:
        task = asyncio.ensure_future(awaitable, loop=qasync_loop)
        try:
            qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        except Exception:
            task.cancel()
            qtbot.waitUntil(task.done, timeout=5000)
            raise
        return task.result()

    return run
