"""Commands as real processes: streaming, exit codes, deadlines, stdin, reconnect, signals, PTY."""

from __future__ import annotations

import asyncio
import time

import pytest
from e2b import AsyncSandbox, CommandExitException, PtySize, Sandbox
from e2b.exceptions import SandboxNotRunningException, TimeoutException

from .conftest import await_until


def test_foreground_streams_stdout_and_stderr_in_order(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        out: list[str] = []
        err: list[str] = []
        arrivals: list[float] = []

        def on_out(chunk: str) -> None:
            out.append(chunk)
            arrivals.append(time.monotonic())

        result = await sbx.commands.run(
            "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done",
            on_stdout=on_out,
            on_stderr=err.append,
        )
        return result, out, err, arrivals

    result, out, err, arrivals = run_async(go())
    assert result.exit_code == 0
    assert result.stdout == "out1\nout2\nout3\n"
    assert result.stderr == "err1\nerr2\nerr3\n"
    assert "".join(out) == result.stdout and "".join(err) == result.stderr
    assert arrivals[-1] - arrivals[0] > 0.3  # streamed as produced, not at the end


def test_exit_codes_and_signal_deaths_as_envd_reports(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        with pytest.raises(CommandExitException) as failed:
            await sbx.commands.run("echo partial; echo bad >&2; exit 7")
        with pytest.raises(CommandExitException) as killed:
            await sbx.commands.run("kill -9 $$")
        with pytest.raises(CommandExitException) as terminated:
            await sbx.commands.run("kill -TERM $$")
        ok = await sbx.commands.run("true")
        return failed.value, killed.value, terminated.value, ok

    failed, killed, terminated, ok = run_async(go())
    assert (failed.exit_code, failed.stdout, failed.stderr) == (7, "partial\n", "bad\n")
    assert failed.error == "exit status 7"
    assert (killed.exit_code, killed.error) == (-1, "signal: killed")
    assert (terminated.exit_code, terminated.error) == (-1, "signal: terminated")
    assert ok.exit_code == 0 and ok.error is None


def test_timeout_is_the_process_lifetime_and_kills_the_group(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        started = time.monotonic()
        with pytest.raises(TimeoutException):
            await sbx.commands.run("sleep 31 & sleep 32; echo never", timeout=1)
        elapsed = time.monotonic() - started
        procs = await sbx.commands.list()
        leftovers = await sbx.commands.run("ps -eo args | grep -c '^sleep 3[12]' || true")
        return elapsed, procs, leftovers.stdout

    elapsed, procs, leftovers = run_async(go())
    assert 0.9 < elapsed < 5
    assert procs == []
    assert leftovers.strip() == "0"


def test_background_list_kill_and_wait(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        handle = await sbx.commands.run("sleep 30", background=True, envs={"MARK": "1"}, cwd="/tmp")
        listed = await sbx.commands.list()
        killed = await handle.kill()
        with pytest.raises(CommandExitException) as ended:
            await handle.wait()
        after = await sbx.commands.list()
        return handle.pid, listed, killed, ended.value, after, await sbx.commands.kill(handle.pid)

    pid, listed, killed, ended, after, kill_again = run_async(go())
    assert [(p.pid, p.cmd, p.args, p.envs, p.cwd) for p in listed] == [
        (pid, "/bin/bash", ["-l", "-c", "sleep 30"], {"MARK": "1"}, "/tmp")
    ]
    assert killed is True
    assert (ended.exit_code, ended.error) == (-1, "signal: killed")
    assert after == []
    assert kill_again is False


def test_kill_signals_the_whole_process_group(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        handle = await sbx.commands.run("sleep 41 & sleep 42 & wait", background=True)
        before = await sbx.commands.run("ps -eo args | grep -c '^sleep 4[12]'")
        await handle.kill()
        await await_until(lambda: handle.exit_code is not None, timeout=5)
        after = await sbx.commands.run("ps -eo args | grep -c '^sleep 4[12]' || true")
        return before.stdout.strip(), after.stdout.strip()

    assert run_async(go()) == ("2", "0")


def test_stdin_send_and_close(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        handle = await sbx.commands.run("cat; echo done", background=True, stdin=True)
        await sbx.commands.send_stdin(handle.pid, "hello\n")
        await handle.send_stdin(b"bytes too\n")
        await handle.close_stdin()
        return await handle.wait()

    result = run_async(go())
    assert result.stdout == "hello\nbytes too\ndone\n"


def test_connect_to_a_running_process_after_disconnect(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        first: list[str] = []
        handle = await sbx.commands.run(
            "for i in $(seq 1 25); do echo $i; sleep 0.05; done", background=True, on_stdout=first.append
        )
        await await_until(lambda: len(first) >= 2)
        await handle.disconnect()
        await asyncio.sleep(0.2)  # output produced while nobody listens is not replayed
        second: list[str] = []
        again = await sbx.commands.connect(handle.pid, on_stdout=second.append)
        result = await again.wait()
        return first, second, result

    first, second, result = run_async(go())
    numbers = [int(x) for x in "".join(second).split()]
    assert numbers and numbers[-1] == 25
    assert numbers == list(range(numbers[0], 26))
    assert numbers[0] > int("".join(first).split()[-1])
    assert result.exit_code == 0


def test_killed_sandbox_mid_stream_drops_the_connection(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        out: list[str] = []
        task = asyncio.ensure_future(sbx.commands.run("echo started; sleep 30", on_stdout=out.append))
        await await_until(lambda: out)
        e2b_env.kill_sandbox(sbx.sandbox_id)
        with pytest.raises(SandboxNotRunningException) as err:
            await task
        return err.value, await sbx.is_running()

    err, running = run_async(go())
    assert "killed or reached its end of life" in str(err) or "was not found" in str(err)
    assert running is False


def test_pty_create_input_resize_exit(e2b_env, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create()
        data = bytearray()
        term = await sbx.pty.create(PtySize(rows=24, cols=80), on_data=data.extend)
        await sbx.pty.send_stdin(term.pid, b"echo $((6*7)); stty size; tty; echo $TERM\n")
        await await_until(lambda: b"xterm-256color" in data)
        await sbx.pty.resize(term.pid, PtySize(rows=40, cols=100))
        await sbx.pty.send_stdin(term.pid, b"stty size; exit 3\n")
        with pytest.raises(CommandExitException) as ended:
            await term.wait()
        return data.decode(errors="replace"), ended.value.exit_code

    text, code = run_async(go())
    assert "42\r\n24 80\r\n/dev/pts/" in text
    assert "40 100" in text
    assert code == 3


def test_sync_client_commands(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    lines: list[str] = []
    result = sbx.commands.run("echo a; echo b", on_stdout=lines.append)
    assert result.stdout == "a\nb\n" and "".join(lines) == "a\nb\n"
    with pytest.raises(CommandExitException) as err:
        sbx.commands.run("exit 4")
    assert err.value.exit_code == 4
    with pytest.raises(TimeoutException):
        sbx.commands.run("sleep 20", timeout=0.5)
    handle = sbx.commands.run("cat", background=True, stdin=True)
    handle.send_stdin("sync stdin\n")
    sbx.commands.close_stdin(handle.pid)
    assert handle.wait().stdout == "sync stdin\n"
    bg = sbx.commands.run("sleep 30", background=True)
    assert [p.pid for p in sbx.commands.list()] == [bg.pid]
    assert bg.kill() is True
    with pytest.raises(CommandExitException):
        bg.wait()
    term = sbx.pty.create(PtySize(rows=10, cols=50))
    sbx.pty.send_stdin(term.pid, b"stty size; exit\n")
    collected = bytearray()
    term.wait(on_pty=collected.extend)
    assert b"10 50" in collected


def test_envd_details_through_the_sdks_generated_client(e2b_env, run_async) -> None:
    """What the SDK's public API does not reach: SIGTERM, tags, keepalives. Uses the SDK's own
    generated Connect client (``commands._rpc``) with the SDK's codec and transport."""
    from e2b.envd.process import process_pb as pb
    from protobuf import Oneof

    async def go():
        sbx = await AsyncSandbox.create()
        rpc = sbx.commands._rpc
        request = pb.StartRequest(
            process=pb.ProcessConfig(cmd="/bin/bash", args=["-c", "sleep 51 & sleep 52; wait"]),
            tag="two-sleeps",
        )
        kinds: list[str] = []
        async for message in rpc.start(request, headers={"Keepalive-Ping-Interval": "0.1"}, timeout_ms=20000):
            kinds.append(message.event.event.field)
            if kinds[-1] == "keepalive" and kinds.count("keepalive") == 2:
                by_tag = pb.ProcessSelector(selector=Oneof("tag", "two-sleeps"))
                await rpc.send_signal(pb.SendSignalRequest(process=by_tag, signal=pb.Signal.SIGTERM))
            if kinds[-1] == "end":
                end = message.event.event.value
        left = await sbx.commands.run("ps -eo args | grep -c '^sleep 5[12]' || true")
        return kinds, end, left.stdout.strip()

    kinds, end, left = run_async(go())
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("keepalive") >= 2
    assert (end.exit_code, end.exited, end.status) == (-1, False, "signal: terminated")
    assert left == "0"  # SIGTERM reached the whole process group
