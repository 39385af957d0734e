"""Provider errors are translated by exception class through one table."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import e2b
import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from e2b.envd.rpc import handle_rpc_exception

from sesame_desktop.core.errors import UserFacingError
from sesame_desktop.sandbox.e2b_errors import TABLE, message_for, translate

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("exc", "title"),
    [
        (e2b.AuthenticationException("401: Unauthorized"), "E2B rejected the API key"),
        (e2b.GitAuthException("auth failed"), "The git server refused the credentials"),
        (e2b.RateLimitException("429"), "Too many requests to E2B"),
        (e2b.SandboxNotFoundException("sandbox xyz not found"), "Sandbox gone"),
        (e2b.SandboxNotRunningException("no longer running"), "Sandbox gone"),
        (e2b.NotEnoughSpaceException("no space"), "Sandbox disk full"),
        (e2b.FileNotFoundException("/x"), "File not found"),
        (e2b.SandboxUnreachableException("probe failed"), "E2B cannot be reached"),
        (e2b.ServiceBusyException("503"), "E2B had a problem"),
        (e2b.TimeoutException("deadline"), "E2B did not answer in time"),
        (e2b.InvalidArgumentException("cwd does not exist"), "E2B refused the request"),
        (httpx.ConnectError("refused"), "E2B cannot be reached"),
        (ConnectionRefusedError(111, "refused"), "E2B cannot be reached"),
        (ValueError("odd"), "E2B error"),
    ],
)
def test_each_class_has_its_message(exc, title):
    message = message_for(exc)
    assert message.title == title and message.explanation and message.next_step


def test_text_decides_only_the_missing_template():
    missing = e2b.SandboxException("404: template 'x' not found")
    missing.status_code = 404
    assert message_for(missing, template="x").title == "Template not found"
    # words that once steered the translation no longer do: the class decides
    assert message_for(e2b.TimeoutException("sandbox was not found")).title == "E2B did not answer in time"
    assert message_for(e2b.SandboxException("invalid api key")).title == "E2B error"


def test_more_specific_classes_come_first_in_the_table():
    seen: list[type[BaseException]] = []
    for classes, _make in TABLE:
        for cls in classes:
            for earlier in seen:
                assert not issubclass(cls, earlier) or cls is earlier, f"{cls} is shadowed by {earlier}"
        seen.extend(classes)


def sdk_cancel_error() -> BaseException:
    """A cancel as the SDK hands it back: CancelledError -> ConnectError(CANCELED) -> its mapping."""
    try:
        try:
            raise asyncio.CancelledError()
        except asyncio.CancelledError as cancel:
            raise ConnectError(Code.CANCELED, "Request was cancelled") from cancel
    except ConnectError as err:
        mapped = handle_rpc_exception(err, {Code.CANCELED: lambda m: e2b.TimeoutException(f"{m}: cancelled")})
        try:
            raise mapped from err
        except BaseException as exc:  # noqa: BLE001 - the value under test
            return exc
    raise AssertionError("unreachable")


def test_a_cancel_the_sdk_reports_as_an_error_stays_a_cancel():
    exc = sdk_cancel_error()
    with pytest.raises(asyncio.CancelledError):
        raise translate(exc)


def test_a_cancelled_task_whose_sdk_call_timed_out_stays_cancelled(run_async):
    outcome: list[str] = []

    async def victim() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            try:  # the SDK swallowed the cancel and raised its own error instead
                raise translate(e2b.TimeoutException("Request was cancelled")) from None
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise
            except UserFacingError as err:
                outcome.append(err.message.title)

    async def scenario() -> None:
        task = asyncio.ensure_future(victim())
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.wait([task])

    run_async(scenario())
    assert outcome == ["cancelled"]


def test_no_ui_code_branches_on_a_message_title():
    offenders = []
    for path in sorted((REPO / "sesame_desktop" / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                if any(isinstance(p, ast.Attribute) and p.attr == "title" for p in parts):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
