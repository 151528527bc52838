"""RunnerPool: the one door through which the engine runs a script of any language."""

from __future__ import annotations

import time

from engine.runners.bash import BashRunner
from engine.runners.bun import BunRunner
from engine.runners.job import (
    LogCallback,
    ScriptJob,
    ScriptOutcome,
    default_max_result_bytes,
    failure,
)
from engine.runners.process import Scratch
from engine.runners.python import PythonRunner
from engine.runners.signature import SUPPORTED_LANGUAGES, TS_LANGUAGES


class RunnerPool:
    """Runs script jobs: Python in a warm zygote's forked children, bash and bun as processes.

    Create one per engine process and `close()` it at shutdown. The Python zygote
    starts on the first Python job and is restarted if it dies; it is bound to the
    event loop that started it.
    """

    def __init__(self, *, max_result_bytes: int | None = None):
        """Args:
        max_result_bytes: largest result accepted, as JSON; default
            MILLRACE_MAX_RESULT_BYTES or 64 MiB. A bigger result fails the step.
        """
        self.max_result_bytes = max_result_bytes or default_max_result_bytes()
        self._scratch = Scratch()
        self._python = PythonRunner(self._scratch, self.max_result_bytes)
        self._bash = BashRunner(self._scratch, self.max_result_bytes)
        self._bun = BunRunner(self._scratch, self.max_result_bytes)

    async def run(self, job: ScriptJob, on_log: LogCallback | None = None) -> ScriptOutcome:
        """Run one job to its end.

        A failing script never raises: its outcome is not ok and carries the error
        object. Log lines reach `on_log` while the script runs, all before this returns.

        Args:
            job: the script, its args and limits.
            on_log: called with each stdout/stderr line as it is written.
        """
        started = time.perf_counter()
        if job.language == "python3":
            outcome = await self._python.run(job, on_log)
        elif job.language == "bash":
            outcome = await self._bash.run(job, on_log)
        elif job.language in TS_LANGUAGES:
            outcome = await self._bun.run(job, on_log)
        else:
            supported = ", ".join(sorted(SUPPORTED_LANGUAGES))
            outcome = failure(
                "ScriptLoadError",
                f"unsupported script language {job.language!r}; Millrace runs: {supported}",
            )
        outcome.duration = time.perf_counter() - started
        return outcome

    async def close(self) -> None:
        """Stop the Python zygote and delete the pool's temporary files."""
        await self._python.close()
        await self._bash.close()
        await self._bun.close()
        self._scratch.close()
