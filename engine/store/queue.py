"""The run queue: workers claim queued runs atomically, heartbeat, and take over stale ones.

A claim is one `UPDATE ... FROM (oldest eligible queued runs)` statement. On
PostgreSQL the inner SELECT is `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass
over each other's rows; on SQLite the write transaction (`BEGIN IMMEDIATE`) already
serializes claimers. Either way `status = 'queued'` is re-checked by the UPDATE.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Float, Integer, bindparam, func, or_, select, update

from engine.store.base import StoreBase, to_model, to_models
from engine.store.runs import RUNS
from engine.store.tables import Run, RunStatus, Worker

WORKERS = Worker.__table__
_QUEUED = RunStatus.QUEUED.value
_RUNNING = RunStatus.RUNNING.value
_SUSPENDED = RunStatus.SUSPENDED.value
_CLAIM_ORDER = (RUNS.c.scheduled_for, RUNS.c.created_at, RUNS.c.id)


@functools.lru_cache(maxsize=8)
def _claim_statement(*, tagged: bool, of_parent: bool = False, scoped: bool = False) -> Any:
    # Built once per shape with bound parameters; building costs more than running.
    now = bindparam("now", type_=Float())
    pick = select(RUNS.c.id).where(RUNS.c.status == _QUEUED, RUNS.c.scheduled_for <= now)
    if tagged:
        pick = pick.where(RUNS.c.tag.in_(bindparam("tags", expanding=True)))
    if of_parent:
        pick = pick.where(RUNS.c.parent_run_id == bindparam("parent"))
    if scoped:
        pick = pick.where(RUNS.c.root_run_id.in_(bindparam("roots", expanding=True)))
    pick = (
        pick.order_by(*_CLAIM_ORDER)
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )
    # Materialized: PostgreSQL would otherwise run the pick again for every row the
    # UPDATE scans, and each run would skip the rows the last one just locked. Joined
    # (UPDATE ... FROM) rather than `id IN (...)`, for which SQLite walks every queued
    # run instead of looking the picked ones up by id.
    picked = pick.cte("picked").prefix_with("MATERIALIZED")
    return (
        update(RUNS)
        .where(RUNS.c.id == picked.c.id, RUNS.c.status == _QUEUED)
        .values(
            status=_RUNNING,
            worker_id=bindparam("claimer"),
            started_at=func.coalesce(RUNS.c.started_at, now),
            heartbeat_at=now,
        )
        .returning(*RUNS.c)
    )


# Every worker sends it twice a second: built once (see _claim_statement).
_REQUEUE_DUE = (
    update(RUNS)
    .where(
        RUNS.c.status == _SUSPENDED,
        RUNS.c.parent_run_id.is_(None),
        RUNS.c.scheduled_for <= bindparam("now", type_=Float()),
    )
    .values(status=_QUEUED)
    .returning(RUNS.c.id)
)


class QueueStore(StoreBase):
    """Claiming, heartbeating and handing back queued runs."""

    def register_worker(
        self,
        worker_id: str,
        *,
        hostname: str | None = None,
        tags: Iterable[str] | None = None,
        now: float | None = None,
    ) -> Worker:
        """Record a worker as alive (again, when the id is known) and return it."""
        now = self._now(now)
        row = {
            "id": worker_id,
            "hostname": hostname or socket.gethostname(),
            "tags": None if tags is None else list(tags),
            "started_at": now,
            "heartbeat_at": now,
            "status": "alive",
        }
        stmt = self.db.insert(WORKERS).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={name: stmt.excluded[name] for name in row if name != "id"},
        )
        with self.db.autocommit() as conn:
            conn.execute(stmt)
        return Worker(**row)

    def list_workers(self) -> list[Worker]:
        """Every worker ever registered, most recently heard from first."""
        stmt = select(WORKERS).order_by(WORKERS.c.heartbeat_at.desc(), WORKERS.c.id)
        with self.db.autocommit() as conn:
            return to_models(Worker, conn.execute(stmt))

    def get_worker(self, worker_id: str) -> Worker | None:
        """The worker with this id, or None."""
        with self.db.autocommit() as conn:
            row = conn.execute(select(WORKERS).where(WORKERS.c.id == worker_id)).first()
        return None if row is None else to_model(Worker, row)

    def claim_run(
        self,
        worker_id: str,
        tags: Iterable[str] | None = None,
        now: float | None = None,
        *,
        parent_run_id: str | None = None,
        roots: Iterable[str] | None = None,
    ) -> Run | None:
        """Take the oldest queued run that may start now, or None when there is none.

        The run becomes "running" under `worker_id`, with `heartbeat_at` now and
        `started_at` now unless it had started before (a run taken over keeps it).

        Args:
            worker_id: The claiming worker.
            tags: Only runs whose tag is one of these; None takes any run.
            now: The current time; the store's clock when None.
            parent_run_id: Only the runs of this parent (a flow run claiming its own parts).
            roots: Only the runs of these run trees (a run and its parts); None: any.
        """
        claimed = self.claim_runs(worker_id, tags, limit=1, now=now, parent_run_id=parent_run_id, roots=roots)
        return claimed[0] if claimed else None

    def claim_runs(
        self,
        worker_id: str,
        tags: Iterable[str] | None = None,
        *,
        limit: int,
        now: float | None = None,
        parent_run_id: str | None = None,
        roots: Iterable[str] | None = None,
    ) -> list[Run]:
        """Take up to `limit` of the oldest queued runs that may start now, in one statement.

        Each run taken is claimed as by `claim_run`; they come oldest first. Fewer than
        `limit` means no other eligible run was free.
        """
        if limit < 1:
            return []
        params: dict[str, object] = {"now": self._now(now), "claimer": worker_id, "limit": limit}
        if tags is not None:
            params["tags"] = list(tags)
        if parent_run_id is not None:
            params["parent"] = parent_run_id
        if roots is not None:
            params["roots"] = list(roots)
            if not params["roots"]:
                return []
        stmt = _claim_statement(tagged=tags is not None, of_parent=parent_run_id is not None,
                                scoped=roots is not None)
        with self.db.autocommit() as conn:
            runs = to_models(Run, conn.execute(stmt, params))
        # RETURNING gives no order; hand them out oldest first, as claimed.
        return sorted(runs, key=lambda run: (run.scheduled_for, run.created_at, run.id))

    def heartbeat(self, worker_id: str, now: float | None = None) -> list[str]:
        """Mark a worker and the runs it holds as alive.

        Returns:
            The ids of the running runs the worker still holds. A run it was working
            on that is missing was taken away (see `requeue_stale`): stop working on it.
        """
        now = self._now(now)
        worker = update(WORKERS).where(WORKERS.c.id == worker_id)
        runs = update(RUNS).where(RUNS.c.worker_id == worker_id, RUNS.c.status == _RUNNING)
        with self.db.transaction() as conn:
            conn.execute(worker.values(heartbeat_at=now, status="alive"))
            held = conn.execute(runs.values(heartbeat_at=now).returning(RUNS.c.id))
            return sorted(held.scalars())

    def release(
        self, run_id: str, *, worker_id: str | None = None, scheduled_for: float | None = None
    ) -> bool:
        """Hand a running run back to the queue, e.g. when its worker stops.

        Args:
            run_id: The run.
            worker_id: Only release it if this worker holds it.
            scheduled_for: When it may be claimed again (unchanged when None).

        Returns:
            Whether the run was running (and held by `worker_id`) and is now queued.
        """
        stmt = update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == _RUNNING)
        if worker_id is not None:
            stmt = stmt.where(RUNS.c.worker_id == worker_id)
        values: dict[str, object] = {"status": _QUEUED, "worker_id": None, "heartbeat_at": None}
        if scheduled_for is not None:
            values["scheduled_for"] = scheduled_for
        with self.db.autocommit() as conn:
            return conn.execute(stmt.values(values)).rowcount > 0

    def requeue_stale(
        self, now: float | None = None, timeout: float = 60.0, *, roots: Iterable[str] | None = None
    ) -> list[str]:
        """Put back in the queue the runs whose worker stopped heartbeating.

        A running run held by a worker with `heartbeat_at` older than `now - timeout`
        becomes "queued" with no worker, so another worker takes it over; workers that
        went quiet as long are marked "lost" (the executor counts, against the step a
        lost worker was running, that it was lost). Runs with no heartbeat at all are
        left alone.

        Args:
            now: The current time; the store's clock when None.
            timeout: Seconds without a heartbeat after which a worker is lost.
            roots: Only the runs of these run trees, and only their workers are judged;
                None: every run and worker.

        Returns:
            The ids of the requeued runs.
        """
        cutoff = self._now(now) - timeout
        stale = [RUNS.c.status == _RUNNING, RUNS.c.worker_id.is_not(None), RUNS.c.heartbeat_at < cutoff]
        if roots is not None:
            stale.append(RUNS.c.root_run_id.in_(list(roots)))
        runs = update(RUNS).where(*stale)
        workers = update(WORKERS).where(WORKERS.c.status == "alive", WORKERS.c.heartbeat_at < cutoff)
        if roots is not None:
            workers = workers.where(WORKERS.c.id.in_(select(RUNS.c.worker_id).where(*stale)))
        with self.db.transaction() as conn:
            # The workers first: with `roots`, they are found through the runs they hold.
            conn.execute(workers.values(status="lost"))
            requeued = conn.execute(
                runs.values(status=_QUEUED, worker_id=None, heartbeat_at=None).returning(RUNS.c.id)
            )
            ids = sorted(requeued.scalars())
        return ids

    def cancel_tree(self, run_id: str, error: dict[str, Any], now: float | None = None) -> list[str]:
        """End a run and every unfinished run of its tree (parts, subflows) as canceled.

        One statement, so a worker that claims or finishes one of them meanwhile either
        got there first (the run has ended already) or finds it canceled. A worker
        running one of them stops it at its next heartbeat (it no longer holds it).

        Returns:
            The ids of the runs canceled (the run's first when it was unfinished).
        """
        stmt = (update(RUNS)
                .where(or_(RUNS.c.id == run_id, RUNS.c.root_run_id == run_id),
                       RUNS.c.status.in_([_QUEUED, _RUNNING, _SUSPENDED]))
                .values(status=RunStatus.CANCELED.value, error=error, finished_at=self._now(now),
                        worker_id=None, heartbeat_at=None)
                .returning(RUNS.c.id))
        with self.db.autocommit() as conn:
            ids = set(conn.execute(stmt).scalars())
        return sorted(ids, key=lambda found: (found != run_id, found))

    def requeue_due(self, now: float | None = None) -> list[str]:
        """Queue the waiting (suspended) top-level runs whose wake-up time has come.

        A suspended run's `scheduled_for` is its approval deadline; once passed, the run
        must continue (to fail or carry on). One atomic update, so with many workers
        each such run is queued once and claimed by one of them.

        Returns:
            The ids of the runs queued.
        """
        with self.db.autocommit() as conn:
            return sorted(conn.execute(_REQUEUE_DUE, {"now": self._now(now)}).scalars())

    def retire_worker(self, worker_id: str) -> list[str]:
        """Mark a worker stopped and hand back the runs it holds; returns their ids."""
        runs = update(RUNS).where(RUNS.c.worker_id == worker_id, RUNS.c.status == _RUNNING)
        with self.db.transaction() as conn:
            conn.execute(update(WORKERS).where(WORKERS.c.id == worker_id).values(status="stopped"))
            released = conn.execute(
                runs.values(status=_QUEUED, worker_id=None, heartbeat_at=None).returning(RUNS.c.id)
            )
            return sorted(released.scalars())
