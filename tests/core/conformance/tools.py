"""Real tools whose output the conformance tests record (run as ``python -c`` programs).

Each entry is a program run with the test's own Python; its output (stdout and stderr merged,
as a console shows them) is recorded fresh in the tests' set-up, so the corpus follows the
installed versions of tqdm and rich.
"""

TQDM_MULTI_BAR = """
import time
from tqdm import tqdm
bars = [tqdm(total=40, position=i, desc=f"file {i}", ncols=70, mininterval=0, ascii=True)
        for i in range(4)]
for step in range(40):
    for i, bar in enumerate(bars):
        if step % (i + 1) == 0 or step == 39:
            bar.update(min(i + 1, 40 - bar.n))
for bar in reversed(bars):
    bar.close()
print("done")
"""

TQDM_UNICODE_BAR = """
from tqdm import tqdm
for _ in tqdm(range(300), ncols=60, mininterval=0, desc="unicode"):
    pass
print("after")
"""

RICH_PROGRESS = """
from rich.console import Console
from rich.progress import Progress
console = Console(force_terminal=True, width=78, color_system="truecolor")
with Progress(console=console, auto_refresh=False) as progress:
    tasks = [progress.add_task(f"task {i}", total=30) for i in range(3)]
    for step in range(30):
        for i, task in enumerate(tasks):
            progress.update(task, advance=1)
        if step % 5 == 0:
            progress.console.print(f"log line {step}")
        progress.refresh()
print("finished")
"""

RICH_LIVE_TABLE = """
from rich.console import Console
from rich.live import Live
from rich.table import Table
console = Console(force_terminal=True, width=70, color_system="256")
with Live(console=console, auto_refresh=False) as live:
    for n in range(12):
        table = Table("name", "state")
        for i in range(4):
            table.add_row(f"container-{i}", "[green]Running[/]" if i <= n // 3 else "Starting")
        live.update(table, refresh=True)
print("up")
"""
