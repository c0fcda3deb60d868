"""CA keys in an HSM through PKCS#11 (SoftHSM2 locally and in tests, any PKCS#11 module in production).

Private keys are generated inside the token as sensitive, non-extractable objects and never leave it: the CA
signs by handing the HSM a message (`HsmRsaKey.sign`). `HsmRsaKey` subclasses cryptography's RSAPrivateKey, so
the X.509, CRL and OCSP builders sign through the HSM unchanged (toolchain.md §10).

One process-wide lock guards every PKCS#11 call: python-pkcs11 initialises the module with C_Initialize(NULL),
which turns SoftHSM's own locking off, and it releases the GIL; two threads in the module crash it. Throughput
comes from more processes, each with its own session, never from threads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pkcs11
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as pad
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

PKCS11_LOCK = threading.RLock()
SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")

_MECHANISMS: dict[type[hashes.HashAlgorithm], Mechanism] = {
    hashes.SHA256: Mechanism.SHA256_RSA_PKCS,
    hashes.SHA384: Mechanism.SHA384_RSA_PKCS,
    hashes.SHA512: Mechanism.SHA512_RSA_PKCS,
}

# One loaded module per process: C_Initialize reads SOFTHSM2_CONF once, so the token directory is fixed then.
_libs: dict[str, Any] = {}


class HsmError(RuntimeError):
    """The HSM refused or failed; texts name the key label or token, never key material."""


def softhsm_config(data_dir: Path) -> Path:
    """A private SoftHSM2 configuration whose token directory lives in the service's data folder.

    Sets SOFTHSM2_CONF for this process (and its children), so it must run before the module is loaded.
    """
    tokens = data_dir / "softhsm-tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = data_dir / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                    "slots.removable = false\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def softhsm_init_token(label: str, *, so_pin: str, user_pin: str) -> bool:
    """Initialise a SoftHSM token by label if none exists yet (initialising twice would make two tokens with one
    label). SoftHSM-specific: a production HSM's tokens are prepared with the vendor's tools. True if created."""
    util = shutil.which("softhsm2-util")
    if util is None:
        raise HsmError("softhsm2-util is not installed (Debian package softhsm2)")
    shown = subprocess.run([util, "--show-slots"], capture_output=True, text=True, check=True).stdout
    if any(line.strip() == f"Label:            {label}" for line in shown.splitlines()):
        return False
    subprocess.run([util, "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", user_pin],
                   capture_output=True, text=True, check=True)
    return True


def _load(module: Path) -> Any:
    key = str(module)
    with PKCS11_LOCK:
        if key not in _libs:
            _libs[key] = pkcs11.lib(key)
        return _libs[key]


@dataclass(frozen=True)
class KeyInfo:
    label: str
    key_id: bytes
    public_key: rsa.RSAPublicKey


class Hsm:
    """One logged-in session on one token (closing it would log every session of the process out)."""

    def __init__(self, *, module: Path, token_label: str, user_pin: str) -> None:
        self.module = module
        self.token_label = token_label
        with PKCS11_LOCK:
            lib = _load(module)
            try:
                token = lib.get_token(token_label=token_label)
            except pkcs11.exceptions.NoSuchToken as e:
                raise HsmError(f"no PKCS#11 token labelled {token_label!r}") from e
            except pkcs11.exceptions.MultipleTokensReturned as e:
                raise HsmError(f"several PKCS#11 tokens are labelled {token_label!r}") from e
            try:
                self._session = token.open(rw=True, user_pin=user_pin)
            except pkcs11.exceptions.PinIncorrect as e:
                raise HsmError("the HSM refused the user PIN") from e

    def close(self) -> None:
        with PKCS11_LOCK:
            self._session.close()

    def ping(self) -> None:
        """Health check: the session still answers."""
        with PKCS11_LOCK:
            self._session.generate_random(64)

    def generate_rsa(self, label: str, *, bits: int = 2048) -> KeyInfo:
        """Generate an RSA key pair inside the token: private half sensitive and never extractable."""
        with PKCS11_LOCK:
            if list(self._session.get_objects({Attribute.LABEL: label, Attribute.CLASS: ObjectClass.PRIVATE_KEY})):
                raise HsmError(f"a private key labelled {label!r} already exists on the token")
            key_id = os.urandom(16)
            pub, _priv = self._session.generate_keypair(
                KeyType.RSA, bits, store=True, label=label, id=key_id,
                public_template={Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01", Attribute.VERIFY: True,
                                 Attribute.TOKEN: True},
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True,
                                  Attribute.PRIVATE: True, Attribute.TOKEN: True, Attribute.DECRYPT: False},
            )
            return KeyInfo(label, key_id, _public_from(pub))

    def has_key(self, label: str) -> bool:
        with PKCS11_LOCK:
            return bool(list(self._session.get_objects({Attribute.LABEL: label,
                                                         Attribute.CLASS: ObjectClass.PRIVATE_KEY})))

    def key(self, label: str) -> HsmRsaKey:
        with PKCS11_LOCK:
            try:
                priv = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.RSA, label=label)
                pub = self._session.get_key(object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.RSA, label=label)
            except pkcs11.exceptions.NoSuchKey as e:
                raise HsmError(f"no RSA key labelled {label!r} on token {self.token_label!r}") from e
            return HsmRsaKey(priv, _public_from(pub), label)

    def is_extractable(self, label: str) -> bool:
        with PKCS11_LOCK:
            priv = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.RSA, label=label)
            return bool(priv[Attribute.EXTRACTABLE]) or not bool(priv[Attribute.SENSITIVE])


def _public_from(pub: Any) -> rsa.RSAPublicKey:
    n = int.from_bytes(pub[Attribute.MODULUS], "big")
    e = int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


class HsmRsaKey(rsa.RSAPrivateKey):
    """An RSA private key that lives in the HSM: `sign` goes to PKCS#11, everything that would reveal it fails."""

    def __init__(self, handle: Any, public: rsa.RSAPublicKey, label: str) -> None:
        self._handle = handle
        self._public = public
        self.label = label

    def sign(self, data: bytes, padding: pad.AsymmetricPadding,  # type: ignore[override]
             algorithm: Prehashed | hashes.HashAlgorithm) -> bytes:
        if not isinstance(padding, pad.PKCS1v15) or isinstance(algorithm, Prehashed):
            raise HsmError("the CA signs with PKCS#1 v1.5 over the full message only")
        mechanism = _MECHANISMS.get(type(algorithm))
        if mechanism is None:
            raise HsmError(f"unsupported hash {algorithm.name} for HSM signing")
        with PKCS11_LOCK:
            # The mechanism is explicit: python-pkcs11 would otherwise default to SHA512_RSA_PKCS.
            return bytes(self._handle.sign(data, mechanism=mechanism))

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def _refuse(self) -> NoReturn:
        raise HsmError(f"the private key {self.label!r} never leaves the HSM")

    def decrypt(self, ciphertext: bytes, padding: pad.AsymmetricPadding) -> bytes:
        self._refuse()

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        self._refuse()

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        self._refuse()

    def __copy__(self) -> HsmRsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> HsmRsaKey:
        return self
