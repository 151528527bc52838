"""The app's one Engine, and the thread that runs queued runs and wakes due ones.

Every run the app starts (from a page, the REST API, a webhook, a rerun or restart) is
queued through the engine's one way in (`Engine.submit`); the engine's queue worker,
the one driver of runs, claims it and runs it on the engine's own thread
(`app.services.engine_host`), never on the web server's event loop. So a run never depends on
the page or the request that started it, whatever it does the pages keep answering,
and a restarted server picks up what was left queued.

The methods that start, decide or read runs block (they are store calls): web
handlers call them through `app.services.offloop.off_loop`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from app import settings
from app.services.accounts import Accounts, Caller, bootstrap_admin_user
from app.services.auth import Credentials, bootstrap_admin
from app.services.engine_host import EngineThread
from app.services.offloop import DatabaseUnavailable, forbid_on_loop, mark_web_loop, off_loop
from app.services.starters import started_state

log = logging.getLogger("millrace.app")

FINISHED = frozenset({"success", "failure", "canceled"})
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 60.0
MAX_CONCURRENT_RUNS = 8
_UNREAD = object()
RUN_ENDS = frozenset({"run_finished", "run_suspended"})


class EngineService:
    """Owns the Engine and its credentials; starts, re-runs, decides and awaits runs."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._credentials: Credentials | None = None
        self._accounts: Accounts | None = None
        self._worker: Any = None
        self._host: EngineThread | None = None
        self._creating = threading.RLock()
        self.ready = False  # set once first-start work is done and runs are dispatched
        # Unique per process start: a restarted app (the same pid again, in a container)
        # must not pass for the worker it replaces, whose runs it finds lost.
        self.worker_id = f"app-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    @property
    def engine(self) -> Any:
        """The Engine, created on first use (tables are created with its store)."""
        with self._creating:  # the web pool's threads and the engine's may ask first together
            if self._engine is None:
                from engine import Engine, Store, data_folder

                os.environ.setdefault("BASE_INTERNAL_URL", settings.base_internal_url())
                store = Store.open(settings.database_url())
                # Files that outlive a run (the ETL example's DuckDB database) go here; jobs see it at /data.
                os.environ.setdefault("MILLRACE_SCRIPT_DATA_DIR", str(data_folder(store.url).resolve() / "files"))
                engine = Engine(store=store, script_roots=[settings.EXAMPLES_DIR], workspace=settings.WORKSPACE)
                engine.services.run_env = _run_env
                self._engine = engine
        return self._engine

    @property
    def store(self) -> Any:
        """The store as the app shows it: secrets masked in every run's results, errors
        and logs (the engine itself reads and writes the real values)."""
        return self.engine.shown_store

    @property
    def credentials(self) -> Credentials:
        with self._creating:
            if self._credentials is None:
                self._credentials = Credentials(self.engine.store)
        return self._credentials

    @property
    def accounts(self) -> Accounts:
        """Users, their tokens and the audit log."""
        with self._creating:
            if self._accounts is None:
                self._accounts = Accounts(self.credentials)
        return self._accounts

    def submit_flow(self, document: Any, args: dict[str, Any] | None, *, path: str, trigger: str = "ui",
                    started_by: Caller | None = None, run_id: str | None = None) -> str:
        """Queue a run of a flow document; args are checked against its schema first.

        `started_by` is whom the run acts for (its scripts' token, self-approval). A caller
        that wants every event of the run subscribes first, with its own `run_id`.

        Raises:
            ArgsValidationError: the args break the flow's schema.
        """
        run_id = self.engine.submit(document, args or {}, path=path, trigger=trigger, run_id=run_id,
                                    state=started_state(started_by))
        self.wake()
        return run_id

    def submit_script(self, path: str, language: str, content: str, schema: dict[str, Any] | None,
                      args: dict[str, Any] | None, *, trigger: str = "ui", run_id: str | None = None,
                      started_by: Caller | None = None, lock: str | None = None, dedicated: bool = False) -> str:
        """Queue a run of a stand-alone script (as a one-step flow of kind "script"), with
        the lock of its dependencies saved with it, in dedicated mode when it is marked so.

        A caller that wants every event of the run subscribes first, with its own `run_id`.
        """
        from engine import script_flow_value, validate_args

        args = validate_args(schema or None, dict(args or {}))
        flow = script_flow_value(language, content, args, lock=lock, path=path, dedicated=dedicated)
        new_id = self.engine.submit(flow, args, kind="script", run_id=run_id, path=path, trigger=trigger,
                                    state=started_state(started_by))
        self.wake()
        return new_id

    def rerun(self, run_id: str, *, started_by: Caller | None = None) -> str:
        """Queue a new run of the same flow snapshot with the same args."""
        new_id = self.engine.rerun(run_id, state=started_state(started_by))
        self.wake()
        return new_id

    def restart(self, run_id: str, from_key: str, *, started_by: Caller | None = None) -> str:
        """Queue a new run that reuses the steps before `from_key` and runs the rest again."""
        new_id = self.engine.restart(run_id, from_key, state=started_state(started_by))
        self.wake()
        return new_id

    def cancel(self, run_id: str, *, by: str, reason: str | None = None) -> list[str]:
        """Cancel a queued, running or waiting run (with its parts and subflows), recorded
        in the audit log; returns the ids canceled.

        Raises:
            NotFound: no such run.
            BadInput: it has ended already.
        """
        canceled = self.engine.cancel_run(run_id, by=by, reason=reason)
        self.accounts.record(by, "run.canceled", run_id, reason or f"{len(canceled)} run(s) canceled")
        self.wake()
        return canceled

    def decide(self, run_id: str, *, approve: bool, approver: str = "admin",
               payload: Any = None, resume_id: str | None = None, comment: str | None = None) -> str:
        """Approve or reject the step a run waits on; returns the step's verdict."""
        verdict = self.engine.resume(run_id, resume_id or uuid.uuid4().hex, approver, payload, approve=approve,
                                     comment=comment)
        self.accounts.record(approver, "approval.decided", run_id, f"{'approved' if approve else 'rejected'}: {verdict}")
        self.wake()
        return verdict

    def wake(self) -> None:
        """Make the in-process worker look at the queue now rather than at its next poll
        (from any thread)."""
        worker, host = self._worker, self._host
        if worker is not None and host is not None:
            host.call_soon(worker.wake)

    async def wait_finished(self, run_id: str, timeout: float = 60.0) -> Any:
        """The run once it has finished (or is suspended, or `timeout` passed).

        A database away for a while is waited for, like the run.

        Raises:
            DatabaseUnavailable: the database was away until `timeout`, the run never read.
        """
        # Only the news that it ended: the events of its steps would be read for nothing.
        subscription = self.engine.events.subscribe(run_id, kinds=RUN_ENDS)
        deadline, run = time.monotonic() + timeout, _UNREAD
        try:
            while True:
                try:
                    run = await off_loop(self.store.get_run, run_id)
                except DatabaseUnavailable:
                    if run is _UNREAD and time.monotonic() >= deadline:
                        raise
                else:
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
        from app.services.examples import import_examples

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
        """Lifespan task: bootstrap, then run the engine on its own thread until the server stops.

        With MILLRACE_WORKERS=0 the app only queues runs; `python -m engine worker`
        processes run them. On PostgreSQL, events cross processes (`EventRelay`).
        """
        from engine import EventRelay

        mark_web_loop()
        await asyncio.to_thread(self.bootstrap)
        # From now on no database call may block this loop (the app's tables are the store's).
        forbid_on_loop(self.engine.store.db.engine)
        if self.dispatching:
            await asyncio.to_thread(self.report_sandbox)
        # On PostgreSQL, the runs of workers and other app processes reach this one's pages.
        relay = EventRelay.for_engine(self.engine)
        if relay is not None:
            relay.start()
        self._host = EngineThread(self._drive)
        self._host.start()
        self.ready = True
        try:
            await asyncio.Event().wait()
        finally:
            self.ready = False
            await self._host.stop()
            if relay is not None:
                await relay.close()

    @property
    def dispatching(self) -> bool:
        """Whether this process runs flows (MILLRACE_WORKERS is not 0)."""
        return os.environ.get("MILLRACE_WORKERS", "").strip() != "0"

    async def _drive(self) -> None:
        """On the engine's thread: the scheduler, and the worker that runs queued runs."""
        from app.services import scheduling
        from engine import QueueWorker

        if self.dispatching:
            self._worker = QueueWorker(self.engine, worker_id=self.worker_id, concurrency=MAX_CONCURRENT_RUNS,
                                       heartbeat=HEARTBEAT_SECONDS, stale_after=STALE_AFTER_SECONDS,
                                       poll=POLL_SECONDS)
        jobs = [scheduling.serve(on_submit=self.wake)] + ([self._worker.serve()] if self._worker else [])
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            await _cancelled(tasks)  # the worker hands its runs back to the queue
            await self.engine.close()  # stopping: the runners' processes go with the engine
            raise
        finally:
            await _cancelled(tasks)  # one failed (an engine bug): the host starts them all again
            self._worker = None


async def _cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _run_env(run: Any, key: str) -> dict[str, str]:
    from app.services.run_tokens import run_env

    return run_env(run, key)


service = EngineService()
"""The one service of this process."""
