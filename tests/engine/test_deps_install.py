"""Steps' dependencies installed for real (small packages from the index), in the sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import tarfile
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pytest

from engine.deps.index import IndexConfig, machine_index
from engine.deps.locks import PYTHON, Lock
from engine.deps.service import Dependencies
from engine.runners import RunnerPool, ScriptJob
from tests.engine.runnerkit import Runner, lines

SIX_AND_TABULATE = "# py311\nsix==1.16.0\ntabulate==0.9.0\n"


@pytest.fixture
def cache_root():
    # Not under pytest's folder: jobs may write there (tests/conftest.py).
    folder = tempfile.mkdtemp(prefix="millrace-deps-")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def runner(cache_root):
    r = Runner(RunnerPool(deps=Dependencies(cache_root)))
    yield r
    r.close()


def installing(logs) -> list[str]:
    return [line for line in lines(logs, "stderr") if line.startswith("[dependencies] installing")]


def test_first_run_installs_the_lock_with_progress_in_its_log_and_later_runs_cost_nothing_more(runner):
    script = """
        import six
        from tabulate import tabulate
        def main():
            return [six.__version__, tabulate([[1, 2]], tablefmt="plain")]
    """
    first, logs = runner.run(script, lock=SIX_AND_TABULATE)
    assert first.ok and first.result == ["1.16.0", "1  2"], first.error
    assert installing(logs) and any("six==1.16.0" in line for line in lines(logs, "stderr"))
    again, logs = runner.run(script, lock=SIX_AND_TABULATE)
    assert again.result == first.result and not lines(logs, "stderr")


def test_every_run_uses_exactly_its_lock_not_the_latest_version(runner):
    old, _ = runner.run("import six\ndef main(): return six.__version__", lock="# py311\nsix==1.15.0\n")
    new, _ = runner.run("import six\ndef main(): return six.__version__", lock="# py311\nsix==1.16.0\n")
    assert (old.result, new.result) == ("1.15.0", "1.16.0")


def test_a_script_without_a_lock_is_resolved_before_it_runs(runner):
    outcome, logs = runner.run("import six\ndef main(): return six.__version__")
    assert outcome.ok and outcome.result.count(".") == 2
    assert any("no lock saved with this script: resolving six" in line for line in lines(logs, "stderr"))


def test_scripts_with_the_same_lock_share_one_environment_and_one_warm_zygote(runner, cache_root):
    probe = """
        import sys
        preloaded = "tabulate" in sys.modules
        import tabulate
        def main():
            return [sys.path[0], preloaded]
    """
    first, _ = runner.run(probe, lock=SIX_AND_TABULATE)
    second, _ = runner.run(probe.replace("main()", "main(x=1)"), lock=SIX_AND_TABULATE)
    assert first.result[0] == second.result[0] and "/opt/millrace/deps/python/" in first.result[0]
    assert second.result[1], "the lock's zygote imported the step's packages before forking it"
    assert len(os.listdir(cache_root / "python")) == 1
    assert runner.pool._jobs.zygotes.names() == [f"deps-{Lock(PYTHON, SIX_AND_TABULATE).key}"]


def test_a_step_without_dependencies_keeps_the_default_zygote(runner):
    outcome, _ = runner.run("import json\ndef main(): return json.dumps(1)")
    assert outcome.result == "1" and runner.pool._jobs.zygotes.names() == ["zygote"]


def test_lock_zygotes_are_bounded_and_idle_ones_stop(runner, monkeypatch):
    monkeypatch.setenv("MILLRACE_DEPS_ZYGOTES", "1")
    monkeypatch.setenv("MILLRACE_DEPS_ZYGOTE_IDLE", "0.3")
    runner.run("import six\ndef main(): return 1", lock="# py311\nsix==1.16.0\n")
    runner.run("import six\ndef main(): return 2", lock="# py311\nsix==1.15.0\n")
    zygotes = runner.pool._jobs.zygotes
    assert [name for name in zygotes.names() if name.startswith("deps-")] == \
        [f"deps-{Lock(PYTHON, '# py311' + chr(10) + 'six==1.15.0' + chr(10)).key}"]
    runner.loop.run_until_complete(asyncio.sleep(1.2))
    assert not [name for name in zygotes.names() if name.startswith("deps-")]
    again, _ = runner.run("import six\ndef main(): return six.__version__", lock="# py311\nsix==1.15.0\n")
    assert again.result == "1.15.0"  # a stopped lock zygote starts again on its next job


def test_the_installed_packages_are_read_only_to_the_job(runner):
    outcome, _ = runner.run("""
        import six
        def main():
            try:
                open(six.__file__, "a").write("# changed")
            except OSError as exc:
                return type(exc).__name__
            return "written"
    """, lock=SIX_AND_TABULATE)
    assert outcome.result in ("OSError", "PermissionError")


def test_two_runs_needing_the_same_new_lock_install_it_once_even_from_two_pools(cache_root):
    pools = [RunnerPool(deps=Dependencies(cache_root)) for _ in range(2)]
    logs: list = []
    jobs = [ScriptJob("python3", "import six\ndef main(): return six.__version__", {}, f"j{i}", lock=SIX_AND_TABULATE)
            for i in range(4)]

    async def both():
        try:
            return await asyncio.gather(*(pools[i % 2].run(job, logs.append) for i, job in enumerate(jobs)))
        finally:
            for pool in pools:
                await pool.close()

    outcomes = asyncio.run(both())
    assert [o.result for o in outcomes] == ["1.16.0"] * 4
    assert len(installing(logs)) == 1


def test_an_interrupted_install_leaves_nothing_a_later_run_would_use(runner, cache_root):
    job = ScriptJob("python3", "import six\ndef main(): return six.__version__", {}, "j", lock=SIX_AND_TABULATE)
    started = asyncio.Event()

    def on_log(line):
        if "installing" in line.line:
            started.set()

    async def interrupt():
        task = asyncio.ensure_future(runner.pool.run(job, on_log))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    runner.loop.run_until_complete(interrupt())
    assert not os.listdir(cache_root / "python") and not os.listdir(cache_root / "building")
    outcome, logs = runner.run(job.content, lock=SIX_AND_TABULATE)
    assert outcome.result == "1.16.0" and installing(logs)


def test_a_package_that_does_not_exist_fails_the_step_before_its_code_runs_naming_it(runner):
    outcome, logs = runner.run("""
        print("the step's code ran")
        import millrace_no_such_package_zz
        def main(): return 1
    """)
    assert not outcome.ok and outcome.error["name"] == "DependencyError"
    assert "millrace-no-such-package-zz" in outcome.error["message"].replace("_", "-")
    assert "not found in the package registry" in outcome.error["message"]
    assert "the step's code ran" not in lines(logs)


def test_a_version_conflict_fails_the_step_quoting_the_resolver(runner):
    outcome, _ = runner.run("""
        #requirements:
        #six==1.16.0
        #six>=1.17
        import six
        def main(): return 1
    """)
    assert outcome.error["name"] == "DependencyError"
    assert "six==1.16.0" in outcome.error["message"] and "unsatisfiable" in outcome.error["message"]


def test_a_build_failure_fails_the_step_with_the_builders_message_and_the_build_ran_sandboxed(cache_root,
                                                                                              monkeypatch):
    # A package that exists only as a source archive whose build fails, on a local index;
    # its build code reports what it could see of the app's environment and files.
    secret = cache_root / "app-secret"
    secret.write_text("key")
    monkeypatch.setenv("MILLRACE_SECRET_PROBE", "leaked")
    links = cache_root.parent / f"{cache_root.name}-links"
    source = links / "millrace_broken_build-1.0"
    source.mkdir(parents=True)
    (source / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "millrace-broken-build"
        version = "1.0"
        [build-system]
        requires = []
        build-backend = "broken_backend"
        backend-path = ["."]
    """))
    (source / "broken_backend.py").write_text(textwrap.dedent("""
        import os
        def _fail(*args, **kwargs):
            seen = (os.environ.get("MILLRACE_SECRET_PROBE"), os.path.exists(SECRET))
            raise RuntimeError(f"gcc: command not found (saw {seen})")
        get_requires_for_build_wheel = prepare_metadata_for_build_wheel = build_wheel = _fail
    """).replace("SECRET", repr(str(secret))))
    with tarfile.open(links / "millrace_broken_build-1.0.tar.gz", "w:gz") as archive:
        archive.add(source, arcname=source.name)
    shutil.rmtree(source)
    index = IndexConfig((*machine_index().args, "--find-links", str(links)), machine_index().env)
    runner = Runner(RunnerPool(deps=Dependencies(cache_root, index=index)))
    try:
        outcome, _ = runner.run("#requirements:\n#millrace-broken-build==1.0\nimport x\ndef main(): return 1\n")
    finally:
        runner.close()
        shutil.rmtree(links, ignore_errors=True)
    assert outcome.error["name"] == "DependencyError"
    assert "millrace-broken-build" in outcome.error["message"]
    assert "gcc: command not found (saw (None, False))" in outcome.error["message"]


def test_a_lock_naming_a_version_that_does_not_exist_fails_before_the_code_runs(runner):
    outcome, _ = runner.run("import six\ndef main(): return 1", lock="# py311\nsix==0.0.999\n")
    assert outcome.error["name"] == "DependencyError" and "six==0.0.999" in outcome.error["message"]


def test_prune_removes_environments_nobody_holds_and_interrupted_installs(runner, cache_root):
    runner.run("import six\ndef main(): return 1", lock=SIX_AND_TABULATE)
    (cache_root / "building" / "python-0123abcd-ffff").mkdir()
    cache = runner.pool.deps.cache
    assert cache.prune() == ["building/python-0123abcd-ffff"], "the live lock zygote holds its environment"
    runner.loop.run_until_complete(runner.pool.close())
    assert cache.prune() == [f"python/{Lock(PYTHON, SIX_AND_TABULATE).key}"]
    assert not os.listdir(cache_root / "python")
    runner.pool = RunnerPool(deps=Dependencies(cache_root))
    outcome, logs = runner.run("import six\ndef main(): return six.__version__", lock=SIX_AND_TABULATE)
    assert outcome.result == "1.16.0" and installing(logs)


def test_bun_and_deno_steps_import_npm_packages_from_their_lock(runner):
    bun, logs = runner.run("""
        import isOdd from "is-odd@3.0.1";
        export async function main(n: number) { return isOdd(n); }
    """, {"n": 3}, language="bun")
    assert bun.ok and bun.result is True, bun.error
    assert any("is-odd@3.0.1" in line for line in lines(logs, "stderr"))
    deno, _ = runner.run("""
        import isOdd from "npm:is-odd@3.0.1";
        export async function main(n: number) { return isOdd(n); }
    """, {"n": 4}, language="deno", lock='{"version": "4", "specifiers": {"npm:is-odd@3.0.1": "3.0.1"}}')
    assert deno.ok and deno.result is False, deno.error  # Deno's own lock: its imports are resolved instead


def test_once_cached_runs_never_reach_the_registry(runner, cache_root):
    python = "import six\ndef main(): return six.__version__"
    bun = 'import isOdd from "is-odd";\nexport async function main() { return isOdd(1); }'
    locks = {}
    for language, script in (("python3", python), ("bun", bun)):
        locks[language] = runner.pool.deps.lock_for(language, script)
        outcome, _ = runner.run(script, language=language, lock=locks[language])
        assert outcome.ok, outcome.error
    offline = Runner(RunnerPool(network=False, deps=Dependencies(cache_root)))
    try:
        for language, script in (("python3", python), ("bun", bun)):
            outcome, logs = offline.run(script, language=language, lock=locks[language])
            assert outcome.ok and not installing(logs), outcome.error
        missing, _ = offline.run('import leftPad from "left-pad";\nexport async function main() { return leftPad("a", 3); }',
                                 language="bun", lock=locks["bun"])
        assert not missing.ok and "left-pad" in missing.error["message"]  # bun fetches nothing itself
    finally:
        offline.close()


def test_without_a_writable_cache_only_steps_with_dependencies_fail_saying_so(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    runner = Runner(RunnerPool(deps=Dependencies(blocked / "deps")))
    try:
        plain, _ = runner.run("def main(): return 1")
        needs, _ = runner.run("import six\ndef main(): return 1", lock=SIX_AND_TABULATE)
    finally:
        runner.close()
    assert plain.result == 1
    assert needs.error["name"] == "DependencyError" and "MILLRACE_DEPS_DIR" in needs.error["message"]


def make_wheel(folder: Path, name: str, module_source: str) -> None:
    """A pure-Python wheel `name`-1.0 of one module, in `folder` (a find-links index)."""
    info = f"{name}-1.0.dist-info"
    files = {f"{name}.py": module_source,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: millrace-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{path},,\n" for path in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as wheel:
        for path, text in {**files, f"{info}/RECORD": record}.items():
            wheel.writestr(path, text)


def test_a_package_that_prints_fails_or_crashes_when_imported_ahead_fails_only_its_step(cache_root):
    links = cache_root.parent / f"{cache_root.name}-wheels"
    links.mkdir()
    make_wheel(links, "millrace_noisy", "import sys\nprint('hello from import')\nprint('and on stderr', file=sys.stderr)\n"
                                        "VALUE = 42\n")
    make_wheel(links, "millrace_failing", "raise RuntimeError('cannot import here')\n")
    make_wheel(links, "millrace_crashing", "import os\nos._exit(3)\n")
    index = IndexConfig((*machine_index().args, "--find-links", str(links)), machine_index().env)
    runner = Runner(RunnerPool(deps=Dependencies(cache_root, index=index)))
    try:
        noisy, _ = runner.run("import millrace_noisy\ndef main(): return millrace_noisy.VALUE")
        failing, _ = runner.run("import millrace_failing\ndef main(): return 1")
        crashing, _ = runner.run("import millrace_crashing\ndef main(): return 1")
    finally:
        runner.close()
        shutil.rmtree(links, ignore_errors=True)
    assert noisy.result == 42, noisy.error
    assert failing.error["name"] == "RuntimeError" and "cannot import here" in failing.error["message"]
    assert crashing.error["name"] == "ScriptCrashed"  # the step's failure, not the engine's
