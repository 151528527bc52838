"""Variables, resources and resource types: encryption at rest, validation, key handling."""

from __future__ import annotations

import stat

import pytest

from engine import BadInput, NotFound, Store
from engine.resources import ResourceValidationError
from engine.vault import Vault, key_path

SECRET = "hunter2-very-secret"


@pytest.fixture
def vault(tmp_path, monkeypatch):
    monkeypatch.delenv("MILLRACE_SECRET_KEY", raising=False)
    monkeypatch.delenv("MILLRACE_DATA_DIR", raising=False)
    store = Store.open(f"sqlite:///{tmp_path / 'millrace.db'}")
    yield Vault.of(store)
    store.close()


def test_secret_variable_is_not_in_the_database_file_in_clear(vault, tmp_path):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    vault.store.close()
    data = b"".join(path.read_bytes() for path in tmp_path.glob("millrace.db*"))
    assert SECRET.encode() not in data
    assert vault.variable_value("u/admin/pw") == SECRET


def test_secret_value_is_left_out_of_get_and_list(vault):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True, description="db password")
    vault.set_variable("u/admin/plain", "visible")
    assert vault.variable("u/admin/pw")["value"] is None
    listed = {item["path"]: item for item in vault.list_variables()}
    assert listed["u/admin/pw"]["value"] is None and listed["u/admin/pw"]["is_secret"]
    assert listed["u/admin/plain"]["value"] == "visible"


def test_updating_a_secret_description_keeps_its_value(vault):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    vault.set_variable("u/admin/pw", description="rotated never")
    assert vault.variable_value("u/admin/pw") == SECRET
    assert vault.variable("u/admin/pw")["description"] == "rotated never"


def test_generated_key_file_sits_next_to_the_database_with_mode_0600(vault, tmp_path):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    path = key_path(vault.store.url)
    assert path == tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_from_the_environment_is_used_and_no_file_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "a passphrase of my own")
    store = Store.open(f"sqlite:///{tmp_path / 'millrace.db'}")
    Vault.of(store).set_variable("u/admin/pw", SECRET, is_secret=True)
    assert not (tmp_path / "secret.key").exists()
    monkeypatch.setenv("MILLRACE_SECRET_KEY", "another key")
    with pytest.raises(BadInput, match="another key|cannot be decrypted"):
        Vault(store).variable_value("u/admin/pw")
    store.close()


def test_resource_value_is_checked_against_its_type_naming_path_and_field(vault):
    with pytest.raises(ResourceValidationError) as caught:
        vault.set_resource("u/admin/db", {"host": "h", "dbname": "d", "port": "five"}, "postgresql")
    assert "u/admin/db" in str(caught.value) and "value.port" in str(caught.value)
    with pytest.raises(ResourceValidationError, match="'host' is a required property"):
        vault.set_resource("u/admin/db", {"dbname": "d"}, "postgresql")


def test_resource_fields_may_refer_to_secret_variables(vault):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    vault.set_resource("u/admin/db", {"host": "h", "dbname": "d", "password": "$var:u/admin/pw"}, "postgresql")
    assert vault.resource_value("u/admin/db")["password"] == "$var:u/admin/pw"
    assert vault.resource_value("u/admin/db", reveal=True)["password"] == SECRET


def test_custom_resource_type_validates_its_resources(vault):
    schema = {"type": "object", "required": ["api_key"], "properties": {"api_key": {"type": "string"}}}
    vault.create_resource_type("acme", schema, "Acme API")
    assert "acme" in [item["name"] for item in vault.resource_types()]
    with pytest.raises(ResourceValidationError, match="api_key"):
        vault.set_resource("f/acme/main", {}, "acme")
    vault.set_resource("f/acme/main", {"api_key": "k"}, "acme")
    assert vault.resource("f/acme/main")["value"] == {"api_key": "k"}


def test_unknown_type_and_bad_schema_are_refused(vault):
    with pytest.raises(NotFound, match="resource type 'nope'"):
        vault.set_resource("u/admin/x", {}, "nope")
    with pytest.raises(BadInput, match="not valid JSON Schema"):
        vault.create_resource_type("broken", {"type": 12})
    with pytest.raises(BadInput, match="built in"):
        vault.create_resource_type("http", {})


def test_paths_must_look_like_windmill_paths(vault):
    with pytest.raises(BadInput, match="variable path .nopath. is invalid.*u/<user>/<name>"):
        vault.set_variable("nopath", "x")


def test_delete_missing_variable_is_not_found(vault):
    with pytest.raises(NotFound):
        vault.delete_variable("u/admin/none")


def test_a_sealed_secret_is_kept_as_it_is_and_a_foreign_one_refused(vault, tmp_path):
    vault.set_variable("u/admin/pw", SECRET, is_secret=True)
    sealed = vault.sealed_value("u/admin/pw")
    assert SECRET not in sealed
    vault.set_sealed_variable("u/admin/copy", sealed, description="pushed back")
    assert vault.sealed_value("u/admin/copy") == sealed and vault.variable_value("u/admin/copy") == SECRET
    other = Vault(vault.store, key="another key altogether")
    with pytest.raises(BadInput, match="u/admin/foreign"):
        other.set_sealed_variable("u/admin/foreign", sealed)
    with pytest.raises(NotFound):
        vault.variable("u/admin/foreign")


def test_a_custom_resource_type_can_be_deleted_once(vault):
    vault.create_resource_type("gone_soon", {"type": "object"})
    vault.store.delete_resource_type("gone_soon")
    assert "gone_soon" not in {item["name"] for item in vault.resource_types()}
    with pytest.raises(NotFound, match="gone_soon"):
        vault.store.delete_resource_type("gone_soon")
