"""Windmill's own CLI against the running app: `workspace add`, `sync pull`, `sync push`."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.app.apikit import W, client, new_user
from tests.app.server import Server
from tests.app.wmillcli import Wmill, read_yaml, require_cli, wmill  # noqa: F401 (a fixture)

SECRET = "cli-secret-value-42"
HELLO = 'def main(name: str = "world"):\n    print("hi", name)\n    return {"greeting": "hello " + name}\n'
TWICE = "def main(x: int):\n    return x * 2\n"


def _folder() -> str:
    return f"cli{uuid.uuid4().hex[:6]}"


def _created(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text


def make_items(api: httpx.Client, folder: str) -> str:
    """A flow, a script, a resource type, a resource and two variables in f/<folder>; the type's name."""
    kind = f"{folder}_api"
    f = f"f/{folder}"
    _created(api.post(f"{W}/variables/create", json={"path": f"{f}/plain", "value": "hello", "is_secret": False,
                                                     "description": "a plain one"}))
    _created(api.post(f"{W}/variables/create", json={"path": f"{f}/pw", "value": SECRET, "is_secret": True}))
    _created(api.post(f"{W}/resources/type/create", json={
        "name": kind, "description": "an API",
        "schema": {"type": "object", "properties": {"url": {"type": "string"}}}}))
    _created(api.post(f"{W}/resources/create", json={"path": f"{f}/api", "resource_type": kind,
                                                     "value": {"url": "http://x"}}))
    _created(api.post(f"{W}/scripts/create", json={"path": f"{f}/hello", "language": "python3", "content": HELLO,
                                                   "summary": "says hello"}))
    step = {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": TWICE,
                                 "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.x"}}}}
    _created(api.post(f"{W}/flows/create", json={
        "path": f"{f}/twice", "summary": "doubles", "description": "", "value": {"modules": [step]},
        "schema": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}))
    return kind


def pull(wmill: Wmill, into: Path) -> Path:
    into.mkdir(exist_ok=True)
    wmill("sync", "pull", "--yes", cwd=into)
    return into


def test_workspace_add_checks_the_workspace_and_the_token(app_server: Server, tmp_path: Path):
    require_cli()
    wrong = Wmill(tmp_path, app_server.url, "not-a-token")
    refused = wrong("workspace", "add", "main", "main", f"{app_server.url}/", "--token", "not-a-token", check=False)
    assert refused.returncode != 0 and "invalid" in (refused.stdout + refused.stderr).lower()
    other = Wmill(tmp_path, app_server.url, app_server.token)
    missing = other("workspace", "add", "elsewhere", "elsewhere", f"{app_server.url}/", "--token", app_server.token,
                    check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stdout + missing.stderr


def test_sync_pull_writes_the_workspace_in_windmills_layout(api: httpx.Client, wmill: Wmill, tmp_path: Path):
    folder = _folder()
    kind = make_items(api, folder)
    _created(api.post(f"{W}/resources/create", json={"path": f"f/{folder}/kept", "resource_type": "state",
                                                     "value": {"count": 1}}))
    out = pull(wmill, tmp_path / "pulled")
    f = out / "f" / folder

    assert not (f / "kept.resource.yaml").exists()  # a script's own state stays on the server, as in Windmill
    assert (f / "hello.py").read_text() == HELLO
    script = read_yaml(f / "hello.script.yaml")
    assert script["summary"] == "says hello" and script["kind"] == "script"
    assert script["schema"]["properties"]["name"]["default"] == "world"
    flow = read_yaml(f / "twice.flow" / "flow.yaml")
    assert flow["summary"] == "doubles"
    content = flow["value"]["modules"][0]["value"]["content"]
    assert content.startswith("!inline ")  # the step's code is a file beside flow.yaml
    assert (f / "twice.flow" / content.split(" ", 1)[1]).read_text() == TWICE
    assert read_yaml(f / "plain.variable.yaml") == {"value": "hello", "is_secret": False, "description": "a plain one"}
    secret = read_yaml(f / "pw.variable.yaml")
    assert secret["is_secret"] is True and secret["value"] and SECRET not in (f / "pw.variable.yaml").read_text()
    assert read_yaml(f / "api.resource.yaml") == {"value": {"url": "http://x"}, "description": "",
                                                  "resource_type": kind}
    assert read_yaml(out / f"{kind}.resource-type.yaml")["description"] == "an API"
    assert read_yaml(f / "folder.meta.yaml")["display_name"] == folder


def test_secrets_are_never_pulled_in_clear(api: httpx.Client, app_server: Server):
    refused = api.get(f"{W}/workspaces/tarball", params={"archive_type": "zip", "plain_secret": "true"})
    assert refused.status_code == 403 and "never exported in clear" in refused.text
    tar = api.get(f"{W}/workspaces/tarball", params={"archive_type": "tar"})
    assert tar.status_code == 400 and "Invalid Archive Type" in tar.text  # the CLI's cue to ask for zip
    assert httpx.get(f"{app_server.url}{W}/workspaces/tarball").status_code == 401
    other = api.get("/api/w/elsewhere/workspaces/tarball", params={"archive_type": "zip"})
    assert other.status_code == 404 and "workspace not found" in other.text


def _version(api: httpx.Client, kind: str, path: str) -> Any:
    got = api.get(f"{W}/{kind}/get/{'p/' if kind == 'scripts' else ''}{path}")
    assert got.status_code == 200, got.text
    return got.json()["hash" if kind == "scripts" else "version"]


def test_sync_push_lands_edits_and_an_identical_push_changes_nothing(api: httpx.Client, wmill: Wmill,
                                                                     tmp_path: Path):
    folder = _folder()
    make_items(api, folder)
    out = pull(wmill, tmp_path / "pulled")
    f = out / "f" / folder
    script_before, flow_before = _version(api, "scripts", f"f/{folder}/hello"), _version(api, "flows",
                                                                                        f"f/{folder}/twice")
    wmill("sync", "push", "--yes", cwd=out)  # nothing changed locally
    assert _version(api, "scripts", f"f/{folder}/hello") == script_before
    assert _version(api, "flows", f"f/{folder}/twice") == flow_before

    (f / "hello.py").write_text(HELLO.replace('"hello "', '"hey "'))
    inline = next((f / "twice.flow").glob("*.py"))
    inline.write_text(TWICE.replace("* 2", "* 3"))
    (f / "plain.variable.yaml").write_text("value: changed\nis_secret: false\ndescription: a plain one\n")
    wmill("sync", "push", "--yes", cwd=out)

    assert api.get(f"{W}/scripts/get/p/f/{folder}/hello").json()["content"].count('"hey "') == 1
    assert _version(api, "scripts", f"f/{folder}/hello") != script_before
    flow = api.get(f"{W}/flows/get/f/{folder}/twice").json()
    assert flow["value"]["modules"][0]["value"]["content"] == TWICE.replace("* 2", "* 3")
    assert api.get(f"{W}/variables/get_value/f/{folder}/plain").json() == "changed"
    assert api.get(f"{W}/variables/get/f/{folder}/pw").json()["is_secret"] is True  # pushed back untouched
    again = _version(api, "scripts", f"f/{folder}/hello")
    same = api.post(f"{W}/scripts/create", params={"skip_if_noop": "true"}, json={
        "path": f"f/{folder}/hello", "language": "python3", "content": HELLO.replace('"hello "', '"hey "'),
        "summary": "says hello"})
    assert same.status_code == 201 and same.text == again  # no new version for an identical script


def test_sync_push_deletes_what_was_deleted_locally(api: httpx.Client, wmill: Wmill, tmp_path: Path):
    folder = _folder()
    kind = make_items(api, folder)
    out = pull(wmill, tmp_path / "pulled")
    f = out / "f" / folder
    for name in ("hello.py", "hello.script.yaml", "plain.variable.yaml", "api.resource.yaml"):
        (f / name).unlink()
    for name in (f / "twice.flow").iterdir():
        name.unlink()
    (f / "twice.flow").rmdir()
    (out / f"{kind}.resource-type.yaml").unlink()
    wmill("sync", "push", "--yes", cwd=out)

    for gone in (f"scripts/get/p/f/{folder}/hello", f"flows/get/f/{folder}/twice", f"variables/get/f/{folder}/plain",
                 f"resources/get/f/{folder}/api", f"resources/type/get/{kind}"):
        assert api.get(f"{W}/{gone}").status_code == 404, gone
    assert api.get(f"{W}/variables/get/f/{folder}/pw").status_code == 200

    (f / "pw.variable.yaml").unlink()  # the whole folder now: the CLI deletes the folder before its items
    (f / "folder.meta.yaml").unlink()
    wmill("sync", "push", "--yes", cwd=out)
    assert api.get(f"{W}/variables/get/f/{folder}/pw").status_code == 404
    assert api.get(f"{W}/folders/get/{folder}").status_code == 404


def test_a_secret_sealed_elsewhere_is_refused_with_a_way_out(api: httpx.Client):
    path = f"f/{_folder()}/foreign"
    refused = api.post(f"{W}/variables/create", params={"already_encrypted": "true"},
                       json={"path": path, "value": "gAAAAA-not-ours", "is_secret": True})
    assert refused.status_code == 400 and "--plain-secrets" in refused.text
    assert api.get(f"{W}/variables/exists/{path}").json() is False


def test_changes_through_the_new_endpoints_are_for_admins(api: httpx.Client, app_server: Server):
    folder = _folder()
    kind = make_items(api, folder)
    _, token = new_user(api, "operator", prefix="cliop")
    with client(api, token) as operator:
        assert operator.get(f"{W}/workspaces/tarball", params={"archive_type": "zip"}).status_code == 200
        assert operator.post("/api/workspaces/exists", json={"id": "main"}).json() is True
        for method, url, body in [
            ("POST", f"{W}/folders/create", {"name": "x"}),
            ("POST", f"{W}/folders/update/{folder}", {"summary": "s"}),
            ("DELETE", f"{W}/folders/delete/{folder}", None),
            ("POST", f"{W}/scripts/archive/p/f/{folder}/hello", None),
            ("POST", f"{W}/resources/type/update/{kind}", {"description": "d"}),
            ("DELETE", f"{W}/resources/type/delete/{kind}", None),
            ("POST", f"{W}/some/endpoint/added/later", {}),  # deny by default: a change is for admins
        ]:
            answer = operator.request(method, url, json=body)
            assert answer.status_code == 403 and "only admins" in answer.text, (url, answer.text)
    assert httpx.post(f"{app_server.url}/api/workspaces/exists", json={"id": "main"}).status_code == 401


def test_schedules_are_pulled_and_pushed_when_asked(api: httpx.Client, wmill: Wmill, tmp_path: Path):
    folder = _folder()
    make_items(api, folder)
    made = api.post(f"{W}/schedules/create", json={
        "path": f"f/{folder}/hourly", "schedule": "0 0 * * * *", "timezone": "UTC", "script_path": f"f/{folder}/twice",
        "is_flow": True, "args": {"x": 1}, "enabled": False, "summary": "hourly"})
    assert made.status_code in (200, 201), made.text
    assert not (pull(wmill, tmp_path / "plain") / "f" / folder / "hourly.schedule.yaml").exists()

    asked = tmp_path / "asked"
    asked.mkdir()
    (asked / "wmill.yaml").write_text("includeSchedules: true\n")
    pull(wmill, asked)
    schedule_file = asked / "f" / folder / "hourly.schedule.yaml"
    schedule = read_yaml(schedule_file)
    assert {key: schedule[key] for key in ("schedule", "script_path", "is_flow", "args", "enabled", "summary")} == {
        "schedule": "0 0 * * * *", "script_path": f"f/{folder}/twice", "is_flow": True, "args": {"x": 1},
        "enabled": False, "summary": "hourly"}
    schedule_file.write_text(schedule_file.read_text().replace("summary: hourly", "summary: every hour"))
    wmill("sync", "push", "--yes", cwd=asked)
    assert api.get(f"{W}/schedules/get/f/{folder}/hourly").json()["summary"] == "every hour"


def test_sync_keeps_dedicated_worker_of_scripts_and_flows_both_ways(api: httpx.Client, wmill: Wmill, tmp_path: Path):
    folder = _folder()
    f = f"f/{folder}"
    _created(api.post(f"{W}/scripts/create", json={"path": f"{f}/hot", "language": "python3", "content": TWICE,
                                                   "summary": "hot", "dedicated_worker": True}))
    step = {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": TWICE,
                                 "input_transforms": {"x": {"type": "static", "value": 2}}}}
    _created(api.post(f"{W}/flows/create", json={"path": f"{f}/fast", "summary": "fast", "value": {"modules": [step]},
                                                 "dedicated_worker": True}))
    assert api.get(f"{W}/scripts/get/p/{f}/hot").json()["dedicated_worker"] is True
    assert api.get(f"{W}/flows/get/{f}/fast").json()["dedicated_worker"] is True

    out = pull(wmill, tmp_path / "pulled")
    local = out / "f" / folder
    assert read_yaml(local / "hot.script.yaml")["dedicated_worker"] is True
    assert read_yaml(local / "fast.flow" / "flow.yaml")["dedicated_worker"] is True
    version = _version(api, "scripts", f"{f}/hot")
    wmill("sync", "push", "--yes", cwd=out)  # nothing changed: no new version, the flag kept
    assert _version(api, "scripts", f"{f}/hot") == version
    assert api.get(f"{W}/scripts/get/p/{f}/hot").json()["dedicated_worker"] is True

    for name in ("hot.script.yaml", "fast.flow/flow.yaml"):
        text = (local / name).read_text()
        (local / name).write_text(text.replace("dedicated_worker: true", "dedicated_worker: false"))
    wmill("sync", "push", "--yes", cwd=out)
    assert api.get(f"{W}/scripts/get/p/{f}/hot").json()["dedicated_worker"] is False
    assert api.get(f"{W}/flows/get/{f}/fast").json()["dedicated_worker"] is False
