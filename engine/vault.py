"""The vault: the secret key, the keys derived from it, and encryption of secret values.

The key is `MILLRACE_SECRET_KEY`, else a key file (`secret.key`, mode 0600) created in
`MILLRACE_DATA_DIR`, else next to the SQLite file, else under `data/`. A Fernet key is
used as it is; any other text is a passphrase, stretched with scrypt (fixed salt: the
same passphrase gives the same key in every process) into the 32-byte root key. The
root key encrypts secret values (Fernet) and, through HKDF per purpose, signs run
tokens and approval links (`engine.signing`).

Secret values leave the vault only through `variable_value` / `resource_value(...,
reveal=True)`, which the runtime uses.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from engine.errors import BadInput
from engine.resources import Resources
from engine.signing import Signer
from engine.variables import Variables

KEY_FILE = "secret.key"
PASSPHRASE_SALT = b"millrace/secret-key/v2"
SCRYPT_COST = {"n": 2**15, "r": 8, "p": 1, "maxmem": 2**26}
"""About 0.1 s and 32 MiB once per process: slow for whoever guesses passphrases."""


class Vault(Variables, Resources):
    """Variables and resources of a Store, secrets encrypted; the keys derived from the secret key.

    Args:
        store: an `engine.store.Store`.
        key: a Fernet key or a passphrase; None: from the environment or the key file.
    """

    def __init__(self, store: Any, key: str | bytes | None = None):
        self.store = store
        self._key = key
        self._root: bytes | None = None
        self._cipher: Any = None
        self._signer: Signer | None = None
        self._run_tokens: Any = None

    @classmethod
    def of(cls, store: Any) -> "Vault":
        """The vault of a store, made once per store object."""
        vault = store.__dict__.get("_vault")
        if vault is None:
            vault = store.__dict__["_vault"] = cls(store)
        return vault

    @property
    def signer(self) -> Signer:
        """Signs and checks with keys derived from the root key (one per purpose)."""
        if self._signer is None:
            self._signer = Signer(self._root_key())
        return self._signer

    @property
    def run_tokens(self) -> Any:
        """The `engine.run_tokens.RunTokens` every process holding the same key agrees on."""
        if self._run_tokens is None:
            from engine.run_tokens import RunTokens

            self._run_tokens = RunTokens(self.signer)
        return self._run_tokens

    def _material(self) -> str | bytes:
        return self._key if self._key is not None else load_key(self.store.url)

    def _root_key(self) -> bytes:
        # Made on first use, so a store that never holds a secret never makes a key file.
        if self._root is None:
            self._root = root_key(self._material())
        return self._root

    @property
    def _fernet(self) -> Any:
        if self._cipher is None:
            from cryptography.fernet import Fernet, MultiFernet

            ciphers = [Fernet(base64.urlsafe_b64encode(self._root_key()))]
            legacy = legacy_fernet_key(self._material())
            if legacy is not None:
                # Secrets saved before passphrases went through scrypt were encrypted with
                # a bare SHA-256 of the passphrase: still read them; new values use the new key.
                ciphers.append(Fernet(legacy))
            self._cipher = MultiFernet(ciphers)
        return self._cipher

    def _seal(self, value: str, secret: bool) -> str:
        return self._fernet.encrypt(value.encode()).decode() if secret else value

    def _plain(self, row: Any) -> str:
        from cryptography.fernet import InvalidToken

        if not row.is_secret:
            return row.value
        try:
            return self._fernet.decrypt(row.value.encode()).decode()
        except InvalidToken:
            raise BadInput(f"secret variable {row.path} cannot be decrypted: it was saved with another key "
                           "(check MILLRACE_SECRET_KEY or the key file)") from None


def load_key(store_url: str) -> str:
    """`MILLRACE_SECRET_KEY`, else the key file, created (mode 0600) on first use."""
    given = os.environ.get("MILLRACE_SECRET_KEY")
    if given:
        return given
    path = key_path(store_url)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key


def key_path(store_url: str) -> Path:
    """Where the generated key lives: in the data folder."""
    return data_folder(store_url) / KEY_FILE


def data_folder(store_url: str) -> Path:
    """The app's data folder: MILLRACE_DATA_DIR, the SQLite file's folder, or data/."""
    folder = os.environ.get("MILLRACE_DATA_DIR")
    if folder:
        return Path(folder)
    if store_url.startswith("sqlite:///") and store_url != "sqlite:///:memory:":
        return Path(store_url[len("sqlite:///"):]).parent
    return Path("data")


def root_key(material: str | bytes) -> bytes:
    """The 32-byte root key: a Fernet key's own bytes, or scrypt of a passphrase."""
    raw = material.encode() if isinstance(material, str) else material
    fernet = _fernet_bytes(raw)
    return fernet if fernet is not None else _stretch(raw)


def legacy_fernet_key(material: str | bytes) -> bytes | None:
    """The Fernet key older versions derived from a passphrase (bare SHA-256); None for a Fernet key."""
    raw = material.encode() if isinstance(material, str) else material
    if _fernet_bytes(raw) is not None:
        return None
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _fernet_bytes(raw: bytes) -> bytes | None:
    try:
        decoded = base64.urlsafe_b64decode(raw)
    except ValueError:
        return None
    return decoded if len(decoded) == 32 else None


@functools.lru_cache(maxsize=8)
def _stretch(passphrase: bytes) -> bytes:
    # Cached: every Vault of this process with the same passphrase pays scrypt once.
    return hashlib.scrypt(passphrase, salt=PASSPHRASE_SALT, dklen=32, **SCRYPT_COST)
