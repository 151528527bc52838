"""Fixtures for every test.

Scripts run in the sandbox and see nothing of the host. Many tests watch what a
script did through files it writes under the test's `tmp_path` (how often a step ran,
when it started and ended): the sandbox's shared-folder setting
(`MILLRACE_SANDBOX_SHARED`) shows pytest's temporary folder to every job, as an operator
would share a data folder. tests/engine/test_sandbox.py checks isolation with pools that
share nothing.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_test_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    base = str(tmp_path_factory.getbasetemp().resolve())
    before = os.environ.get("MILLRACE_SANDBOX_SHARED")
    os.environ["MILLRACE_SANDBOX_SHARED"] = base
    yield
    if before is None:
        os.environ.pop("MILLRACE_SANDBOX_SHARED", None)
    else:
        os.environ["MILLRACE_SANDBOX_SHARED"] = before
