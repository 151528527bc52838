"""The one signing helper: keys per purpose from one root key, unambiguous messages."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from engine.signing import Signer

ROOT = bytes(range(32))


def test_a_signature_checks_for_its_purpose_and_parts_only():
    signer = Signer(ROOT)
    signature = signer.sign("approval-link", "run1", "r1", "bob")
    assert signer.check("approval-link", signature, "run1", "r1", "bob")
    assert not signer.check("approval-link", signature, "run1", "r1", "carol")
    assert not signer.check("run-token", signature, "run1", "r1", "bob")
    assert not signer.check("approval-link", signature.replace(signature[0], "0" if signature[0] != "0" else "1"),
                            "run1", "r1", "bob")


def test_parts_are_not_ambiguous_however_they_are_cut():
    signer = Signer(ROOT)
    assert signer.sign("session", "a.b", "c") != signer.sign("session", "a", "b.c")
    assert signer.sign("session", "a/b", "c") != signer.sign("session", "a", "b/c")


def test_purpose_keys_are_hkdf_of_the_root_and_differ_from_it_and_each_other():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    signer = Signer(ROOT)
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"millrace/run-token").derive(ROOT)
    assert signer.key("run-token") == expected
    assert len({signer.key(p) for p in ("run-token", "approval-link", "session")} | {ROOT}) == 4
    assert Signer(bytes(32)).key("run-token") != expected


def test_unknown_purpose_and_short_root_are_refused():
    with pytest.raises(ValueError, match="unknown signing purpose 'cookies'"):
        Signer(ROOT).sign("cookies", "x")
    with pytest.raises(ValueError, match="at least 32 bytes, not 16"):
        Signer(bytes(16))


def test_mac_is_hmac_sha256_and_same_compares_any_text():
    assert Signer.mac(b"k", b"body") == hmac.new(b"k", b"body", hashlib.sha256).hexdigest()
    assert Signer.same("abc", "abc") and not Signer.same("abc", "abd") and not Signer.same("é", "e")
