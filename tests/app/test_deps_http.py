"""Scripts and flows saved over REST get their locks; runs use them; windmill-client works in TS steps."""

from __future__ import annotations

from tests.app.apikit import W, ensure_flow, flow_body

SIX_15 = "# py311\nsix==1.15.0\n"
USES_SIX = "import six\n\ndef main():\n    return six.__version__\n"


def test_a_script_saved_with_a_lock_keeps_it_and_every_run_uses_it(api):
    created = api.post(f"{W}/scripts/create", json={"path": "f/deps/pinned_six", "language": "python3",
                                                    "content": USES_SIX, "lock": SIX_15})
    assert created.status_code == 201, created.text
    assert api.get(f"{W}/scripts/get/p/f/deps/pinned_six").json()["lock"] == SIX_15
    ran = api.post(f"{W}/jobs/run_wait_result/p/f/deps/pinned_six", json={})
    assert (ran.status_code, ran.json()) == (200, "1.15.0")


def test_a_script_saved_without_a_lock_is_locked_from_its_imports(api):
    content = "from tabulate import tabulate\n\ndef main():\n    return tabulate([[1, 2]], tablefmt='plain')\n"
    assert api.post(f"{W}/scripts/create", json={"path": "f/deps/tabulated", "language": "python3",
                                                 "content": content}).status_code == 201
    lock = api.get(f"{W}/scripts/get/p/f/deps/tabulated").json()["lock"]
    assert lock.startswith("# py3") and any(line.startswith("tabulate==") for line in lock.splitlines())
    assert api.post(f"{W}/jobs/run_wait_result/p/f/deps/tabulated", json={}).json() == "1  2"


def test_a_script_whose_package_does_not_exist_is_refused_naming_it(api):
    refused = api.post(f"{W}/scripts/create", json={"path": "f/deps/missing", "language": "python3",
                                                    "content": "import millrace_no_such_pkg_rr\ndef main(): return 1\n"})
    assert refused.status_code == 400
    assert "millrace-no-such-pkg-rr" in refused.text.replace("_", "-") and "package registry" in refused.text
    assert api.get(f"{W}/scripts/get/p/f/deps/missing").status_code == 404


def test_a_flow_saved_over_rest_carries_the_locks_of_its_steps(api):
    body = flow_body("f/deps/flow_with_six", [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": USES_SIX, "input_transforms": {}}}])
    path = ensure_flow(api, body)
    step = api.get(f"{W}/flows/get/{path}").json()["value"]["modules"][0]["value"]
    assert any(line.startswith("six==") for line in step["lock"].splitlines())


def test_windmill_client_works_in_bun_and_deno_steps(api):
    api.post(f"{W}/variables/create", json={"path": "u/admin/ts_client_value", "value": "from-the-api",
                                            "is_secret": False})
    steps = []
    for step_id, language, specifier in (("bun", "bun", "windmill-client"), ("deno", "deno", "npm:windmill-client@1")):
        content = (f'import * as wmill from "{specifier}";\n\n'
                   'export async function main() {\n'
                   '  return await wmill.getVariable("u/admin/ts_client_value");\n}\n')
        steps.append({"id": step_id, "value": {"type": "rawscript", "language": language, "content": content,
                                               "input_transforms": {}}})
    steps.append({"id": "both", "value": {"type": "rawscript", "language": "python3", "input_transforms": {
        "a": {"type": "javascript", "expr": "results.bun"}, "b": {"type": "javascript", "expr": "results.deno"}},
        "content": "def main(a, b):\n    return [a, b]\n"}})
    path = ensure_flow(api, flow_body("f/deps/ts_clients", steps))
    ran = api.post(f"{W}/jobs/run_wait_result/f/{path}", json={})
    assert (ran.status_code, ran.json()) == (200, ["from-the-api", "from-the-api"]), ran.text
