"""The E2B API key in the OS keyring, through ``keyring``, never on the GUI thread.

Only a secure backend is used: the ``fail`` backend and any backend of priority below 1 (such
as a plaintext file from ``keyrings.alt``) count as "no keyring", and the key is then never
written anywhere. Every keyring failure becomes a :class:`UserFacingError` that says what to
install or unlock, or that ``E2B_API_KEY`` can be used instead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, TypeVar

from sesame_desktop.core.config import ENV_API_KEY
from sesame_desktop.core.errors import UserFacingError, UserMessage
from sesame_desktop.core.logs import SECRETS, scrub
from sesame_desktop.core.secret import Secret

if TYPE_CHECKING:  # keyring itself is imported by the first keyring call, on its thread, not at start-up
    import keyring.backend

log = logging.getLogger(__name__)

SERVICE_NAME = "sesame-desktop"
ACCOUNT_NAME = "e2b-api-key"
MIN_SECURE_PRIORITY = 1.0

T = TypeVar("T")

_OR_ENV = f"You can also set the {ENV_API_KEY} environment variable before starting Sesame Desktop."


def _priority(backend: keyring.backend.KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # noqa: BLE001 - an unusable backend raises from its priority
        return -1.0


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def secure_backend() -> keyring.backend.KeyringBackend:
    """The keyring backend to use.

    Raises:
        UserFacingError: no secure backend is available.
    """
    import keyring
    from keyring.backends import chainer, fail

    current = keyring.get_keyring()
    candidates = current.backends if isinstance(current, chainer.ChainerBackend) else [current]
    secure = [
        b for b in candidates
        if not isinstance(b, fail.Keyring) and _priority(b) >= MIN_SECURE_PRIORITY
    ]
    if secure:
        return max(secure, key=_priority)
    found = ", ".join(_backend_name(b) for b in candidates) or "none"
    log.warning("no secure keyring backend (found: %s)", found)
    raise UserFacingError(
        UserMessage(
            title="No secure keyring",
            explanation=(
                "Sesame Desktop keeps your E2B API key in the system keyring, and this "
                "computer has no secure keyring available. The key was not saved anywhere."
            ),
            next_step=(
                "Install and unlock a Secret Service such as GNOME Keyring "
                "(sudo apt install gnome-keyring) or KWallet, then log out and in again. "
                + _OR_ENV
            ),
            details=f"keyring backends found: {found}",
        )
    )


def translate_keyring_error(exc: BaseException) -> UserFacingError:
    """The user-facing form of an exception raised by ``keyring``."""
    import keyring.errors

    details = scrub(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, UserFacingError):
        return exc
    if isinstance(exc, keyring.errors.NoKeyringError):
        try:
            secure_backend()
        except UserFacingError as no_keyring:
            return no_keyring
    if isinstance(exc, keyring.errors.KeyringLocked | keyring.errors.InitError):
        return UserFacingError(
            UserMessage(
                title="The keyring is locked",
                explanation="The system keyring could not be unlocked, so the API key could not be read or saved.",
                next_step=(
                    "Unlock your login keyring (for example in Passwords and Keys, or by logging "
                    "in to the desktop again) and try once more. " + _OR_ENV
                ),
                details=details,
            )
        )
    return UserFacingError(
        UserMessage(
            title="The keyring failed",
            explanation="The system keyring reported an error, so the API key could not be read or saved.",
            next_step="Check that your keyring service is running and unlocked, then try again. " + _OR_ENV,
            details=details,
        )
    )


MAX_STUCK_CALLS = 4


def _hand_back(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():  # the caller gave up (time limit or cancel)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


class _DaemonCalls:
    """Runs blocking keyring calls each on a daemon thread.

    A keyring daemon that stops answering leaves the D-Bus call blocked for good. On an
    executor such a thread is joined when the loop closes and again at interpreter exit, so
    Quit and SIGTERM would wait on it forever; a daemon thread is simply left behind. At most
    ``MAX_STUCK_CALLS`` calls are outstanding: past that the keyring counts as not answering.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outstanding = 0

    @property
    def outstanding(self) -> int:
        return self._outstanding

    def submit(self, func: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._outstanding >= MAX_STUCK_CALLS:
                raise TimeoutError("too many keyring calls without an answer")
            self._outstanding += 1

        def work() -> None:
            result: T | None = None
            error: BaseException | None = None
            try:
                result = func()
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                error = exc
            finally:
                with self._lock:
                    self._outstanding -= 1
            try:
                loop.call_soon_threadsafe(_hand_back, future, result, error)
            except RuntimeError:  # the loop is closed: the app quit meanwhile
                pass

        threading.Thread(target=work, name="keyring-call", daemon=True).start()
        return future


_CALLS = _DaemonCalls()


def outstanding_keyring_calls() -> int:
    """Keyring calls still running on their threads (tests check none is left behind)."""
    return _CALLS.outstanding


class SecretStore:
    """Reads and writes the E2B API key in the OS keyring, each call on a daemon thread.

    Every call is bounded by ``timeout_s``; a call that never returns never holds up quitting.
    """

    def __init__(self, executor: Executor | None = None, *, timeout_s: float = 60.0) -> None:
        """
        Args:
            executor: where the blocking keyring calls run (default: a daemon thread each, which
                quitting never waits for).
            timeout_s: how long to wait for the keyring, which may be showing an unlock prompt.
        """
        self._executor = executor
        self._timeout_s = timeout_s

    async def _run(self, func: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            future = _CALLS.submit(func) if self._executor is None else loop.run_in_executor(self._executor, func)
            return await asyncio.wait_for(future, self._timeout_s)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            log.warning("keyring: no answer within %.0f s", self._timeout_s)
            raise UserFacingError(
                UserMessage(
                    title="The keyring did not answer",
                    explanation=f"The system keyring gave no answer within {self._timeout_s:.0f} seconds; "
                    "it may be waiting for an unlock prompt that cannot be shown.",
                    next_step="Unlock your keyring and try again. " + _OR_ENV,
                )
            ) from None
        except Exception as exc:  # noqa: BLE001 - every keyring failure becomes a user message
            error = translate_keyring_error(exc)
            log.warning("keyring: %s (%s)", error.message.title, error.message.details)
            raise error from None

    async def get_api_key(self) -> Secret | None:
        def read() -> Secret | None:
            value = secure_backend().get_password(SERVICE_NAME, ACCOUNT_NAME)
            return Secret(value) if value else None

        key = await self._run(read)
        if key:
            SECRETS.add(key)
        return key

    async def set_api_key(self, key: Secret) -> None:
        """Store ``key``; returns only once the keyring confirmed the write by reading it back."""
        SECRETS.add(key)

        def write() -> None:
            import keyring.errors

            backend = secure_backend()
            backend.set_password(SERVICE_NAME, ACCOUNT_NAME, key.reveal())
            if backend.get_password(SERVICE_NAME, ACCOUNT_NAME) != key.reveal():
                raise keyring.errors.PasswordSetError("the keyring did not keep the key")

        await self._run(write)
        log.info("API key saved in the keyring")

    async def delete_api_key(self) -> None:
        def delete() -> None:
            import keyring.errors

            try:
                secure_backend().delete_password(SERVICE_NAME, ACCOUNT_NAME)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already the wanted state

        await self._run(delete)
        log.info("API key removed from the keyring")

    # -- named secrets (agent keys, git tokens, session secrets) ---------------------------

    async def get_secret(self, name: str) -> Secret | None:
        """The secret stored as ``name`` ("agent:claude-code", "git-token:github.com"…), if any."""

        def read() -> Secret | None:
            value = secure_backend().get_password(SERVICE_NAME, name)
            return Secret(value) if value else None

        secret = await self._run(read)
        if secret:
            SECRETS.add(secret)
        return secret

    async def set_secret(self, name: str, value: Secret) -> None:
        """Store ``value`` as ``name``; returns once the keyring confirmed it by reading it back."""
        SECRETS.add(value)

        def write() -> None:
            import keyring.errors

            backend = secure_backend()
            backend.set_password(SERVICE_NAME, name, value.reveal())
            if backend.get_password(SERVICE_NAME, name) != value.reveal():
                raise keyring.errors.PasswordSetError("the keyring did not keep the secret")

        await self._run(write)
        log.info("secret %s saved in the keyring", name.split(":", 1)[0])

    async def delete_secret(self, name: str) -> None:
        def delete() -> None:
            import keyring.errors

            try:
                secure_backend().delete_password(SERVICE_NAME, name)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored: already the wanted state

        await self._run(delete)
