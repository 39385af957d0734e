"""Windows job objects: a local command's whole process tree, ended at once.

Windows has no process groups that signals reach, and a process whose parent has exited is
nobody's child any more. A job object holds the command and every process it starts from
then on; terminating the job ends them all, orphans included, and a job made with
``KILL_ON_JOB_CLOSE`` ends them when its last handle closes, which is also when the app
exits, however it exits. Where a job cannot be made (an old Windows that forbids nested
jobs, say) the caller falls back to psutil's tree kill.

Only Windows runs this; it is proved by the release workflow's Windows tests
(``tests/sandbox/test_local_cross_platform.py``), not by the Linux suite.
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


class Job:
    """A job object holding one command's tree (Windows only).

    Raises:
        OSError: the job could not be made or the process not put in it.
    """

    def __init__(self, pid: int) -> None:
        self._handle = _create_job(pid)

    def terminate(self) -> None:
        """End every process in the job (exit status 1)."""
        if self._handle:
            _terminate(self._handle)

    def close(self) -> None:
        """Close the job: what still runs in it ends (``KILL_ON_JOB_CLOSE``)."""
        handle, self._handle = self._handle, 0
        if handle:
            _close(handle)


def make_job(pid: int) -> Job | None:
    """A job for the process ``pid`` on Windows; None elsewhere or when it cannot be made."""
    if sys.platform != "win32":
        return None
    try:
        return Job(pid)
    except OSError as exc:
        log.info("no job object for process %d (%s): its tree is ended with psutil", pid, exc)
        return None


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
    _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
    _PROCESS_SET_QUOTA = 0x0100
    _PROCESS_TERMINATE = 0x0001

    class _IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_ulonglong) for name in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

    class _BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class _ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", _BasicLimits),
            ("IoInfo", _IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    _kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    _kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    _kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    _kernel32.SetInformationJobObject.restype = wintypes.BOOL
    _kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    _kernel32.AssignProcessToJobObject.restype = wintypes.BOOL
    _kernel32.TerminateJobObject.argtypes = [wintypes.HANDLE, wintypes.UINT]
    _kernel32.TerminateJobObject.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL

    def _check(ok: object) -> None:
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error())

    def _create_job(pid: int) -> int:
        job = _kernel32.CreateJobObjectW(None, None)
        _check(job)
        try:
            limits = _ExtendedLimits()
            limits.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
            _check(_kernel32.SetInformationJobObject(job, _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                                     ctypes.byref(limits), ctypes.sizeof(limits)))
            process = _kernel32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
            _check(process)
            try:
                _check(_kernel32.AssignProcessToJobObject(job, process))
            finally:
                _kernel32.CloseHandle(process)
        except OSError:
            _kernel32.CloseHandle(job)
            raise
        return int(job)

    def _terminate(handle: int) -> None:
        _check(_kernel32.TerminateJobObject(handle, 1))

    def _close(handle: int) -> None:
        _kernel32.CloseHandle(handle)

else:
    def _create_job(pid: int) -> int:
        raise OSError("job objects exist on Windows only")

    def _terminate(handle: int) -> None:
        raise OSError("job objects exist on Windows only")

    def _close(handle: int) -> None:
        pass
