"""`python -m engine`: run flows, resume and inspect runs from the command line.

Contract of `run`: stdout is the flow's final result as one JSON document; exit 0 on
success, 1 when the flow failed (stdout still holds its result), 2 on bad input.

`run`, `recover` and `worker` all drive runs through the one queue driver
(engine/worker.py): `run` queues its run and serves a driver in process that takes only
that run; `recover` serves one that takes every run until none is left to take.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from typing import Any

from engine.errors import BadInput, NotFound

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = _parser()
    options = parser.parse_args(argv)
    if options.handler is not _cmd_run:
        _started_up()
    try:
        return options.handler(options)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Millrace flow engine")
    parser.add_argument("--db", help="database URL (default: DATABASE_URL or sqlite under data/)")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a flow file (JSON or YAML) and print its result")
    run.add_argument("file")
    run.add_argument("--args", help="flow arguments as a JSON object")
    run.add_argument("--args-file", help="file holding the flow arguments as JSON")
    run.add_argument("--events", action="store_true", help="write step events as JSON lines on stderr")
    run.add_argument("--run-id", help="id of the run; an unfinished run with this id is continued")
    run.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    _liveness_options(run)
    run.set_defaults(handler=_cmd_run)
    for name, helptext in (("resume", "approve a step waiting for approval"),
                           ("cancel", "disapprove a step waiting for approval")):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("run_id")
        cmd.add_argument("--approver", default=None)
        cmd.add_argument("--resume-id", default=None, help="id of this decision (default: the approver)")
        cmd.add_argument("--payload", default=None, help="JSON payload given to the next step")
        cmd.set_defaults(handler=_cmd_decide, approve=(name == "resume"))
    status = sub.add_parser("status", help="print a run's status, result and steps as JSON")
    status.add_argument("run_id")
    status.set_defaults(handler=_cmd_status)
    logs = sub.add_parser("logs", help="print a run's log lines")
    logs.add_argument("run_id")
    logs.set_defaults(handler=_cmd_logs)
    recover = sub.add_parser("recover", help="run every queued run and every run a dead process left "
                             "unfinished (after --stale-after seconds without its heartbeat), then exit")
    recover.add_argument("--concurrency", type=int, default=4, help="runs held at once (default 4)")
    _liveness_options(recover)
    recover.set_defaults(handler=_cmd_recover)
    worker = sub.add_parser("worker", help="claim queued runs from the store and run them (scale-out)")
    worker.add_argument("--db", default=argparse.SUPPRESS, help="database URL (as before the command)")
    worker.add_argument("--concurrency", type=int, default=4, help="runs held at once (default 4)")
    worker.add_argument("--tags", help="comma-separated tags of the work it takes (worker group): flow (whole "
                        "flows, loop iterations, branches), python3 (or python), bash, bun, deno, nativets, "
                        "or a step's own tag; steps it has no tag for go to workers that have (default: all)")
    _liveness_options(worker)
    worker.add_argument("--grace", type=float, default=30.0,
                        help="seconds to finish held runs on SIGTERM before handing them back (default 30)")
    worker.add_argument("--spread", action=argparse.BooleanOptionalAction, default=None,
                        help="give parallel loop iterations and branches to the queue so all workers share "
                        "them (default: on with PostgreSQL, off with SQLite)")
    worker.add_argument("--network", action=argparse.BooleanOptionalAction, default=None,
                        help="whether this worker group's scripts may use the network (default: "
                        "MILLRACE_SANDBOX_NETWORK, else on)")
    worker.set_defaults(handler=_cmd_worker)
    deps = sub.add_parser("deps", help="steps' dependencies: lock a script, prune the cache (MILLRACE_DEPS_DIR)")
    deps_sub = deps.add_subparsers(dest="deps_command", required=True)
    prune = deps_sub.add_parser("prune", help="remove cached environments no process holds, and interrupted installs")
    prune.add_argument("--older-than", type=float, default=None, metavar="DAYS",
                       help="only environments unused for this many days (default: every one not in use)")
    prune.set_defaults(handler=_cmd_deps_prune)
    lock = deps_sub.add_parser("lock", help="print the lock a script file's imports resolve to (as *.script.lock)")
    lock.add_argument("file")
    lock.set_defaults(handler=_cmd_deps_lock)
    schema = sub.add_parser("schema", help="print the JSON Schema of a script's main() arguments")
    schema.add_argument("file")
    schema.set_defaults(handler=_cmd_schema)
    return parser


def _started_up() -> None:
    """Collect garbage again, if `python -m engine` stopped it for the start-up.

    What the start-up made (modules, the flow, the store) is moved out of the collector's
    sight first: it lives as long as the process, so no collection needs to walk it.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _liveness_options(parser: argparse.ArgumentParser) -> None:
    """The driver's heartbeat options, the same for every command that drives runs."""
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats (default 10)")
    parser.add_argument("--stale-after", type=float, default=60.0,
                        help="seconds without heartbeat before a worker's runs are taken over (default 60)")


def _liveness(options: argparse.Namespace) -> dict[str, float]:
    return {"heartbeat": options.heartbeat, "stale_after": options.stale_after}


def _cmd_run(options: argparse.Namespace) -> int:
    from engine.runners import RunnerPool

    # The sandbox check and the zygote boot in other processes while this one imports
    # the flow models and the store (most of a short run's time).
    runners = RunnerPool()
    runners.warm()
    try:
        import engine.engine  # noqa: F401  (the store and the executor, imported while collection is off)
        import engine.openflow  # noqa: F401  (the flow models, likewise)
        from engine.loading import load_checked_flow

        # From here on the process reads its input, which may be built to make garbage
        # (a YAML file of nested aliases): collect it as usual.
        _started_up()
        args = _read_args(options)
        document = load_checked_flow(options.file)
        return asyncio.run(_run(options, document, args, runners))
    finally:
        asyncio.run(runners.close())


async def _run(options: argparse.Namespace, document: Any, args: dict[str, Any], runners: Any) -> int:
    from engine.cli_progress import attach_display
    from engine.engine import Engine

    engine = Engine(store=_store(options), runners=runners, script_roots=_roots(options.file))
    detach = attach_display(engine.events, events=options.events, quiet=options.quiet)
    try:
        outcome = await engine.run(document, args, run_id=options.run_id, path=options.file, trigger="cli",
                                   **_liveness(options))
        if outcome.status == "suspended":
            # Another process decides (`resume`, the web app, a link): keep driving until then.
            print(f"run {outcome.run_id} waits for approval: python -m engine resume {outcome.run_id}",
                  file=sys.stderr)
            outcome = await engine.drive(outcome.run_id, through_approvals=True, **_liveness(options))
    finally:
        detach()
        await engine.close()
    print(json.dumps(engine.masker.data(outcome.result)))
    return EXIT_OK if outcome.status == "success" else EXIT_FAILED


def _cmd_decide(options: argparse.Namespace) -> int:
    from engine.engine import Engine

    payload = _json_option(options.payload, "--payload") if options.payload else None
    engine = Engine(store=_store(options))
    resume_id = options.resume_id or options.approver or "cli"
    verdict = engine.resume(options.run_id, resume_id, options.approver, payload, approve=options.approve)
    print(json.dumps({"run_id": options.run_id, "verdict": verdict}))
    return EXIT_OK


def _cmd_status(options: argparse.Namespace) -> int:
    store = _shown_store(options)
    run = store.get_run(options.run_id)
    if run is None:
        raise NotFound(f"run {options.run_id!r} not found")
    steps = {key: {"status": r.status, "result": r.result, "error": r.error, "attempts": r.attempts}
             for key, r in store.load_steps(run.id).items()}
    print(json.dumps({"id": run.id, "status": run.status, "result": run.result,
                      "error": run.error, "steps": steps}, indent=2))
    return EXIT_OK


def _cmd_logs(options: argparse.Namespace) -> int:
    for line in _shown_store(options).get_logs(options.run_id, limit=1_000_000):
        print(f"{line.step_key}\t{line.stream}\t{line.line}")
    return EXIT_OK


def _cmd_recover(options: argparse.Namespace) -> int:
    import os

    from engine.engine import Engine
    from engine.worker import QueueWorker

    async def recover() -> list[dict[str, Any]]:
        engine = Engine(store=_store(options), script_roots=[os.getcwd()])
        try:
            worker = QueueWorker(engine, concurrency=options.concurrency, **_liveness(options))
            driven = await worker.serve(until_idle=True)
            runs = [engine.store.get_run(run_id) for run_id in driven]
            return [{"run_id": run.id, "status": run.status, "result": engine.masker.data(run.result)}
                    for run in runs]
        finally:
            await engine.close()

    for shown in asyncio.run(recover()):
        print(json.dumps(shown))
    return EXIT_OK


def _cmd_worker(options: argparse.Namespace) -> int:
    import logging
    import os

    from engine.engine import Engine
    from engine.pgevents import EventRelay
    from engine.runners import RunnerPool
    from engine.vault import Vault
    from engine.worker import QueueWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    tags = [t.strip() for t in options.tags.split(",") if t.strip()] if options.tags else None
    runners = RunnerPool(network=options.network)
    refused = runners.refusal()
    logging.getLogger("millrace.worker").log(logging.ERROR if refused else logging.INFO, "%s",
                                              refused or runners.describe())

    async def serve() -> None:
        engine = Engine(store=_store(options), script_roots=[os.getcwd()], runners=runners)
        # Scripts call the app back (wmill) with a run token the app accepts when both
        # hold the same MILLRACE_SECRET_KEY; BASE_INTERNAL_URL comes from this environment.
        engine.services.run_env = Vault.of(engine.store).run_tokens.script_env
        # On PostgreSQL, pages served by app processes elsewhere follow these runs live.
        relay = EventRelay.for_engine(engine)
        try:
            if relay is not None:
                relay.start()
            worker = QueueWorker(engine, concurrency=options.concurrency, tags=tags, heartbeat=options.heartbeat,
                                 stale_after=options.stale_after, grace=options.grace, spread=options.spread)
            await worker.serve_until_signalled()
        finally:
            if relay is not None:
                await relay.close()
            await runners.close()

    asyncio.run(serve())
    return EXIT_OK


def _cmd_schema(options: argparse.Namespace) -> int:
    from engine.runners import script_schema

    print(json.dumps(script_schema(*_script_file(options.file)), indent=2))
    return EXIT_OK


def _script_file(file: str) -> tuple[str, str]:
    """(language, content) of a script file, its language told by its suffix."""
    from engine.resolver import SCRIPT_SUFFIXES

    language = next((lang for suffix, lang in SCRIPT_SUFFIXES if file.endswith(suffix)), None)
    if language is None:
        raise BadInput(f"{file}: unknown script type (use .py, .sh or .ts)")
    try:
        with open(file, encoding="utf-8") as handle:
            return language, handle.read()
    except OSError as exc:
        raise BadInput(f"{file}: {exc.strerror}") from exc


def _cmd_deps_prune(options: argparse.Namespace) -> int:
    from engine.deps.cache import DepsCache

    cache = DepsCache()
    older_than = options.older_than * 86400 if options.older_than is not None else None
    removed = cache.prune(older_than)
    for name in removed:
        print(f"removed {name}")
    print(f"{len(removed)} removed from {cache.root}", file=sys.stderr)
    return EXIT_OK


def _cmd_deps_lock(options: argparse.Namespace) -> int:
    from engine.deps.saving import lock_script

    print(lock_script(*_script_file(options.file)) or "", end="")
    return EXIT_OK


def _read_args(options: argparse.Namespace) -> dict[str, Any]:
    if options.args and options.args_file:
        raise BadInput("give --args or --args-file, not both")
    if options.args_file:
        try:
            with open(options.args_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise BadInput(f"--args-file {options.args_file}: {exc.strerror}") from exc
        return _json_object(text, f"--args-file {options.args_file}")
    return _json_object(options.args, "--args") if options.args else {}


def _json_object(text: str, where: str) -> dict[str, Any]:
    value = _json_option(text, where)
    if not isinstance(value, dict):
        raise BadInput(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _json_option(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _store(options: argparse.Namespace) -> Any:
    from engine.store import Store

    return Store.open(options.db)


def _shown_store(options: argparse.Namespace) -> Any:
    """The store as people see it: secrets masked in results, errors and logs."""
    from engine.masking import MaskedStore, masker_for

    store = _store(options)
    return MaskedStore(store, masker_for(store))


def _roots(file: str) -> list[str]:
    import os

    return [os.path.dirname(os.path.abspath(file)), os.getcwd()]
