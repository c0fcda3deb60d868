"""The chip: APDU dispatcher, file system, PIN logic, on-card RSA keys and issuer personalisation.

Standard commands (CLA 00 unless noted): SELECT (by AID, by FID, MF), READ BINARY (offset or SFI, short and
extended Le), READ RECORD, VERIFY (with the PIN, empty for tries left, P2=80 current EF or 80|SFI),
CHANGE REFERENCE DATA, GET CHALLENGE, EXTERNAL AUTHENTICATE (issuer), COMPUTE DIGITAL SIGNATURE `80 2A 00 80`.
Personalisation commands (CLA 80) are described in docs/card.md and in `_perso`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from mynacard import apdu as A
from mynacard.apdu import CardError, Command
from mynacard.profile import APPLICATIONS, EF, MAX_EF_SIZE, Application, Kind, key
from mynacard.state import CardState, PinState

# OpenSC's JPKI driver matches exactly this ATR (card-jpki.c jpki_atrs); it advertises T=1 only.
ATR = bytes.fromhex("3BE000FF8131FE4514")

ISSUER_AUTH_CONTEXT = b"mynacard issuer-auth v1\x00"
RSA_BITS = 2048
PUBLIC_EXPONENT = 65537

# DigestInfo prefixes (RFC 8017 §9.2 note 1) the card recognises to sign with a prehashed digest.
_DIGEST_INFOS: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3021300906052b0e03021a05000414"): hashes.SHA1(),
    bytes.fromhex("302d300d06096086480165030402040500041c"): hashes.SHA224(),
    bytes.fromhex("3031300d060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300d060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300d060960864801650304020305000440"): hashes.SHA512(),
}


@dataclass
class _Session:
    """Volatile security state: lost at power-off and reset."""

    app: Application | None = None
    ef: EF | None = None
    verified: set[int] = field(default_factory=set)  # PIN FIDs verified in the current application
    challenge: bytes | None = None
    issuer: bool = False


class VirtualCard:
    """One card. `process` takes a C-APDU and returns the R-APDU; it never raises."""

    def __init__(self, state: CardState, persist: Callable[[CardState], None] | None = None) -> None:
        self.state = state
        self._persist_fn = persist
        self._session = _Session()
        self._lock = threading.Lock()
        self._key_cache: dict[str, rsa.RSAPrivateKey] = {}
        self.atr = ATR
        # (CLA, INS) -> handler; `_dispatch` has narrowed CLA to 00 (ISO) or 80 (proprietary) before the look-up
        self._handlers: dict[tuple[int, int], Callable[[Command], tuple[bytes, int]]] = {
            (0x00, 0xA4): self._select,
            (0x00, 0xB0): self._read_binary,
            (0x00, 0xB2): self._read_record,
            (0x00, 0x20): self._verify,
            (0x00, 0x24): self._change_reference_data,
            (0x00, 0x84): self._get_challenge,
            (0x00, 0x82): self._external_authenticate,
            (0x80, 0x2A): self._compute_signature,
            (0x80, 0x0E): self._perso_erase,
            (0x80, 0xD6): self._perso_write,
            (0x80, 0xE2): self._perso_append_record,
            (0x80, 0x47): self._perso_key_pair,
            (0x80, 0xDA): self._perso_set_pin,
            (0x80, 0x2C): self._perso_reset_pin,
            (0x80, 0xE6): self._perso_lock,
        }

    # -- power ---------------------------------------------------------------------------------------
    def power_on(self) -> None:
        with self._lock:
            self._session = _Session()

    def power_off(self) -> None:
        self.power_on()

    def reset(self) -> None:
        self.power_on()

    # -- dispatcher ----------------------------------------------------------------------------------
    def process(self, raw: bytes) -> bytes:
        with self._lock:
            try:
                cmd = A.parse(raw)
                data, sw = self._dispatch(cmd)
                return A.response(data, sw)
            except CardError as e:
                return A.response(b"", e.sw)
            except Exception:  # a bug must not kill the card: answer "no precise diagnosis"
                return A.response(b"", A.SW_UNKNOWN)

    def _dispatch(self, c: Command) -> tuple[bytes, int]:
        cla = c.cla
        if cla == 0xFF or (cla & 0x80 and cla != 0x80) or (cla & 0x60 and not cla & 0x80):
            raise CardError(A.SW_CLA_NOT_SUPPORTED)
        if cla & 0x10:
            raise CardError(A.SW_CHAINING_NOT_SUPPORTED)
        if cla & 0x0C:
            raise CardError(A.SW_SM_NOT_SUPPORTED)
        if cla & 0x03:  # logical channels other than 0
            raise CardError(A.SW_CLA_NOT_SUPPORTED)
        handler = self._handlers.get((cla, c.ins))  # cla is 00 or 80 here
        if handler is None:
            raise CardError(A.SW_INS_NOT_SUPPORTED)
        return handler(c)

    # -- helpers -------------------------------------------------------------------------------------
    def _save(self) -> None:
        if self._persist_fn is not None:
            self._persist_fn(self.state)

    def _app(self) -> Application:
        if self._session.app is None:
            raise CardError(A.SW_CONDITIONS_NOT_SATISFIED)
        return self._session.app

    def _current(self, kind: Kind) -> EF:
        ef = self._session.ef
        if ef is None:
            raise CardError(A.SW_NO_CURRENT_EF)
        if ef.kind is not kind:
            raise CardError(A.SW_INCOMPATIBLE_FILE)
        return ef

    def _k(self, ef: EF) -> str:
        return key(self._app().aid, ef.fid)

    def _ef_by_sfi(self, sfi: int) -> EF:
        app = self._app()
        for ef in app.efs.values():
            if ef.sfi == sfi or (ef.sfi is None and ef.fid == sfi):
                return ef
        raise CardError(A.SW_FILE_NOT_FOUND)

    def _target(self, sfi: int | None, kind: Kind) -> EF:
        """The EF a command names by short EF identifier, or the current EF when it names none; of `kind`."""
        ef = self._current(kind) if sfi is None else self._ef_by_sfi(sfi)
        if ef.kind is not kind:
            raise CardError(A.SW_INCOMPATIBLE_FILE)  # keys and PINs can never be read out
        return ef

    def _read_access(self, sfi: int | None, kind: Kind) -> EF:
        """The EF a READ names, after its access rule; it becomes the current EF."""
        ef = self._target(sfi, kind)
        self._check_access(ef)
        self._session.ef = ef
        return ef

    def _check_access(self, ef: EF) -> None:
        if ef.acl and not (self._session.verified & set(ef.acl)):
            raise CardError(A.SW_SECURITY_NOT_SATISFIED)

    @staticmethod
    def _no_data(c: Command) -> None:
        if c.data:
            raise CardError(A.SW_WRONG_LENGTH)

    @staticmethod
    def _expect_le(c: Command) -> int:
        """A case 2 command (Le, no data): returns Ne."""
        if c.data or c.le is None:
            raise CardError(A.SW_WRONG_LENGTH)
        return c.le

    @staticmethod
    def _up_to_le(data: bytes, c: Command, le: int) -> tuple[bytes, int]:
        """At most Ne bytes; fewer than an explicit Le warns 62 82 (ISO 7816-4), fewer than "all" does not."""
        chunk = data[:le]
        return chunk, A.SW_END_OF_FILE if len(chunk) < le and not c.le_is_max else A.SW_OK

    # -- SELECT --------------------------------------------------------------------------------------
    def _select(self, c: Command) -> tuple[bytes, int]:
        if c.p2 not in (0x00, 0x04, 0x0C):
            raise CardError(A.SW_INCORRECT_P1P2)
        s = self._session
        if c.p1 == 0x04:  # by DF name (AID)
            app = APPLICATIONS.get(c.data)
            if app is None:
                raise CardError(A.SW_FILE_NOT_FOUND)  # a failed SELECT leaves the current DF as it was
            if s.app is not app:
                s.verified = set()  # security state belongs to the DF; re-selecting the same AP keeps it
            s.app, s.ef = app, None
            return b"", A.SW_OK
        if c.p1 in (0x00, 0x02):  # by file identifier
            if len(c.data) != 2:
                raise CardError(A.SW_WRONG_LENGTH)
            fid = int.from_bytes(c.data, "big")
            if c.p1 == 0x00 and fid == 0x3F00:  # the MF
                s.app, s.ef, s.verified = None, None, set()
                return b"", A.SW_OK
            if s.app is None or fid not in s.app.efs:
                raise CardError(A.SW_FILE_NOT_FOUND)
            s.ef = s.app.efs[fid]
            return b"", A.SW_OK
        raise CardError(A.SW_INCORRECT_P1P2)

    # -- READ BINARY / READ RECORD -------------------------------------------------------------------
    def _read_binary(self, c: Command) -> tuple[bytes, int]:
        le = self._expect_le(c)
        if c.p1 & 0x80:  # short EF identifier in P1, offset in P2; the EF becomes current
            if c.p1 & 0x60:
                raise CardError(A.SW_INCORRECT_P1P2)
            sfi, offset = c.p1 & 0x1F, c.p2
        else:
            sfi, offset = None, (c.p1 << 8) | c.p2
        ef = self._read_access(sfi, Kind.BINARY)
        content = self.state.files.get(self._k(ef), b"")
        if offset > len(content) or (offset == len(content) and content):
            raise CardError(A.SW_WRONG_P1P2)
        return self._up_to_le(content[offset:], c, le)

    def _read_record(self, c: Command) -> tuple[bytes, int]:
        le = self._expect_le(c)
        if c.p1 == 0 or (c.p2 & 0x07) != 0x04:  # only "record number in P1"
            raise CardError(A.SW_INCORRECT_P1P2)
        sfi = c.p2 >> 3
        if sfi == 0x1F:
            raise CardError(A.SW_INCORRECT_P1P2)
        ef = self._read_access(sfi or None, Kind.RECORD)
        records = self.state.records.get(self._k(ef), [])
        if c.p1 > len(records):
            raise CardError(A.SW_RECORD_NOT_FOUND)
        return self._up_to_le(records[c.p1 - 1], c, le)

    # -- PINs ----------------------------------------------------------------------------------------
    def _pin_ef(self, p2: int) -> EF:
        """P2 80: the current EF; 80|SFI: that PIN EF without a SELECT."""
        if p2 == 0x80:
            return self._current(Kind.PIN)
        if p2 & 0x80 and 0 < p2 & 0x1F < 0x1F and not p2 & 0x60:
            ef = self._ef_by_sfi(p2 & 0x1F)
            if ef.kind is not Kind.PIN:
                raise CardError(A.SW_REF_DATA_NOT_FOUND)
            return ef
        raise CardError(A.SW_INCORRECT_P1P2)

    def _verify(self, c: Command) -> tuple[bytes, int]:
        if c.le is not None:
            raise CardError(A.SW_WRONG_LENGTH)
        if c.p1 != 0x00:
            raise CardError(A.SW_INCORRECT_P1P2)
        ef = self._pin_ef(c.p2)
        assert ef.pin_rule is not None
        pin = self.state.pins.get(self._k(ef))
        if pin is None:
            raise CardError(A.SW_REF_DATA_BLOCKED)  # never set: reference data not usable
        if not c.data:
            # Tries left. OpenSC's JPKI driver needs 63 Cx here always, also when verified (63 C0 if blocked).
            return b"", 0x63C0 | min(pin.tries_left, 15)
        if pin.tries_left == 0:
            raise CardError(A.SW_REF_DATA_BLOCKED)
        if not ef.pin_rule.accepts(c.data):
            # Not a PIN by the rule (length or characters): refused without counting (UNCONFIRMED choice).
            raise CardError(A.SW_WRONG_DATA)
        if secrets.compare_digest(c.data, pin.value):
            if pin.tries_left != ef.pin_rule.max_tries:
                pin.tries_left = ef.pin_rule.max_tries  # a correct entry resets the counter
                self._save()
            self._session.verified.add(ef.fid)
            return b"", A.SW_OK
        pin.tries_left -= 1
        self._session.verified.discard(ef.fid)
        self._save()  # counted before answering
        return b"", 0x63C0 | pin.tries_left

    def _change_reference_data(self, c: Command) -> tuple[bytes, int]:
        if c.le is not None or c.p1 != 0x01:  # P1=01: data is the new PIN only, after VERIFY (myna change_pin)
            raise CardError(A.SW_INCORRECT_P1P2 if c.le is None else A.SW_WRONG_LENGTH)
        ef = self._pin_ef(c.p2)
        assert ef.pin_rule is not None
        pin = self.state.pins.get(self._k(ef))
        if pin is None or pin.tries_left == 0:
            raise CardError(A.SW_REF_DATA_BLOCKED)
        if ef.fid not in self._session.verified:
            raise CardError(A.SW_SECURITY_NOT_SATISFIED)
        if not ef.pin_rule.accepts(c.data):
            raise CardError(A.SW_WRONG_DATA)
        self.state.pins[self._k(ef)] = PinState(bytes(c.data), ef.pin_rule.max_tries)
        self._save()
        return b"", A.SW_OK

    # -- signature -----------------------------------------------------------------------------------
    def _private_key(self, k: str) -> rsa.RSAPrivateKey:
        pk = self._key_cache.get(k)
        if pk is None:
            der = self.state.keys.get(k)
            if der is None:
                raise CardError(A.SW_REF_DATA_NOT_FOUND)
            loaded = serialization.load_der_private_key(der, password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise CardError(A.SW_UNKNOWN)
            pk = self._key_cache[k] = loaded
        return pk

    def _compute_signature(self, c: Command) -> tuple[bytes, int]:
        if c.cla != 0x80 or c.p1 != 0x00 or c.p2 != 0x80:
            raise CardError(A.SW_INCORRECT_P1P2)
        if not c.data or c.le is None:
            raise CardError(A.SW_WRONG_LENGTH)
        ef = self._current(Kind.KEY)
        self._check_access(ef)
        pk = self._private_key(self._k(ef))
        k = pk.key_size // 8
        if len(c.data) > k - 11:  # PKCS#1 v1.5 needs at least 8 bytes of FF padding
            raise CardError(A.SW_WRONG_LENGTH)
        if c.le < k and not c.le_is_max:
            raise CardError(A.SW_WRONG_LENGTH)
        return self._sign_pkcs1(pk, bytes(c.data)), A.SW_OK

    @staticmethod
    def _sign_pkcs1(pk: rsa.RSAPrivateKey, data: bytes) -> bytes:
        """EM = 00 01 FF..FF 00 || data; signature = EM^d mod n (the card does the padding)."""
        for prefix, alg in _DIGEST_INFOS.items():
            if data.startswith(prefix) and len(data) == len(prefix) + alg.digest_size:
                return pk.sign(data[len(prefix) :], padding.PKCS1v15(), utils.Prehashed(alg))
        k = pk.key_size // 8
        em = b"\x00\x01" + b"\xff" * (k - 3 - len(data)) + b"\x00" + data
        n = pk.private_numbers()
        m = int.from_bytes(em, "big")
        # CRT: s = m^d mod n
        s1 = pow(m, n.dmp1, n.p)
        s2 = pow(m, n.dmq1, n.q)
        h = (n.iqmp * (s1 - s2)) % n.p
        return (s2 + h * n.q).to_bytes(k, "big")

    # -- issuer authentication -----------------------------------------------------------------------
    def _get_challenge(self, c: Command) -> tuple[bytes, int]:
        self._no_data(c)
        if c.p1 != 0 or c.p2 != 0:
            raise CardError(A.SW_INCORRECT_P1P2)
        if c.le is None or not 8 <= c.le <= 32:
            raise CardError(A.SW_WRONG_LENGTH)
        self._session.challenge = secrets.token_bytes(c.le)
        return self._session.challenge, A.SW_OK

    def _external_authenticate(self, c: Command) -> tuple[bytes, int]:
        if c.p1 != 0x00 or c.p2 != 0x01:  # key reference 01: the issuer key
            raise CardError(A.SW_INCORRECT_P1P2)
        if c.le is not None or not c.data:
            raise CardError(A.SW_WRONG_LENGTH)
        challenge, self._session.challenge = self._session.challenge, None  # single use
        if challenge is None:
            raise CardError(A.SW_CONDITIONS_NOT_SATISFIED)
        message = ISSUER_AUTH_CONTEXT + self.state.serial.encode() + challenge
        pub = serialization.load_der_public_key(self.state.issuer_public_key)
        try:
            if isinstance(pub, ed25519.Ed25519PublicKey):
                pub.verify(bytes(c.data), message)
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                pub.verify(bytes(c.data), message, ec.ECDSA(hashes.SHA256()))
            else:
                raise CardError(A.SW_CONDITIONS_NOT_SATISFIED)
        except (InvalidSignature, ValueError):
            self._session.issuer = False
            return b"", A.SW_AUTH_FAILED
        self._session.issuer = True
        return b"", A.SW_OK

    # -- personalisation (CLA 80; issuer session; refused for good once locked) ----------------------
    def _perso(self, allowed_when_locked: bool = False) -> None:
        if self.state.locked and not allowed_when_locked:
            raise CardError(A.SW_CONDITIONS_NOT_SATISFIED)
        if not self._session.issuer:
            raise CardError(A.SW_SECURITY_NOT_SATISFIED)

    def _perso_erase(self, c: Command) -> tuple[bytes, int]:
        if c.p1 or c.p2 or c.data or c.le is not None:
            raise CardError(A.SW_INCORRECT_P1P2 if c.p1 or c.p2 else A.SW_WRONG_LENGTH)
        self._perso()
        ef = self._session.ef
        if ef is None or ef.kind not in (Kind.BINARY, Kind.RECORD):
            raise CardError(A.SW_NO_CURRENT_EF if ef is None else A.SW_INCOMPATIBLE_FILE)
        self.state.files.pop(self._k(ef), None)
        self.state.records.pop(self._k(ef), None)
        self._save()
        return b"", A.SW_OK

    def _perso_write(self, c: Command) -> tuple[bytes, int]:
        if c.p1 & 0x80:
            raise CardError(A.SW_INCORRECT_P1P2)
        if not c.data or c.le is not None:
            raise CardError(A.SW_WRONG_LENGTH)
        self._perso()
        ef = self._current(Kind.BINARY)
        k = self._k(ef)
        content = self.state.files.get(k, b"")
        offset = (c.p1 << 8) | c.p2
        if offset > len(content):
            raise CardError(A.SW_WRONG_P1P2)  # no holes
        if offset + len(c.data) > MAX_EF_SIZE:
            raise CardError(A.SW_NOT_ENOUGH_MEMORY)
        self.state.files[k] = content[:offset] + bytes(c.data) + content[offset + len(c.data) :]
        self._save()
        return b"", A.SW_OK

    def _perso_append_record(self, c: Command) -> tuple[bytes, int]:
        if c.p1 or c.p2 & 0x07:
            raise CardError(A.SW_INCORRECT_P1P2)
        if not c.data or c.le is not None or len(c.data) > 254:
            raise CardError(A.SW_WRONG_LENGTH)
        self._perso()
        ef = self._target(c.p2 >> 3 or None, Kind.RECORD)
        recs = self.state.records.setdefault(self._k(ef), [])
        if len(recs) >= 254:
            raise CardError(A.SW_NOT_ENOUGH_MEMORY)
        recs.append(bytes(c.data))
        self._save()
        return b"", A.SW_OK

    def _perso_key_pair(self, c: Command) -> tuple[bytes, int]:
        """P1=00: generate an RSA-2048 key pair on the card; P1=01: read its public key. Answer: the 256-byte
        modulus (the public exponent is always 65537). The private key never leaves the card."""
        if c.p2 != 0 or c.p1 not in (0, 1):
            raise CardError(A.SW_INCORRECT_P1P2)
        if c.data or c.le is None or (c.le < 256):
            raise CardError(A.SW_WRONG_LENGTH)
        ef = self._current(Kind.KEY)
        k = self._k(ef)
        if c.p1 == 0:
            self._perso()
            pk = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=RSA_BITS)
            self.state.keys[k] = pk.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            self._key_cache[k] = pk
            self._save()
        modulus = self._private_key(k).public_key().public_numbers().n
        return modulus.to_bytes(RSA_BITS // 8, "big"), A.SW_OK

    def _perso_set_pin(self, c: Command) -> tuple[bytes, int]:
        return self._store_pin(c, allowed_when_locked=False)

    def _perso_reset_pin(self, c: Command) -> tuple[bytes, int]:
        """RESET RETRY COUNTER with a new PIN: the municipal counter's unblock; the only issuer command
        still allowed after personalisation is locked."""
        return self._store_pin(c, allowed_when_locked=True)

    def _store_pin(self, c: Command, *, allowed_when_locked: bool) -> tuple[bytes, int]:
        """SET PIN / RESET RETRY COUNTER: the current PIN EF gets the value in the data, counter to max."""
        if c.p1 or c.p2:
            raise CardError(A.SW_INCORRECT_P1P2)
        if c.le is not None or not c.data:
            raise CardError(A.SW_WRONG_LENGTH)
        self._perso(allowed_when_locked=allowed_when_locked)
        ef = self._current(Kind.PIN)
        assert ef.pin_rule is not None
        if not ef.pin_rule.accepts(c.data):
            raise CardError(A.SW_WRONG_DATA)
        self.state.pins[self._k(ef)] = PinState(bytes(c.data), ef.pin_rule.max_tries)
        self._session.verified.discard(ef.fid)
        self._save()
        return b"", A.SW_OK

    def _perso_lock(self, c: Command) -> tuple[bytes, int]:
        if c.p1 or c.p2:
            raise CardError(A.SW_INCORRECT_P1P2)
        if c.data or c.le is not None:
            raise CardError(A.SW_WRONG_LENGTH)
        self._perso()
        self.state.locked = True
        self._save()
        self._session.issuer = False
        return b"", A.SW_OK


class InProcessTransport:
    """The in-process transport for unit tests: the same bytes as over vpcd, without sockets."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        card.power_on()

    def transmit(self, apdu: bytes) -> bytes:
        return self.card.process(apdu)

    def reset(self) -> None:
        self.card.reset()
