"""RunnerPool: the one door through which the engine runs a script of any language."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from engine.errors import DependencyError
from engine.runners import sandbox
from engine.runners.bash import BashRunner
from engine.runners.bun import BUN
from engine.runners.dedicated import DedicatedWorkers
from engine.runners.deno import DENO
from engine.runners.javascript import JsRunner, install_dir
from engine.runners.job import (
    LogCallback,
    ScriptJob,
    ScriptOutcome,
    default_max_result_bytes,
    failure,
    script_env,
)
from engine.runners.process import Scratch
from engine.runners.python import PythonRunner
from engine.runners.sandbox import SandboxPolicy
from engine.runners.signature import SUPPORTED_LANGUAGES, TS_LANGUAGES
from engine.runners.signature_sql import SQL_LANGUAGES
from engine.runners.sql import SqlRunner
from engine.runners.zygote import ZygoteJobs
from engine.runners.lock_zygotes import LockZygotes

if TYPE_CHECKING:  # engine.deps reads scripts with the runners' parsers: imported when a pool is made
    from engine.deps.service import Dependencies, Prepared


class RunnerPool:
    """Runs script jobs in the sandbox: each in a child of one warm zygote process.

    Create one per engine process and `close()` it at shutdown. The zygote starts on the
    first job and is restarted if it dies; it is bound to the event loop that started it.
    """

    def __init__(self, *, max_result_bytes: int | None = None, network: bool | None = None,
                 policy: SandboxPolicy | None = None, deps: Dependencies | None = None):
        """Args:
        max_result_bytes: largest result accepted, as JSON; default
            MILLRACE_MAX_RESULT_BYTES or 64 MiB. A bigger result fails the step.
        network: whether scripts may use the network; default MILLRACE_SANDBOX_NETWORK (on).
        policy: the whole sandbox policy instead (tests); default from the environment.
        deps: where steps' dependencies are resolved and installed; default a cache
            under MILLRACE_DEPS_DIR (~/.cache/millrace/deps).
        """
        from engine.deps.service import Dependencies

        self.max_result_bytes = max_result_bytes or default_max_result_bytes()
        self.deps = deps or Dependencies()
        policy = policy or SandboxPolicy.from_env(network=network)
        for runtime in (BUN, DENO):
            folder = install_dir(runtime)
            if folder is not None and folder not in policy.extra_ro:
                policy = dataclasses.replace(policy, extra_ro=(*policy.extra_ro, folder))
        self._locks = LockZygotes(self.deps)
        self.policy = dataclasses.replace(policy, ro_mounts=(*policy.ro_mounts, *self._locks.mounts()))
        self._locks.isolated = self.policy.enabled
        self._scratch = Scratch()
        self._jobs = ZygoteJobs(self._scratch, self.policy, on_stopped=self._locks.stopped)
        self._python = PythonRunner(self._jobs, self.max_result_bytes)
        self._bash = BashRunner(self._jobs, self.max_result_bytes)
        self._bun = JsRunner(self._jobs, self.max_result_bytes, BUN)
        self._deno = JsRunner(self._jobs, self.max_result_bytes, DENO)
        self._sql = SqlRunner(self._jobs, self.max_result_bytes)
        self._dedicated = DedicatedWorkers(self._jobs, self.max_result_bytes)

    def warm(self) -> None:
        """Start what the first job needs (the sandbox check, the default zygote) in the
        background, so that a process starting up (the CLI) imports and opens its store
        meanwhile. Safe to skip: the first job starts them otherwise."""
        if self.policy.enabled:
            sandbox.probe_ahead(self.policy.network)
        try:
            self._jobs.spawn_ahead()
        except OSError:
            pass  # no bubblewrap here: the first job is refused, saying why

    @property
    def folder(self) -> str:
        """The pool's scratch folder on the host (its zygote's socket; its processes name it)."""
        return str(self._scratch.root)

    def refusal(self) -> str | None:
        """Why this pool runs no user code (no sandbox can be made here), or None."""
        return sandbox.refusal(self.policy)

    def describe(self) -> str:
        """One line on how scripts are isolated here, for the start-up log."""
        if not self.policy.enabled:
            return "scripts run WITHOUT a sandbox (MILLRACE_SANDBOX=off)"
        limits = self._jobs.cgroups.describe() if self._jobs.cgroups else "no cgroups (per-process limits only)"
        network = "with network" if self.policy.network else "without network"
        data = f"; data folder {self.policy.data_dir} at /data" if self.policy.data_dir else ""
        return (f"scripts run in a bubblewrap sandbox, {network}; job limits: {limits}{data}; dependency "
                f"environments under {self.deps.cache.root}")

    async def run(self, job: ScriptJob, on_log: LogCallback | None = None) -> ScriptOutcome:
        """Run one job to its end.

        A failing script never raises: its outcome is not ok and carries the error
        object. Log lines reach `on_log` while the script runs, all before this returns.

        Args:
            job: the script, its args and limits.
            on_log: called with each stdout/stderr line as it is written.
        """
        started = time.perf_counter()
        refused = self.refusal()
        if refused is not None:
            outcome = failure("SandboxUnavailable", refused)
        else:
            outcome = await self._run_with_dependencies(job, on_log)
        outcome.duration = time.perf_counter() - started
        return outcome

    async def _run_with_dependencies(self, job: ScriptJob, on_log: LogCallback | None) -> ScriptOutcome:
        """Install the step's lock if it is new here (it fails before its code runs when it
        cannot be), then run it with its packages."""
        try:
            prepared = await self.deps.prepare(job, on_log)
        except DependencyError as exc:
            return failure("DependencyError", str(exc))
        try:
            return await self._run_language(job, on_log, prepared)
        finally:
            prepared.release()

    async def _run_language(self, job: ScriptJob, on_log: LogCallback | None, prepared: Prepared) -> ScriptOutcome:
        env = {**sandbox.clean_env(), **script_env(job)}
        if job.language == "python3":
            flavour = self._locks.flavour(prepared)
            if job.dedicated and (done := await self._dedicated.run(job, on_log, env, flavour)) is not None:
                return done
            return await self._python.run(job, on_log, env, flavour)
        if job.language == "bash":
            return await self._bash.run(job, on_log, env)
        if job.language in SQL_LANGUAGES:
            return await self._sql.run(job, on_log, env)
        node_modules = self._locks.inside(prepared.npm_env / "node_modules") if prepared.npm_env else None
        if job.language == "deno":
            return await self._deno.run(job, on_log, env, node_modules)
        if job.language in TS_LANGUAGES:
            if job.dedicated and (done := await self._bun_dedicated(job, on_log, env, node_modules)) is not None:
                return done
            return await self._bun.run(job, on_log, env, node_modules)
        supported = ", ".join(sorted(SUPPORTED_LANGUAGES))
        return failure("ScriptLoadError", f"unsupported script language {job.language!r}; Millrace runs: {supported}")

    async def _bun_dedicated(self, job: ScriptJob, on_log: LogCallback | None, env: dict[str, str],
                             node_modules: str | None) -> ScriptOutcome | None:
        """A bun job in its version's dedicated worker (None: it runs the ordinary way)."""
        return await self._dedicated.run(job, on_log, self._bun.environment(env), extra=self._bun.call_of(job),
                                         launch=lambda: self._bun.launch(job, env, node_modules, dedicated=True))

    async def close(self) -> None:
        """Stop the zygote, remove the cgroups and delete the pool's temporary files."""
        sandbox.probe_finished(self.policy.network)
        self._dedicated.close()
        await self._jobs.close()
        self._locks.close()
        self._scratch.close()
