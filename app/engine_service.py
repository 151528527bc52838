"""The app's one Engine, and the loop that runs queued runs and wakes due ones.

Every run the app starts (from a page, the REST API, an approval) is first recorded
as queued; the dispatcher claims it through the store's queue and runs it as an
asyncio task in the server's event loop. So a run never depends on the page or the
request that started it, and a restarted server picks up what was left queued.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import Any

from app import settings
from app.accounts import Accounts, Caller, bootstrap_admin_user
from app.auth import Credentials, bootstrap_admin
from app.starters import started_state

log = logging.getLogger("millrace.app")

FINISHED = frozenset({"success", "failure", "canceled"})
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 60.0
MAX_CONCURRENT_RUNS = 8


class EngineService:
    """Owns the Engine and its credentials; starts, re-runs, decides and awaits runs."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._credentials: Credentials | None = None
        self._accounts: Accounts | None = None
        self._worker: Any = None
        self.ready = False  # set once first-start work is done and runs are dispatched
        self.worker_id = f"app-{socket.gethostname()}-{os.getpid()}"

    @property
    def engine(self) -> Any:
        """The Engine, created on first use (tables are created with its store)."""
        if self._engine is None:
            from engine import Engine, Store

            os.environ.setdefault("BASE_INTERNAL_URL", settings.base_internal_url())
            self._engine = Engine(store=Store.open(settings.database_url()),
                                  script_roots=[settings.EXAMPLES_DIR], workspace=settings.WORKSPACE)
            self._engine.services.run_env = _run_env
        return self._engine

    @property
    def store(self) -> Any:
        """The store as the app shows it: secrets masked in every run's results, errors
        and logs (the engine itself reads and writes the real values)."""
        return self.engine.shown_store

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            self._credentials = Credentials(self.engine.store)
        return self._credentials

    @property
    def accounts(self) -> Accounts:
        """Users, their tokens and the audit log."""
        if self._accounts is None:
            self._accounts = Accounts(self.credentials)
        return self._accounts

    def submit_flow(self, document: Any, args: dict[str, Any] | None, *, path: str, trigger: str = "ui",
                    started_by: Caller | None = None) -> str:
        """Queue a run of a flow document; args are checked against its schema first.

        `started_by` is whom the run acts for (its scripts' token, self-approval).

        Raises:
            ArgsValidationError: the args break the flow's schema.
        """
        run_id = self.engine.submit(document, args or {}, path=path, trigger=trigger,
                                    state=started_state(started_by))
        self.wake()
        return run_id

    def submit_script(self, path: str, language: str, content: str, schema: dict[str, Any] | None,
                      args: dict[str, Any] | None, *, trigger: str = "ui", run_id: str | None = None,
                      started_by: Caller | None = None, lock: str | None = None) -> str:
        """Queue a run of a stand-alone script (as a one-step flow of kind "script"), with
        the lock of its dependencies saved with it.

        A caller that wants every event of the run subscribes first, with its own `run_id`.
        """
        from engine import script_flow_value, validate_args

        args = validate_args(schema or None, dict(args or {}))
        flow = script_flow_value(language, content, args, lock=lock, path=path)
        return self._queue("script", path, args, flow, trigger, run_id, started_by=started_by)

    def rerun(self, run_id: str, *, started_by: Caller | None = None) -> str:
        """Queue a new run of the same flow snapshot with the same args."""
        from engine import NotFound

        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} not found")
        return self._queue(run.kind, run.path, dict(run.args or {}), run.flow, "rerun", started_by=started_by)

    def restart(self, run_id: str, from_key: str, *, started_by: Caller | None = None) -> str:
        """Queue a new run that reuses the steps before `from_key` and runs the rest again."""
        new_id = self.engine.restart(run_id, from_key, state=started_state(started_by))
        self.wake()
        return new_id

    def decide(self, run_id: str, *, approve: bool, approver: str = "admin",
               payload: Any = None, resume_id: str | None = None, comment: str | None = None) -> str:
        """Approve or reject the step a run waits on; returns the step's verdict."""
        verdict = self.engine.resume(run_id, resume_id or uuid.uuid4().hex, approver, payload, approve=approve,
                                     comment=comment)
        self.accounts.record(approver, "approval.decided", run_id, f"{'approved' if approve else 'rejected'}: {verdict}")
        self.wake()
        return verdict

    def _queue(self, kind: str, path: str, args: dict[str, Any], flow: Any, trigger: str,
               run_id: str | None = None, *, started_by: Caller | None = None) -> str:
        run = self.store.create_run(id=run_id, kind=kind, path=path, args=args, flow=flow, status="queued",
                                    trigger=trigger, tag="flow", workspace=settings.WORKSPACE,
                                    state=started_state(started_by))
        self.wake()
        return run.id

    def wake(self) -> None:
        """Make the in-process worker look at the queue now rather than at its next poll."""
        if self._worker is not None:
            self._worker.wake()

    async def wait_finished(self, run_id: str, timeout: float = 60.0) -> Any:
        """The run once it has finished (or is suspended, or `timeout` passed)."""
        subscription = self.engine.events.subscribe(run_id)
        deadline = time.monotonic() + timeout
        try:
            while True:
                run = self.store.get_run(run_id)
                if run is None or run.status in FINISHED or run.status == "suspended":
                    return run
                left = deadline - time.monotonic()
                if left <= 0:
                    return run
                try:
                    await asyncio.wait_for(subscription.get(), min(left, POLL_SECONDS))
                except asyncio.TimeoutError:
                    pass
        finally:
            subscription.close()

    def bootstrap(self) -> None:
        """First-start work: tables, the admin token (printed once), the example flows."""
        from app.examples import import_examples

        # App instances starting together on an empty database: one bootstraps it.
        with self.store.db.exclusive("millrace-bootstrap"):
            token = bootstrap_admin(self.credentials)
            if token is not None:
                print(f"\nMillrace admin API token (shown once, keep it): {token}\n", flush=True)
            password = bootstrap_admin_user(self.accounts)
            if password is not None:
                print(f"\nMillrace user admin, password (shown once, keep it): {password}\n", flush=True)
            imported = import_examples(self.store, self.credentials)
        if imported:
            log.info("imported example flows: %s", ", ".join(imported))

    def report_sandbox(self) -> None:
        """Say at start how scripts are isolated, or loudly that none will run (no sandbox here)."""
        runners = self.engine.services.runners
        refused = runners.refusal()
        if refused is not None:
            log.error("%s", refused)
            print(f"\nMillrace runs no scripts: {refused}\n", flush=True)
        else:
            log.info("%s", runners.describe())

    async def serve(self) -> None:
        """Lifespan task: bootstrap, then run queued runs in-process until the server stops.

        With MILLRACE_WORKERS=0 the app only queues runs; `python -m engine worker`
        processes run them. On PostgreSQL, events cross processes (`EventRelay`).
        """
        from engine import EventRelay
        from engine.worker import QueueWorker

        await asyncio.to_thread(self.bootstrap)
        dispatching = os.environ.get("MILLRACE_WORKERS", "").strip() != "0"
        if dispatching:
            await asyncio.to_thread(self.report_sandbox)
            self._worker = QueueWorker(self.engine, worker_id=self.worker_id, concurrency=MAX_CONCURRENT_RUNS,
                                       heartbeat=HEARTBEAT_SECONDS, stale_after=STALE_AFTER_SECONDS,
                                       poll=POLL_SECONDS)
        # On PostgreSQL, the runs of workers and other app processes reach this one's pages.
        relay = EventRelay.for_engine(self.engine)
        if relay is not None:
            relay.start()
        self.ready = True
        try:
            if self._worker is not None:
                await self._worker.serve()
            else:
                await asyncio.Event().wait()
        finally:
            self.ready = False
            self._worker = None
            if relay is not None:
                await relay.close()
            if self._engine is not None:
                await self._engine.close()


def _run_env(run: Any, key: str) -> dict[str, str]:
    from app.run_tokens import run_env

    return run_env(run, key)


service = EngineService()
"""The one service of this process."""
