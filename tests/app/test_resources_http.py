"""Variables, resources and resource types over REST, in Windmill's shapes."""

from __future__ import annotations

from pathlib import Path

from tests.app.apikit import W

SECRET = "rest-secret-value-9f3a"


def test_secret_variable_value_is_never_returned_to_people(api, app_server):
    body = {"path": "u/admin/rest_pw", "value": SECRET, "is_secret": True, "description": "pw"}
    assert api.post(f"{W}/variables/create", json=body).status_code == 201
    assert api.post(f"{W}/variables/create", json=body).status_code == 400  # exists
    got = api.get(f"{W}/variables/get/u/admin/rest_pw").json()
    assert got["is_secret"] and got["value"] is None and got["description"] == "pw"
    listed = {item["path"]: item for item in api.get(f"{W}/variables/list").json()}
    assert listed["u/admin/rest_pw"]["value"] is None
    assert api.get(f"{W}/variables/get_value/u/admin/rest_pw").status_code == 403
    database = Path(app_server.db_url.removeprefix("sqlite:///"))
    data = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    assert SECRET.encode() not in data


def test_plain_variable_round_trip_update_and_delete(api):
    api.post(f"{W}/variables/create", json={"path": "u/admin/rest_plain", "value": "one", "is_secret": False})
    assert api.get(f"{W}/variables/get_value/u/admin/rest_plain").json() == "one"
    assert api.post(f"{W}/variables/update/u/admin/rest_plain", json={"value": "two"}).status_code == 200
    assert api.get(f"{W}/variables/get/u/admin/rest_plain").json()["value"] == "two"
    assert api.delete(f"{W}/variables/delete/u/admin/rest_plain").status_code == 200
    assert api.get(f"{W}/variables/get/u/admin/rest_plain").status_code == 404


def test_resources_are_validated_against_their_type(api):
    bad = {"path": "u/admin/rest_db", "resource_type": "postgresql", "value": {"host": "h", "dbname": "d", "port": "x"}}
    response = api.post(f"{W}/resources/create", json=bad)
    assert response.status_code == 400 and "u/admin/rest_db" in response.text and "value.port" in response.text
    good = {**bad, "value": {"host": "h", "dbname": "d", "port": 5432}}
    assert api.post(f"{W}/resources/create", json=good).status_code == 201
    assert api.get(f"{W}/resources/get_value/u/admin/rest_db").json()["port"] == 5432
    assert api.get(f"{W}/resources/get/u/admin/rest_db").json()["resource_type"] == "postgresql"
    assert [r["path"] for r in api.get(f"{W}/resources/list", params={"resource_type": "postgresql"}).json()] \
        == ["u/admin/rest_db"]
    response = api.post(f"{W}/resources/update/u/admin/rest_db", json={"value": {"host": "h2", "dbname": "d"}})
    assert response.status_code == 200
    assert api.get(f"{W}/resources/get_value/u/admin/rest_db").json()["host"] == "h2"
    assert api.delete(f"{W}/resources/delete/u/admin/rest_db").status_code == 200
    assert api.get(f"{W}/resources/get/u/admin/rest_db").status_code == 404


def test_custom_resource_type_and_interpolation_hides_secrets_from_people(api):
    schema = {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}
    assert api.post(f"{W}/resources/type/create", json={"name": "rest_acme", "schema": schema}).status_code == 201
    names = {item["name"] for item in api.get(f"{W}/resources/type/list").json()}
    assert {"postgresql", "http", "smtp", "slack_webhook", "rest_acme"} <= names
    api.post(f"{W}/variables/create", json={"path": "u/admin/rest_key", "value": SECRET, "is_secret": True})
    body = {"path": "u/admin/rest_acme", "resource_type": "rest_acme", "value": {"key": "$var:u/admin/rest_key"}}
    assert api.post(f"{W}/resources/create", json=body).status_code == 201
    value = api.get(f"{W}/resources/get_value_interpolated/u/admin/rest_acme").json()
    assert value == {"key": "$var:u/admin/rest_key"}
