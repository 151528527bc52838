"""Fixtures for every test.

Scripts run in the sandbox and see nothing of the host. Many tests watch what a
script did through files it writes under the test's `tmp_path` (how often a step ran,
when it started and ended): the sandbox's shared-folder setting
(`MILLRACE_SANDBOX_SHARED`) shows pytest's temporary folder to every job, as an operator
would share a data folder. tests/engine/test_sandbox.py checks isolation with pools that
share nothing.

Steps' dependencies are installed into a cache of the test session's own
(MILLRACE_DEPS_DIR), never the machine's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

import pytest


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    """`name` set to `value` in this process's environment, as it was afterwards."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@pytest.fixture(scope="session", autouse=True)
def shared_test_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with _environ("MILLRACE_SANDBOX_SHARED", str(tmp_path_factory.getbasetemp().resolve())):
        yield


@pytest.fixture(scope="session", autouse=True)
def dependency_cache() -> Iterator[None]:
    # Outside pytest's folder, which every job may write to (see above).
    folder = tempfile.mkdtemp(prefix="millrace-deps-test-")
    with _environ("MILLRACE_DEPS_DIR", folder):
        yield
    shutil.rmtree(folder, ignore_errors=True)
