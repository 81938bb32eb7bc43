"""Exact digests: one pass equals hashlib; validation; the registry."""

from __future__ import annotations

import hashlib
import io

import pytest

from cosea.media.signals import crypto_hashes, get_signal, register_signal, signal_names
from cosea.media.signals.base import SignalType
from cosea.media.signals.crypto import CryptoSignal


@pytest.fixture
def payload() -> bytes:
    # Crosses several 1 MiB chunks and ends mid-chunk.
    return bytes(range(256)) * 9000 + b"tail"


def test_one_pass_equals_hashlib_for_path_bytes_and_stream(tmp_path, payload):
    expected = {name: hashlib.new(name, payload).hexdigest() for name in ("md5", "sha1", "sha256")}
    path = tmp_path / "blob.bin"
    path.write_bytes(payload)
    assert crypto_hashes(path) == expected
    assert crypto_hashes(payload) == expected
    assert crypto_hashes(io.BytesIO(payload), chunk=4096) == expected


def test_empty_content():
    assert crypto_hashes(b"")["sha256"] == hashlib.sha256(b"").hexdigest()


def test_crypto_signal_hash_file_and_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"cosea")
    signal = get_signal("sha1")
    assert signal.hash_file(path) == hashlib.sha1(b"cosea").hexdigest()
    assert signal.hash_bytes(b"cosea") == hashlib.sha1(b"cosea").hexdigest()
    assert signal.applies_to == "any"
    assert signal.exact


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("md5", "abc"),
        ("md5", "g" * 32),
        ("sha1", "0" * 39),
        ("sha256", "0" * 65),
        ("sha256", ""),
    ],
)
def test_validate_rejects_malformed(name, bad):
    with pytest.raises(ValueError, match=name.upper()):
        get_signal(name).validate(bad)


def test_validate_normalises_case_and_space():
    value = "  " + "AB" * 16 + "\n"
    assert get_signal("md5").validate(value) == "ab" * 16


def test_distance_of_exact_signals():
    signal = get_signal("md5")
    assert signal.distance("a" * 32, "A" * 32) == 0
    assert signal.distance("a" * 32, "b" * 32) == 1
    assert signal.matches("a" * 32, "a" * 32)


def test_registry_names_and_errors():
    assert {"md5", "sha1", "sha256", "pdq", "vpdq"} <= set(signal_names())
    with pytest.raises(KeyError, match="unknown signal type 'nope'"):
        get_signal("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_signal(CryptoSignal("md5"))


def test_plugin_signal_can_register():
    class LengthSignal(SignalType):
        name = "test-length"
        applies_to = "any"

        def hash_file(self, path):
            return str(len(open(path, "rb").read()))

        def hash_bytes(self, data):
            return str(len(data))

        def validate(self, hash_str):
            if not str(hash_str).isdigit():
                raise ValueError("not a length")
            return str(int(hash_str))

    register_signal(LengthSignal(), replace=True)
    assert get_signal("test-length").hash_bytes(b"abcd") == "4"
    from cosea.media.hashing import hash_bytes

    assert hash_bytes(b"abcd", signals=("sha256", "test-length")).extra == {"test-length": "4"}
