"""The vault's keys: a Fernet key as given, a passphrase through scrypt, old data still read."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet, InvalidToken

from engine import Store
from engine.vault import PASSPHRASE_SALT, Vault, root_key

PASSPHRASE = "correct horse battery staple"
SECRET = "s3cret-value"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MILLRACE_SECRET_KEY", raising=False)
    store = Store.open(f"sqlite:///{tmp_path / 'millrace.db'}")
    yield store
    store.close()


def _stored(store: Store, path: str) -> str:
    return store.get_variable_row(path, workspace="main").value


def test_a_passphrase_is_stretched_with_scrypt_not_bare_sha256(store):
    stretched = hashlib.scrypt(PASSPHRASE.encode(), salt=PASSPHRASE_SALT, n=2**15, r=8, p=1, maxmem=2**26, dklen=32)
    assert root_key(PASSPHRASE) == stretched
    Vault(store, key=PASSPHRASE).set_variable("u/admin/pw", SECRET, is_secret=True)
    assert Fernet(base64.urlsafe_b64encode(stretched)).decrypt(_stored(store, "u/admin/pw").encode()) == SECRET.encode()
    bare_sha256 = base64.urlsafe_b64encode(hashlib.sha256(PASSPHRASE.encode()).digest())
    with pytest.raises(InvalidToken):
        Fernet(bare_sha256).decrypt(_stored(store, "u/admin/pw").encode())


def test_secrets_saved_under_the_old_passphrase_derivation_still_decrypt(store):
    old_key = base64.urlsafe_b64encode(hashlib.sha256(PASSPHRASE.encode()).digest())
    store.put_variable("u/admin/old", workspace="main", is_secret=True, description="",
                       value=Fernet(old_key).encrypt(SECRET.encode()).decode())
    vault = Vault(store, key=PASSPHRASE)
    assert vault.variable_value("u/admin/old") == SECRET
    vault.set_variable("u/admin/old", description="touched")  # written again: with the new key
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(_stored(store, "u/admin/old").encode())
    assert vault.variable_value("u/admin/old") == SECRET


def test_a_fernet_key_is_used_as_it_is(store):
    key = Fernet.generate_key()
    Vault(store, key=key.decode()).set_variable("u/admin/pw", SECRET, is_secret=True)
    assert Fernet(key).decrypt(_stored(store, "u/admin/pw").encode()) == SECRET.encode()
    assert root_key(key.decode()) == base64.urlsafe_b64decode(key)


def test_processes_with_the_same_key_sign_alike_and_others_do_not(store, tmp_path):
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        ours = Vault(store, key=PASSPHRASE).signer.sign("approval-link", "run", "r1", "bob")
        assert Vault(other, key=PASSPHRASE).signer.sign("approval-link", "run", "r1", "bob") == ours
        assert Vault(other, key="another passphrase").signer.sign("approval-link", "run", "r1", "bob") != ours
    finally:
        other.close()
