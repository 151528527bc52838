"""Driving a RunnerPool from synchronous tests: one pool, one event loop of its own."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from pathlib import Path
from typing import Any

from engine.runners import LogLine, RunnerPool, ScriptJob, ScriptOutcome


class Runner:
    """A runner pool on an event loop of its own, running jobs of one language by default."""

    def __init__(self, pool: RunnerPool, language: str = "python3", job_id: str = "job-1"):
        self.pool, self.language, self.job_id = pool, language, job_id
        self.loop = asyncio.new_event_loop()

    def run(self, content: str, args: dict[str, Any] | None = None, *, language: str | None = None,
            **options: Any) -> tuple[ScriptOutcome, list[LogLine]]:
        """Run a script (dedented); return its outcome and the log lines it wrote."""
        logs: list[LogLine] = []
        job = ScriptJob(language or self.language, textwrap.dedent(content), args or {}, self.job_id, **options)
        return self.loop.run_until_complete(self.pool.run(job, logs.append)), logs

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.close())
        self.loop.close()


def lines(logs: list[LogLine], stream: str = "stdout") -> list[str]:
    """The text of the log lines of one stream."""
    return [log.line for log in logs if log.stream == stream]


def process_gone(pid: int, within: float = 3.0) -> bool:
    """Whether process `pid` ends (or is a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (ProcessLookupError, FileNotFoundError):
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.02)
    return False


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line or name (comm) contains `text`.

    Scripts run in PID namespaces of their own, so the pids they see are not the host's:
    tests find a script's processes by a marker in their command line (`sleep 30.123`)
    or the name a script gives itself (`/proc/self/comm`).
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            seen = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            seen += " " + (entry / "comm").read_text()
        except OSError:
            continue
        if text in seen and not process_gone(int(entry.name), within=0):
            found.append(int(entry.name))
    return found


def started(text: str, within: float = 3.0) -> list[int]:
    """`processes_mentioning(text)` once it finds any (within `within` seconds): a process
    just spawned shows an empty command line until its exec is done."""
    deadline = time.monotonic() + within
    while not (found := processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


def none_left(text: str, within: float = 3.0) -> bool:
    """Whether every process mentioning `text` ends (or is a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while processes_mentioning(text):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


NAME_ITSELF = 'open("/proc/self/comm", "w").write({name!r})'
"""A line of Python that gives the script's process a name the host can see."""
