"""The issuer's side of personalisation (the protocol is in docs/card.md).

    GET CHALLENGE        00 84 00 00 10              -> 16 random bytes
    EXTERNAL AUTHENTICATE 00 82 00 01 Lc <sig>       issuer signature over
                                                     "mynacard issuer-auth v1\\0" || serial || challenge
    ERASE                80 0E 00 00                 empty the current binary/record EF
    WRITE                80 D6 <offset> Lc <data>    write into the current binary EF
    APPEND RECORD        80 E2 00 00 Lc <data>       add a record to the current record EF
    GENERATE KEY PAIR    80 47 00 00 00              RSA-2048 in the current key EF -> 256-byte modulus (e=65537)
    READ PUBLIC KEY      80 47 01 00 00              -> the modulus again (no issuer session needed)
    SET PIN              80 DA 00 00 Lc <pin>        initial value of the current PIN EF, counter to max
    RESET RETRY COUNTER  80 2C 00 00 Lc <pin>        new PIN + unblock; still allowed after LOCK
    LOCK                 80 E6 00 00                 personalisation closed for good
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mynumber_cardreader import apdu as A
from mynumber_cardreader import kenhojo
from mynumber_cardreader.card import AID_JPKI, AID_JUKI, AID_KENHOJO, AID_KENKAKU, JpkiKey, MyNumberCard, encode_pin
from mynumber_cardreader.errors import CardStatusError
from mynumber_cardreader.transport import Transport

ISSUER_AUTH_CONTEXT = b"mynacard issuer-auth v1\x00"
IssuerKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
TOKEN_LABEL = b"JPKIAPICCTOKEN2"  # My Number Card (domain.md §3.2 EF 0006)
WRITE_CHUNK = 255
SW_REF_DATA_NOT_FOUND = 0x6A88  # READ PUBLIC KEY of a key EF that holds no key


class IssuerSession:
    def __init__(self, transport: Transport, issuer_key: IssuerKey) -> None:
        self.card = MyNumberCard(transport)
        self._key = issuer_key

    def authenticate(self, serial: str) -> None:
        challenge = self.card.call("get challenge", A.short(0x00, 0x84, 0x00, 0x00, le=16))
        message = ISSUER_AUTH_CONTEXT + serial.encode() + challenge
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            sig = self._key.sign(message)
        else:
            sig = self._key.sign(message, ec.ECDSA(hashes.SHA256()))
        self.card.call("external authenticate", A.short(0x00, 0x82, 0x00, 0x01, sig))

    def _erase(self, aid: bytes, fid: int) -> None:
        self.card.select(aid, fid)
        self.card.call("erase", A.short(0x80, 0x0E, 0x00, 0x00))

    def write_file(self, aid: bytes, fid: int, data: bytes) -> None:
        self._erase(aid, fid)
        for off in range(0, len(data), WRITE_CHUNK):
            chunk = data[off : off + WRITE_CHUNK]
            self.card.call("write", A.short(0x80, 0xD6, off >> 8, off & 0xFF, chunk))

    def write_records(self, aid: bytes, fid: int, records: list[bytes]) -> None:
        self._erase(aid, fid)
        for r in records:
            self.card.call("append record", A.short(0x80, 0xE2, 0x00, 0x00, r))

    def generate_key_pair(self, which: JpkiKey) -> rsa.RSAPublicKey:
        self.card.select(AID_JPKI, which.key_ef)
        modulus = self.card.call("generate key pair", A.short(0x80, 0x47, 0x00, 0x00, le=256))
        return rsa.RSAPublicNumbers(65537, int.from_bytes(modulus, "big")).public_key()

    def read_public_key(self, which: JpkiKey) -> rsa.RSAPublicKey | None:
        """The public half of the key pair in the key EF, or None when none was generated (6A 88)."""
        self.card.select(AID_JPKI, which.key_ef)
        try:
            modulus = self.card.call("read public key", A.short(0x80, 0x47, 0x01, 0x00, le=256))
        except CardStatusError as e:
            if e.sw == SW_REF_DATA_NOT_FOUND:
                return None
            raise
        return rsa.RSAPublicNumbers(65537, int.from_bytes(modulus, "big")).public_key()

    def key_pair(self, which: JpkiKey) -> rsa.RSAPublicKey:
        """The card's key pair for `which`: the one already on the card if a personalisation of this card began
        before (and stopped), else a new one generated on the card. A retried personalisation must certify the same
        key: jpki answers the same certificate for the same request under the card's idempotency key, and refuses a
        new key under it (a second pair of certificates would otherwise exist for one card)."""
        return self.read_public_key(which) or self.generate_key_pair(which)

    def set_pin(self, aid: bytes, pin_ef: int, pin: str) -> None:
        self.card.select(aid, pin_ef)
        self.card.call("set pin", A.short(0x80, 0xDA, 0x00, 0x00, encode_pin(pin)))

    def reset_pin(self, aid: bytes, pin_ef: int, pin: str) -> None:
        self.card.select(aid, pin_ef)
        self.card.call("reset retry counter", A.short(0x80, 0x2C, 0x00, 0x00, encode_pin(pin)))

    def lock(self) -> None:
        self.card.call("lock personalisation", A.short(0x80, 0xE6, 0x00, 0x00))


@dataclass(frozen=True)
class Pins:
    """The four PINs chosen at hand-over (domain.md §6): 署名用, 利用者証明用, 住基, 券面事項入力補助."""

    sign: str
    auth: str
    juki: str
    kenhojo: str

    def __repr__(self) -> str:
        return "Pins(<redacted>)"


@dataclass(frozen=True)
class CardContents:
    number: str
    facts: kenhojo.BasicFour
    resident_code: str  # 住民票コード, 11 digits
    birth_yymmdd: str
    expiry_year: str
    security_code: str  # 4 digits, printed on the card face

    def __repr__(self) -> str:
        return "CardContents(<redacted>)"


# certify(which, public_key) -> (certificate, CA certificate), done by the JPKI CA.
Certify = Callable[[JpkiKey, rsa.RSAPublicKey], tuple[x509.Certificate, x509.Certificate]]


def personalise(
    transport: Transport,
    *,
    issuer_key: IssuerKey,
    serial: str,
    contents: CardContents,
    pins: Pins,
    jlis_key: rsa.RSAPrivateKey,
    certify: Certify,
    lock: bool = True,
    sign_certificate: bool = True,
) -> dict[JpkiKey, x509.Certificate]:
    """Write a blank card as the issuance counter does: data, keys, certificates, PINs, then lock.

    Rerunnable until the lock: every file is erased and rewritten, and a key pair already on the card is certified
    again rather than replaced (`IssuerSession.key_pair`). `sign_certificate=False` (a holder under 15 or a
    成年被後見人, domain.md §4.4) leaves the 署名用 key, its certificate and CA certificate off the card."""
    from cryptography.hazmat.primitives.serialization import Encoding

    s = IssuerSession(transport, issuer_key)
    s.authenticate(serial)
    number_ef = kenhojo.encode_my_number(contents.number)
    four_ef = kenhojo.encode_basic_four(contents.facts)
    s.write_file(AID_KENHOJO, 0x0001, number_ef)
    s.write_file(AID_KENHOJO, 0x0002, four_ef)
    s.write_file(AID_KENHOJO, 0x0003, kenhojo.sign_facts(number_ef, four_ef, jlis_key))
    s.write_file(AID_KENHOJO, 0x0005, b"\xff\x40\x82\x00\x0a\xdf\x41\x04\x00\x00\x00\x01\xdf\x42\x00")
    check_a, check_b = contents.number, contents.birth_yymmdd + contents.expiry_year + contents.security_code
    for aid, fid, value in (
        (AID_KENHOJO, 0x0011, pins.kenhojo),
        (AID_KENHOJO, 0x0014, check_a),
        (AID_KENHOJO, 0x0015, check_b),
        (AID_KENKAKU, 0x0013, check_a),
        (AID_KENKAKU, 0x0012, check_b),
        (AID_JUKI, 0x001C, pins.juki),
        (AID_JPKI, 0x0018, pins.auth),
        (AID_JPKI, 0x001B, pins.sign),
    ):
        s.set_pin(aid, fid, value)
    # 券面AP: the face data as text in this emulator (the real card holds images; UNCONFIRMED layout)
    facts = contents.facts
    face = kenhojo.tlv(b"\xdf\x22", facts.birth.encode()) + kenhojo.tlv(b"\xdf\x23", facts.sex.encode())
    s.write_file(AID_KENKAKU, 0x0002, kenhojo.tlv(b"\xff\x20", face))
    s.write_file(AID_KENKAKU, 0x0003, b"\x00\x00\x00\x01\x01")
    s.write_records(AID_JUKI, 0x0001, [b"\xdf\x01\x0f00" + serial.encode()])
    s.write_file(AID_JUKI, 0x0002, contents.resident_code.encode())
    s.write_file(AID_JPKI, 0x0006, TOKEN_LABEL.ljust(32, b" "))
    # EF 0008: one byte per certificate present, 署名用 then 利用者証明用 (domain.md §3.2, semantics UNCONFIRMED).
    s.write_file(AID_JPKI, 0x0008, (b"\x8f" if sign_certificate else b"\x00") + b"\x8f\x00")
    certs: dict[JpkiKey, x509.Certificate] = {}
    for which in (JpkiKey.AUTH, JpkiKey.SIGN) if sign_certificate else (JpkiKey.AUTH,):
        pub = s.key_pair(which)
        cert, ca = certify(which, pub)
        certified = cert.public_key()
        if not isinstance(certified, rsa.RSAPublicKey) or certified.public_numbers() != pub.public_numbers():
            raise ValueError("certify: the certificate is not for the key generated on the card")
        s.write_file(AID_JPKI, which.cert_ef, cert.public_bytes(Encoding.DER))
        s.write_file(AID_JPKI, which.ca_ef, ca.public_bytes(Encoding.DER))
        certs[which] = cert
    if lock:
        s.lock()
    return certs
