"""Dedicated mode: a warm sandboxed worker per script version calls main again for each job."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.runners import RunnerPool, ScriptJob
from tests.engine.runnerkit import Runner, lines, none_left, processes_mentioning

# A module-level token names the process that loaded the script: equal tokens, same worker.
COUNTER = """
import os, uuid
WORKER = uuid.uuid4().hex
calls = 0

def main(x=0):
    global calls
    calls += 1
    print(f"call {calls} of {os.environ['MILLRACE_JOB_ID']}")
    return {"worker": WORKER, "calls": calls, "x": x, "job": os.environ["MILLRACE_JOB_ID"],
            "token": os.environ.get("RUN_TOKEN")}
"""


@pytest.fixture
def runner():
    runner = Runner(RunnerPool(max_result_bytes=100_000), "python3", "job-1")
    yield runner
    runner.close()


def dedicated(runner: Runner, content: str, args: dict | None = None, **options):
    options.setdefault("env", {"WM_WORKSPACE": "main"})
    return runner.run(content, args, dedicated=True, **options)


def test_module_state_persists_between_calls_of_one_script_version(runner):
    first, _ = dedicated(runner, COUNTER, {"x": 1})
    second, _ = dedicated(runner, COUNTER, {"x": 2})
    assert first.ok and second.ok, (first.error, second.error)
    assert first.result["worker"] == second.result["worker"]
    assert (first.result["calls"], second.result["calls"]) == (1, 2)
    assert second.result["x"] == 2


def test_jobs_not_marked_dedicated_each_get_a_fresh_process(runner):
    first, _ = runner.run(COUNTER)
    second, _ = runner.run(COUNTER)
    assert first.result["worker"] != second.result["worker"]
    assert first.result["calls"] == second.result["calls"] == 1


def test_two_versions_of_a_script_never_share_a_worker(runner):
    old, _ = dedicated(runner, COUNTER)
    new, _ = dedicated(runner, COUNTER + "\n# edited\n")
    old_again, _ = dedicated(runner, COUNTER)
    assert new.result["worker"] != old.result["worker"]
    assert new.result["calls"] == 1
    assert (old_again.result["worker"], old_again.result["calls"]) == (old.result["worker"], 2)


def test_two_workspaces_never_share_a_worker_of_the_same_text(runner):
    here, _ = dedicated(runner, COUNTER, env={"WM_WORKSPACE": "one"})
    there, _ = dedicated(runner, COUNTER, env={"WM_WORKSPACE": "two"})
    assert here.result["worker"] != there.result["worker"]
    assert there.result["calls"] == 1


def test_each_call_sees_its_own_job_id_token_and_logs(runner):
    runner.job_id = "run-a:step"
    first, first_logs = dedicated(runner, COUNTER, env={"WM_WORKSPACE": "main", "RUN_TOKEN": "token-a"})
    runner.job_id = "run-b:step"
    second, second_logs = dedicated(runner, COUNTER, env={"WM_WORKSPACE": "main"})
    assert first.result["worker"] == second.result["worker"]
    assert (first.result["job"], first.result["token"]) == ("run-a:step", "token-a")
    assert (second.result["job"], second.result["token"]) == ("run-b:step", None)
    assert lines(first_logs) == ["call 1 of run-a:step"]
    assert lines(second_logs) == ["call 2 of run-b:step"]


def test_a_timeout_fails_that_job_alone_and_the_next_call_gets_a_fresh_worker(runner):
    script = COUNTER + "\nimport time\ndef slow():\n    time.sleep(30.417)\n"
    warm, _ = dedicated(runner, script)
    timed_out, _ = dedicated(runner, script, entry="slow", timeout=0.5)
    assert not timed_out.ok
    assert timed_out.error["name"] == "TimeoutError"
    assert "timed out after 0.5 s" in timed_out.error["message"]
    assert none_left("30.417")
    after, _ = dedicated(runner, script)
    assert after.ok, after.error
    assert after.result["worker"] != warm.result["worker"]
    assert after.result["calls"] == 1


def test_a_crash_fails_that_job_with_a_clear_error_and_the_next_call_works(runner):
    script = COUNTER + "\nimport signal\ndef crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    warm, _ = dedicated(runner, script)
    crashed, _ = dedicated(runner, script, entry="crash")
    assert not crashed.ok
    assert crashed.error["name"] == "ScriptCrashed"
    assert "SIGKILL" in crashed.error["message"]
    after, _ = dedicated(runner, script)
    assert after.ok, after.error
    assert after.result["worker"] != warm.result["worker"]


def test_a_failing_call_keeps_the_worker_and_its_state(runner):
    script = COUNTER + "\ndef fail():\n    raise ValueError('bad input 42')\n"
    dedicated(runner, script)
    failed, _ = dedicated(runner, script, entry="fail")
    after, _ = dedicated(runner, script)
    assert failed.error["name"] == "ValueError" and "bad input 42" in failed.error["message"]
    assert after.result["calls"] == 2


def test_running_out_of_memory_fails_that_call_and_the_next_one_works(runner):
    script = COUNTER + "\ndef hog():\n    return len(bytearray(400 * 2**20))\n"
    dedicated(runner, script, memory_limit_mb=200)
    hogged, _ = dedicated(runner, script, entry="hog", memory_limit_mb=200)
    assert not hogged.ok
    assert hogged.error["name"] == "MemoryError"
    assert "200 MiB" in hogged.error["message"]
    after, _ = dedicated(runner, script, memory_limit_mb=200)
    assert after.ok, after.error


def test_a_result_over_the_limit_fails_that_job_and_the_next_call_works(runner):
    script = COUNTER + "\ndef big():\n    return 'x' * 200_000\n"
    big, _ = dedicated(runner, script, entry="big")
    assert big.error["name"] == "ResultTooLarge"
    after, _ = dedicated(runner, script)
    assert after.ok, after.error


def test_a_script_that_fails_to_load_fails_each_call_saying_why(runner):
    for _ in range(2):
        outcome, _ = dedicated(runner, "def main(:\n    pass\n")
        assert outcome.error["name"] == "SyntaxError"
        assert "line 1" in outcome.error["message"]


def test_the_worker_runs_in_the_sandbox(runner):
    outcome, _ = dedicated(runner, f"""
        import os
        def main():
            return [os.path.exists({str(Path(__file__))!r}), os.getuid() == 0 and os.geteuid() == 0, os.getpid()]
        """)
    assert outcome.ok, outcome.error
    host_file_seen, _root, pid = outcome.result
    assert not host_file_seen
    assert pid < 10  # in a PID namespace of its own


def test_calls_to_one_worker_take_turns(runner):
    script = COUNTER + "\nimport time\ndef span():\n    start = time.monotonic()\n    time.sleep(0.2)\n    return [WORKER, start, time.monotonic()]\n"

    async def both():
        jobs = [ScriptJob("python3", script, {}, f"job-{n}", entry="span", dedicated=True,
                          env={"WM_WORKSPACE": "main"}) for n in range(2)]
        return await asyncio.gather(*(runner.pool.run(job) for job in jobs))

    first, second = runner.loop.run_until_complete(both())
    assert first.result[0] == second.result[0]
    (_, a_start, a_end), (_, b_start, b_end) = sorted([first.result, second.result], key=lambda r: r[1])
    assert b_start >= a_end


def test_at_most_the_cap_of_workers_live_the_least_recently_used_goes(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_DEDICATED_WORKERS", "2")
    named = COUNTER + "\nopen('/proc/self/comm', 'w').write(NAME)\n"
    for name in ("lru-first", "lru-second", "lru-third"):
        outcome, _ = dedicated(runner, f"NAME = {name!r}\n" + named)
        assert outcome.ok, outcome.error
    assert none_left("lru-first")
    assert processes_mentioning("lru-second") and processes_mentioning("lru-third")


def test_an_idle_worker_is_ended(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_DEDICATED_IDLE", "0.2")
    outcome, _ = dedicated(runner, COUNTER + "\nopen('/proc/self/comm', 'w').write('idle-worker')\n")
    assert outcome.ok, outcome.error
    assert processes_mentioning("idle-worker")
    runner.loop.run_until_complete(asyncio.sleep(0.6))
    assert none_left("idle-worker", within=1.0)


def test_a_worker_grown_past_the_memory_cap_is_ended_after_its_call(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_DEDICATED_MAX_RSS_MB", "120")
    script = COUNTER + "\nKEPT = []\ndef grow():\n    KEPT.append(bytearray(150 * 2**20))\n    return WORKER\n"
    grown, _ = dedicated(runner, script, entry="grow")
    assert grown.ok, grown.error
    after, _ = dedicated(runner, script)
    assert after.result["worker"] != grown.result
    assert after.result["calls"] == 1


def test_bash_marked_dedicated_runs_the_ordinary_way(runner):
    outcome, logs = runner.run('echo "hi"', {}, language="bash", dedicated=True)
    assert outcome.ok, outcome.error
    assert lines(logs) == ["hi"]


def test_closing_the_pool_ends_its_workers():
    runner = Runner(RunnerPool(), "python3", "job-1")
    outcome, _ = dedicated(runner, COUNTER + "\nopen('/proc/self/comm', 'w').write('closing-worker')\n")
    assert outcome.ok, outcome.error
    runner.close()
    assert none_left("closing-worker")



def test_a_cancelled_call_ends_its_worker_and_the_next_call_gets_a_fresh_one(runner):
    script = COUNTER + "\nimport time\ndef slow():\n    time.sleep(30.731)\n"
    warm, _ = dedicated(runner, script)
    job = ScriptJob("python3", script, {}, "job-c", entry="slow", dedicated=True, env={"WM_WORKSPACE": "main"})

    async def cancelled():
        task = asyncio.ensure_future(runner.pool.run(job))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    runner.loop.run_until_complete(cancelled())
    assert none_left("30.731")
    after, _ = dedicated(runner, script)
    assert after.ok, after.error
    assert after.result["worker"] != warm.result["worker"] and after.result["calls"] == 1


def test_an_async_main_keeps_one_event_loop_across_calls(runner):
    script = """
import asyncio
QUEUE = None

async def main():
    global QUEUE
    QUEUE = QUEUE or asyncio.Queue()  # bound to the loop of the call that first waits on it
    waiter = asyncio.ensure_future(QUEUE.get())
    await asyncio.sleep(0)
    await QUEUE.put(1)
    await waiter
    return id(asyncio.get_running_loop())
"""
    first, _ = dedicated(runner, script)
    second, _ = dedicated(runner, script)
    assert first.ok and second.ok, (first.error, second.error)
    assert first.result == second.result


# --- TypeScript under bun --------------------------------------------------------------

BUN_COUNTER = """
let calls = 0;
const WORKER = crypto.randomUUID();
export async function main(x: number = 0) {
  calls += 1;
  console.log(`call ${calls} of ${process.env.MILLRACE_JOB_ID}`);
  return { worker: WORKER, calls, x, token: process.env.RUN_TOKEN ?? null };
}
export function crash() {
  process.exit(3);
}
export async function slow() {
  await new Promise((resolve) => setTimeout(resolve, 30_000));
}
"""


def test_a_dedicated_bun_script_keeps_its_module_state_and_gets_each_calls_env_and_logs(runner):
    runner.job_id = "run-a:step"
    first, first_logs = dedicated(runner, BUN_COUNTER, {"x": 1}, language="bun",
                                  env={"WM_WORKSPACE": "main", "RUN_TOKEN": "token-a"})
    runner.job_id = "run-b:step"
    second, second_logs = dedicated(runner, BUN_COUNTER, {"x": 2}, language="bun")
    assert first.ok and second.ok, (first.error, second.error)
    assert first.result["worker"] == second.result["worker"]
    assert (first.result["calls"], second.result["calls"], second.result["x"]) == (1, 2, 2)
    assert (first.result["token"], second.result["token"]) == ("token-a", None)
    assert lines(first_logs) == ["call 1 of run-a:step"]
    assert lines(second_logs) == ["call 2 of run-b:step"]


def test_a_bun_worker_that_exits_or_times_out_fails_that_job_and_the_next_gets_a_fresh_one(runner):
    warm, _ = dedicated(runner, BUN_COUNTER, language="bun")
    crashed, _ = dedicated(runner, BUN_COUNTER, language="bun", entry="crash")
    assert crashed.error["name"] == "ScriptCrashed" and "code 3" in crashed.error["message"]
    after_crash, _ = dedicated(runner, BUN_COUNTER, language="bun")
    assert after_crash.ok, after_crash.error
    assert after_crash.result["worker"] != warm.result["worker"] and after_crash.result["calls"] == 1
    timed_out, _ = dedicated(runner, BUN_COUNTER, language="bun", entry="slow", timeout=0.5)
    assert timed_out.error["name"] == "TimeoutError"
    after_timeout, _ = dedicated(runner, BUN_COUNTER, language="bun")
    assert after_timeout.result["worker"] != after_crash.result["worker"] and after_timeout.result["calls"] == 1


def test_at_the_cap_with_every_worker_busy_a_job_runs_the_ordinary_way(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_DEDICATED_WORKERS", "1")
    busy = COUNTER + "\nimport time\ndef slow():\n    time.sleep(4)\n    return WORKER\n"
    other = COUNTER + "\n# another script\n"

    async def both():
        slow = asyncio.ensure_future(runner.pool.run(ScriptJob("python3", busy, {}, "job-s", entry="slow",
                                                               dedicated=True, env={"WM_WORKSPACE": "main"})))
        await asyncio.sleep(0.7)
        jobs = [ScriptJob("python3", other, {}, f"job-{n}", dedicated=True, env={"WM_WORKSPACE": "main"})
                for n in range(2)]
        done = [await runner.pool.run(job) for job in jobs]
        return await slow, done

    slow, (first, second) = runner.loop.run_until_complete(both())
    assert slow.ok, slow.error
    assert first.ok and second.ok, (first.error, second.error)
    assert first.result["calls"] == second.result["calls"] == 1  # each in a process of its own
    assert first.result["worker"] != second.result["worker"]
