"""Console benchmark: parse-only baseline vs. the live ConsoleView, in the same run.

Run from the repository root::

    python bench/console.py            # full run (3 repetitions, medians), about a minute
    python bench/console.py --quick    # small smoke run (what the test suite calls)

Workloads: 200,000 lines each of plain text, coloured text (SGR codes), CR LF line ends,
``ESC[K`` erases and ``grep --color`` output; 20,000 carriage-return progress updates; 50 MB
of CR LF and of coloured output streamed in; a 1 MB line on screen; keystroke-to-echo in the
Terminal; and a memory run of 1,000,000 lines into a 100,000-line scrollback (a fresh process).

The machine is shared and noisy, so:

* parse-only rates are measured in interleaved rounds, each workload next to the plain
  baseline (plain first in every other round), timed by the thread's CPU time; a ratio is the
  median over rounds of (workload / the plain pass of the same round);
* output arrives in 64 KiB chunks, one per event-loop turn (as stream callbacks deliver it),
  while a 5 ms heartbeat timer measures the longest event-loop stall. Time the OS kept the GUI
  thread waiting for a CPU (another program ran: Linux ``schedstat``) is not a stall the
  program causes and is taken out; the wall-clock stall is printed beside it;
* ingest rates (timed the same way: wall clock less the time spent waiting for a CPU) and
  stalls are medians of the repetitions (``--runs``), each repetition's value printed too.

One small unmeasured warm-up run comes first (the first paints of a process rasterise glyphs
once). Each figure is printed with its target, the ratio and PASS/FAIL; the exit code is 1 if
any target is missed.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QSocketNotifier, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.probes import CpuWait  # noqa: E402
from sesame_desktop.core.cells import CellMap  # noqa: E402
from sesame_desktop.core.terminal import TerminalBuffer  # noqa: E402
from sesame_desktop.ui.console import ConsoleView  # noqa: E402

CHUNK = 64 * 1024
SCROLLBACK = 100_000


# -- workloads ----------------------------------------------------------------------------------


def plain_lines(n: int) -> bytes:
    return b"".join(
        b"%08d " % i + b"lorem ipsum dolor sit amet " * 2 + b"consectetur adipi\n" for i in range(n)
    )


def coloured_lines(n: int) -> bytes:
    levels = (
        b"\x1b[32mINFO\x1b[0m",
        b"\x1b[33mWARN\x1b[0m",
        b"\x1b[1;31mFAIL\x1b[0m",
        b"\x1b[36mDEBG\x1b[0m",
    )
    return b"".join(
        b"\x1b[2m%08d\x1b[0m " % i
        + levels[i % 4]
        + b" \x1b[38;5;%dmworker-%d\x1b[0m" % (i % 256, i % 7)
        + b" lorem ipsum dolor sit amet \x1b[1mconsectetur\x1b[0m adip\n"
        for i in range(n)
    )


def progress_updates(n: int) -> bytes:
    width = 40
    return (
        b"".join(
            b"\rDownloading pkg-%d.tar.gz [" % (i // 5000)
            + b"#" * (i * width // n)
            + b" " * (width - i * width // n)
            + b"] %6d/%d" % (i, n)
            for i in range(n)
        )
        + b"\n"
    )


def crlf_lines(n: int) -> bytes:
    """What every PTY sends: plain lines ending in CR LF."""
    return plain_lines(n).replace(b"\n", b"\r\n")


def erase_lines(n: int) -> bytes:
    """Lines erased to their end as they are written (``ESC[K``, as npm, cargo and docker do)."""
    return b"".join(
        b"\x1b[K%08d " % i + b"lorem ipsum dolor sit amet " * 2 + b"consectetur\x1b[K\r\n"
        for i in range(n)
    )


def grep_lines(n: int) -> bytes:
    """``grep --color=always -n`` output: every coloured piece followed by ``ESC[K``."""
    return b"".join(
        b"\x1b[35m\x1b[Ksrc/module_%d.py\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K"
        b"\x1b[32m\x1b[K%d\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K    def "
        b"\x1b[01;31m\x1b[Khandler\x1b[m\x1b[K(self, event):  # lorem ipsum\n" % (i % 500, i)
        for i in range(n)
    )


def cjk_json_line(size: int) -> bytes:
    """One minified JSON line of about ``size`` bytes with CJK text (two cells a character)."""
    item = '{"名前": "テスト項目%d", "説明": "中文描述文本 emoji 😀", "id": %d}'
    parts, total, i = [], 0, 0
    while total < size:
        piece = (item % (i, i)).encode()
        parts.append(piece)
        total += len(piece) + 1
        i += 1
    return b'{"items": [' + b",".join(parts) + b"]}\n"


def chunked(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


# -- measurements -------------------------------------------------------------------------------


def decode_split_rate(chunks: list[bytes]) -> float:
    """MB/s of decoding and splitting lines only (the floor of any parser, for reference)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    start = time.perf_counter()
    for chunk in chunks:
        decoder.decode(chunk).split("\n")
    return sum(map(len, chunks)) / (time.perf_counter() - start) / 1e6


def parse_pass(chunks: list[bytes]) -> float:
    """MB/s of one pass of the core parser into a bounded buffer, no Qt.

    Timed by this thread's CPU time: parsing does no waiting, so the only difference from the
    wall clock is the time the OS gave to other programs on a shared machine.
    """
    gc.collect()
    buffer = TerminalBuffer(SCROLLBACK)
    start = time.thread_time()
    for chunk in chunks:
        buffer.feed(chunk)
    return sum(map(len, chunks)) / max(time.thread_time() - start, 1e-9) / 1e6


@dataclass
class Parse:
    rate: float  # MB/s of the workload, median of the rounds
    plain: float  # MB/s of the plain baseline, median of the same rounds
    ratio: float  # median over rounds of (workload / plain measured next to it)
    ratios: list[float]


def parse_against_plain(chunks: list[bytes], plain: list[bytes], rounds: int) -> Parse:
    """The parser's rate on ``chunks`` and on ``plain``, measured alternately (plain first in
    even rounds, last in odd ones), so that load from other programs hits both alike."""
    rates: list[float] = []
    bases: list[float] = []
    for i in range(rounds):
        if i % 2:
            rates.append(parse_pass(chunks))
            bases.append(parse_pass(plain))
        else:
            bases.append(parse_pass(plain))
            rates.append(parse_pass(chunks))
    ratios = [r / b for r, b in zip(rates, bases, strict=True)]
    return Parse(statistics.median(rates), statistics.median(bases), statistics.median(ratios), ratios)


@dataclass
class Ingest:
    rate: float  # MB/s while output arrives (the view repaints as it goes), less CPU waits
    stall_ms: float  # longest gap between 5 ms heartbeats, less time spent waiting for a CPU
    latency_ms: float  # last chunk fed -> its text painted
    lines: int
    wall_stall_ms: float = 0.0  # longest gap between heartbeats on the wall clock
    gc_ms: float = 0.0  # longest garbage collection
    wall_rate: float = 0.0  # MB/s on the wall clock


class _Harness:
    """A visible ConsoleView, a 5 ms heartbeat and a clock: what every ingest run needs."""

    def __init__(self, scrollback: int) -> None:
        gc.collect()
        self.view = ConsoleView(scrollback_lines=scrollback)
        self.view.resize(1000, 700)
        self.view.show()
        self.loop = QEventLoop()
        self.last_beat = self.gap = self.wall_gap = self.fed_at = self.end = 0.0
        self.cpu_wait = CpuWait()
        self.last_wait = self.waited_from = self.waited_at_fed = 0.0
        self.gc_started = self.gc_longest = 0.0
        self.painted: list[float] = []
        original_paint = self.view.paintEvent

        def paint_and_note(event) -> None:  # noqa: ANN001
            original_paint(event)
            self.painted.append(time.perf_counter())

        self.view.paintEvent = paint_and_note  # type: ignore[method-assign]
        self.heartbeat = QTimer()
        self.heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        self.heartbeat.setInterval(5)
        self.heartbeat.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        wait = self.cpu_wait.seconds()
        if self.last_beat:
            self.wall_gap = max(self.wall_gap, now - self.last_beat)
            self.gap = max(self.gap, now - self.last_beat - (wait - self.last_wait))
        self.last_beat = now
        self.last_wait = wait

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self.gc_started = time.perf_counter()
        elif self.gc_started:
            self.gc_longest = max(self.gc_longest, time.perf_counter() - self.gc_started)

    def all_fed(self, at: float | None = None) -> None:
        """Call when the last byte was fed (``at``: when): the clock stops once it is painted."""
        self.fed_at = at if at is not None else time.perf_counter()
        self.waited_at_fed = self.cpu_wait.seconds()
        QTimer.singleShot(1, self._wait_for_paint)

    def _wait_for_paint(self) -> None:
        if self.painted and self.painted[-1] > self.fed_at:
            self.end = self.painted[-1]
            self.loop.quit()
            return
        if time.perf_counter() - self.fed_at > 2.0:  # never hang the benchmark on a lost paint
            self.view.viewport().update()
        QTimer.singleShot(1, self._wait_for_paint)

    def run(self, begin: Callable[[], None], total: int) -> Ingest:
        QApplication.processEvents()  # show the window before the clock starts
        gc.callbacks.append(self._on_gc)
        self.heartbeat.start()
        start = time.perf_counter()
        self.waited_from = self.cpu_wait.seconds()
        QTimer.singleShot(0, begin)
        self.loop.exec()
        self.heartbeat.stop()
        gc.callbacks.remove(self._on_gc)
        self.cpu_wait.close()
        result = Ingest(
            rate=total / (self.fed_at - start - (self.waited_at_fed - self.waited_from)) / 1e6,
            wall_rate=total / (self.fed_at - start) / 1e6,
            stall_ms=self.gap * 1000,
            latency_ms=(self.end - self.fed_at) * 1000,
            lines=len(self.view.buffer),
            wall_stall_ms=self.wall_gap * 1000,
            gc_ms=self.gc_longest * 1000,
        )
        self.view.close()
        self.view.deleteLater()
        QApplication.processEvents()
        return result


def ingest(chunks: list[bytes], stream: str = "stdout", scrollback: int = SCROLLBACK) -> Ingest:
    """Feed ``chunks`` to a visible ConsoleView, one per event-loop turn; time it."""
    harness = _Harness(scrollback)
    position = 0

    def pump() -> None:
        nonlocal position
        harness.view.feed(chunks[position], stream)
        position += 1
        if position < len(chunks):
            QTimer.singleShot(0, pump)
        else:
            harness.all_fed()

    return harness.run(pump, sum(map(len, chunks)))


def ingest_pipe(data: bytes) -> Ingest:
    """End to end: ``cat`` writes ``data`` into a pipe, read on the event loop as it comes."""
    with tempfile.NamedTemporaryFile(suffix=".log") as source:
        source.write(data)
        source.flush()
        harness = _Harness(SCROLLBACK)
        proc = subprocess.Popen(["cat", source.name], stdout=subprocess.PIPE)
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        os.set_blocking(fd, False)
        notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read)
        last_feed = 0.0

        def on_readable() -> None:
            nonlocal last_feed
            try:
                chunk = os.read(fd, CHUNK)
            except BlockingIOError:
                return
            if chunk:
                harness.view.feed(chunk)
                last_feed = time.perf_counter()
            else:  # end of file: the output was complete when the last chunk was fed
                notifier.setEnabled(False)
                harness.all_fed(last_feed)

        notifier.activated.connect(on_readable)
        result = harness.run(lambda: None, len(data))
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    return result


def long_line_paint(megabytes: float, runs: int) -> list[Figure]:
    """Repaint time with a long CJK line on screen against a screen of short lines of the same
    text, each one row wide (what is visible is the same: the cost must not depend on the
    line's length)."""
    line = cjk_json_line(int(megabytes * 1e6))
    probe = ConsoleView()
    probe.resize(1000, 700)
    columns = probe._columns()  # noqa: SLF001 - the row width the view wraps at
    probe.deleteLater()
    text = line[:200_000].decode("utf-8", "ignore")
    starts = CellMap(text).row_starts(columns)[:301]
    short = "\n".join(text[a:b] for a, b in zip(starts, starts[1:])).encode() + b"\n"

    def repaint_ms(data: bytes, times: int = 10) -> tuple[float, float]:
        view = ConsoleView(scrollback_lines=SCROLLBACK)
        view.resize(1000, 700)
        view.show()
        for chunk in chunked(data):
            view.feed(chunk)
        view.feed(b"tail line\n")
        QApplication.processEvents()
        start = time.perf_counter()
        view.viewport().repaint()
        first = (time.perf_counter() - start) * 1000
        samples = []
        for _ in range(times):
            start = time.perf_counter()
            view.viewport().repaint()
            samples.append((time.perf_counter() - start) * 1000)
        view.close()
        view.deleteLater()
        QApplication.processEvents()
        return first, statistics.median(samples)

    base = statistics.median(repaint_ms(short)[1] for _ in range(runs))
    firsts, repaints = zip(*(repaint_ms(line) for _ in range(runs)), strict=True)
    repaint = statistics.median(repaints)
    limit = max(2 * base, 5.0)
    return [
        Figure(
            f"{len(line) / 1e6:.1f} MB CJK line on screen: repaint",
            repaint,
            "ms",
            f"<= 2 x short CJK lines' ({limit:.1f})",
            limit / max(repaint, 0.001),
            f"short lines {base:.1f} ms; first paint {statistics.median(firsts):.0f} ms"
            " (works out the line's cells once)",
        )
    ]


def terminal_latency(keys: int) -> list[Figure]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("terminal_latency.py")), str(keys)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=300,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])

    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]

    app, sdk = p95(result["app"]), p95(result["sdk"])
    return [
        Figure("terminal: keystroke -> echo, SDK alone (p95)", sdk, "ms", "-", 1.0,
               f"median {statistics.median(result['sdk']):.1f} ms (baseline)"),
        Figure("terminal: keystroke -> echo on its screen (p95)", app, "ms", "<= 50", 50 / max(app, 0.001),
               f"median {statistics.median(result['app']):.1f} ms; {app / max(sdk, 0.001):.2f} x the SDK alone;"
               " painted at the next frame (<= 25 ms later)"),
    ]


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def memory_child(total_lines: int, kept: int) -> None:
    """Runs in a fresh process: prints JSON with the RSS growth after ``kept`` and ``total``.

    RSS is sampled after every chunk (``ru_maxrss`` would include the workload generation).
    """
    app = QApplication.instance() or QApplication([])
    block = chunked(coloured_lines(kept // 2) + plain_lines(kept // 2))
    ingest(chunked(plain_lines(100)), scrollback=kept)  # warm up Qt, fonts, caches
    view = ConsoleView(scrollback_lines=kept)
    view.resize(1000, 700)
    view.show()
    app.processEvents()
    gc.collect()
    base = _rss_kb()
    peak = base

    def feed_all(times: int) -> int:
        high = 0
        for _ in range(times):
            for chunk in block:
                view.feed(chunk)
                app.processEvents()  # a benchmark driver, not app code
                high = max(high, _rss_kb())
        return high

    peak = max(peak, feed_all(1))
    gc.collect()
    after_kept = _rss_kb()
    peak = max(peak, feed_all(total_lines // kept - 1))
    print(
        json.dumps(
            {
                "base_kb": base,
                "kept_kb": after_kept,
                "peak_kb": peak,
                "lines": view.buffer.evicted + len(view.buffer),
                "kept": len(view.buffer),
            }
        )
    )


def memory(total_lines: int, kept: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(total_lines), str(kept)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    ratio: float  # value relative to its target: >= 1.0 passes
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.ratio >= 1.0


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def run(quick: bool, runs: int) -> list[Figure]:
    n_lines = 50_000 if quick else 200_000
    n_progress = 5_000 if quick else 20_000
    workloads = {
        "plain": chunked(plain_lines(n_lines)),
        "coloured": chunked(coloured_lines(n_lines)),
        "CRLF": chunked(crlf_lines(n_lines)),
        "ESC[K-heavy": chunked(erase_lines(n_lines)),
        "coloured grep": chunked(grep_lines(n_lines)),
    }
    figures: list[Figure] = []
    rounds = 2 if quick else max(7, 2 * runs + 1)  # interleaved parse rounds (odd: a median)
    # Warm-up (not measured): the first paints of a process rasterise glyphs for every font
    # variant and colour once; that one-off cost is not a stall of steady ingestion.
    ingest(chunked(coloured_lines(2_000) + plain_lines(2_000) + progress_updates(200)))
    gc.collect()
    gc.freeze()  # as the app does after start-up (app.py): what start-up built is not garbage
    stalls = [0.0] * runs  # per repetition: the longest stall over all workloads
    wall_stalls = [0.0] * runs
    latencies: list[float] = []
    plain_chunks = workloads["plain"]
    plain_rates: list[float] = []
    for name, chunks in workloads.items():
        mb = sum(map(len, chunks)) / 1e6
        limit = statistics.median(decode_split_rate(chunks) for _ in range(runs))
        parse = parse_against_plain(chunks, plain_chunks, rounds)
        plain_rates.append(parse.plain)
        base = parse.rate
        rates, ratios, wall_rates = [], [], []
        for rep in range(runs):
            result = ingest(chunks)
            rates.append(result.rate)
            wall_rates.append(result.wall_rate)
            ratios.append(result.rate / base)
            stalls[rep] = max(stalls[rep], result.stall_ms)
            wall_stalls[rep] = max(wall_stalls[rep], result.wall_stall_ms)
            latencies.append(result.latency_ms)
        rate, ratio = statistics.median(rates), statistics.median(ratios)
        figures.append(
            Figure(
                f"{name}: parse only (baseline)",
                base,
                "MB/s",
                "-",
                1.0,
                f"{mb:.1f} MB; decode+split alone {limit:.0f} MB/s",
            )
        )
        if name != "plain":
            figures.append(
                Figure(
                    f"{name}: parse vs plain parse",
                    base,
                    "MB/s",
                    f">= 0.5 x plain parse ({parse.plain / 2:.0f})",
                    parse.ratio / 0.5,
                    f"{parse.ratio:.2f} x plain, median of {rounds} interleaved rounds ("
                    + ", ".join(f"{r:.2f}" for r in parse.ratios)
                    + ")",
                )
            )
        figures.append(
            Figure(
                f"{name}: ingest into ConsoleView",
                rate,
                "MB/s",
                f">= 0.5 x baseline ({base / 2:.0f})",
                ratio / 0.5,
                f"ingest/parse = {ratio:.2f} (per run: "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + f"); {statistics.median(wall_rates):.0f} MB/s on the wall clock",
            )
        )
    stream_mb = 5 if quick else 50
    for name, make in (("CRLF", crlf_lines), ("coloured", coloured_lines)):
        data = make(1000)
        per_line = len(data) / 1000
        big = chunked(make(int(stream_mb * 1e6 / per_line)))
        results = [ingest(big) for _ in range(runs)]
        stall = statistics.median(r.stall_ms for r in results)
        figures.append(
            Figure(
                f"{name}: {stream_mb} MB streamed, longest stall",
                stall,
                "ms",
                "<= 20",
                20 / max(stall, 0.001),
                "per run: "
                + ", ".join(f"{r.stall_ms:.1f}" for r in results)
                + " ms; on the wall clock (incl. waiting for a CPU) "
                + ", ".join(f"{r.wall_stall_ms:.1f}" for r in results)
                + f" ms; longest GC {max(r.gc_ms for r in results):.1f} ms;"
                + f" ingest {statistics.median(r.rate for r in results):.0f} MB/s",
            )
        )
    figures.extend(long_line_paint(2 if quick else 1, runs))
    figures.extend(terminal_latency(40 if quick else 200))
    progress = chunked(progress_updates(n_progress))
    p_parse = parse_against_plain(progress, plain_chunks, rounds)
    figures.append(
        Figure(
            "CR progress: parse vs plain parse",
            p_parse.rate,
            "MB/s",
            f">= 0.5 x plain parse ({p_parse.plain / 2:.0f})",
            p_parse.ratio / 0.5,
            f"{p_parse.ratio:.2f} x plain, median of {rounds} interleaved rounds ("
            + ", ".join(f"{r:.2f}" for r in p_parse.ratios)
            + ")",
        )
    )
    p_rates = []
    for rep in range(runs):
        result = ingest(progress, stream="stderr")
        if result.lines != 1:
            raise SystemExit(f"progress bar produced {result.lines} lines, expected 1")
        p_rates.append(result.rate)
        stalls[rep] = max(stalls[rep], result.stall_ms)
        wall_stalls[rep] = max(wall_stalls[rep], result.wall_stall_ms)
        latencies.append(result.latency_ms)
    rate = statistics.median(p_rates)
    mb = sum(map(len, progress)) / 1e6
    figures.append(
        Figure(
            f"{n_progress:,} CR progress updates (1 line)",
            rate,
            "MB/s",
            ">= 10",
            rate / 10,
            f"{rate * 1e6 / (mb * 1e6 / n_progress) / 1000:.0f}k updates/s",
        )
    )
    e2e = [ingest_pipe(b"".join(workloads["coloured"])) for _ in range(runs)]
    figures.append(
        Figure(
            "coloured: end to end (cat | pipe -> view)",
            statistics.median(r.rate for r in e2e),
            "MB/s",
            "-",
            1.0,
            "stall " + ", ".join(f"{r.stall_ms:.1f}" for r in e2e) + " ms (information only)",
        )
    )
    stall = statistics.median(stalls)
    figures.append(
        Figure(
            "longest event-loop stall while ingesting",
            stall,
            "ms",
            "<= 20",
            20 / max(stall, 0.001),
            "per run: "
            + ", ".join(f"{s:.1f}" for s in stalls)
            + " ms; on the wall clock (incl. waiting for a CPU) "
            + ", ".join(f"{s:.1f}" for s in wall_stalls)
            + " ms",
        )
    )
    latency = statistics.median(latencies)
    figures.append(
        Figure(
            "last chunk -> painted (median)",
            latency,
            "ms",
            "<= 50 (two frames)",
            50 / max(latency, 0.001),
        )
    )
    total, kept = (250_000, 50_000) if quick else (1_000_000, SCROLLBACK)
    mem = memory(total, kept)
    kept_mb = (mem["kept_kb"] - mem["base_kb"]) / 1024
    peak_mb = (mem["peak_kb"] - mem["base_kb"]) / 1024
    figures.append(
        Figure(
            f"memory added by the {kept:,} kept lines",
            kept_mb,
            "MB",
            "-",
            1.0,
            f"{kept_mb * 1024 * 1024 / kept:.0f} bytes/line",
        )
    )
    figures.append(
        Figure(
            f"peak memory added after {mem['lines']:,} lines",
            peak_mb,
            "MB",
            f"<= kept lines' need x 1.2 ({kept_mb * 1.2:.1f})",
            kept_mb * 1.2 / max(peak_mb, 0.001),
            f"kept {mem['kept']:,} lines; peak/kept = {peak_mb / max(kept_mb, 0.001):.2f}",
        )
    )
    return figures


def report(figures: list[Figure], quick: bool, runs: int) -> bool:
    print(f"\nConsole benchmark ({'quick' if quick else 'full'}; medians of {runs} runs)\n")
    print(f"{'figure':44} {'value':>10}  {'target':34} {'ratio':>6}  result")
    ok = True
    for f in figures:
        result = "-" if f.target == "-" else ("PASS" if f.passed else "FAIL")
        ok &= f.passed or f.target == "-"
        print(
            f"{f.name:44} {f.value:8.1f} {f.unit:4} {f.target:34} {f.ratio:6.2f}  {result}"
            f"  {f.note}"
        )
    print("\nALL TARGETS MET" if ok else "\nSOME TARGETS MISSED")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (1 repetition)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--memory-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    runs = 1 if args.quick else max(1, args.runs)
    ok = report(run(args.quick, runs), args.quick, runs)
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
