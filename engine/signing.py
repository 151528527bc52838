"""Signatures: the one HMAC-SHA256 helper behind every signed thing Millrace hands out.

A `Signer` holds one root key and derives a key per named purpose (HKDF-SHA256 with the
purpose as `info`), so a signature made for one purpose (a run token) never checks for
another (an approval link), and no purpose's key reveals the root key. Messages are
lists of strings encoded unambiguously, so ("a.b", "c") and ("a", "b.c") sign differently.
A secret somebody else chose and shares with us (a flow's webhook secret) is used as
given, through `Signer.mac`. Every comparison takes constant time (`Signer.same`).
"""

from __future__ import annotations

import hashlib
import hmac
import json

PURPOSES = frozenset({"run-token", "approval-link", "session"})
"""What a Signer signs; asking for another purpose is a programming error."""
MIN_ROOT_BYTES = 32


class Signer:
    """Signs and checks messages for named purposes with keys derived from one root key.

    Args:
        root: at least 32 secret bytes (`engine.vault.root_key` makes them).
    """

    def __init__(self, root: bytes):
        if len(root) < MIN_ROOT_BYTES:
            raise ValueError(f"a signing root key needs at least {MIN_ROOT_BYTES} bytes, not {len(root)}")
        self._root = root
        self._keys: dict[str, bytes] = {}

    @staticmethod
    def mac(key: bytes, message: bytes) -> str:
        """HMAC-SHA256 of `message` under `key`, as 64 hex characters (for secrets shared with others)."""
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def same(given: str, expected: str) -> bool:
        """Whether two signatures are equal, in time that does not depend on where they differ."""
        return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))

    def key(self, purpose: str) -> bytes:
        """The 32-byte key of `purpose` (HKDF-SHA256 of the root key, info "millrace/<purpose>")."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown signing purpose {purpose!r}; known: {', '.join(sorted(PURPOSES))}")
        if purpose not in self._keys:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"millrace/{purpose}".encode())
            self._keys[purpose] = kdf.derive(self._root)
        return self._keys[purpose]

    def sign(self, purpose: str, *parts: str) -> str:
        """The signature (64 hex characters) of `parts` for `purpose`."""
        return self.mac(self.key(purpose), _message(parts))

    def check(self, purpose: str, signature: str, *parts: str) -> bool:
        """Whether `signature` is the one `sign(purpose, *parts)` makes (constant time)."""
        return self.same(signature, self.sign(purpose, *parts))


def _message(parts: tuple[str, ...]) -> bytes:
    # JSON of a list of strings: unambiguous however the parts are cut or what they contain.
    return json.dumps([str(part) for part in parts], separators=(",", ":")).encode()
