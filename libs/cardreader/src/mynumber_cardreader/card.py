"""MyNumberCard: what the kiosk and the issuance counter do with a card, over any transport."""

from __future__ import annotations

from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from mynumber_cardreader import apdu as A
from mynumber_cardreader import kenhojo
from mynumber_cardreader.errors import CardReaderError, check
from mynumber_cardreader.transport import Transport

AID_JPKI = bytes.fromhex("D392F000260100000001")
AID_KENHOJO = bytes.fromhex("D3921000310001010408")
AID_KENKAKU = bytes.fromhex("D3921000310001010402")
AID_JUKI = bytes.fromhex("D3921000310001010100")

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def encode_pin(pin: str) -> bytes:
    """A PIN as the card compares it: ASCII, upper case (readers upper-case the 署名用 password)."""
    if not pin.isascii():
        # checked here rather than left to the codec, whose message would quote a character of the PIN
        raise ValueError("pin: must be ASCII")
    return pin.upper().encode("ascii")


class JpkiKey(Enum):
    """The two JPKI keys: (certificate EF, CA certificate EF, key EF, PIN EF)."""

    AUTH = (0x000A, 0x000B, 0x0017, 0x0018)  # 利用者証明用, 4-digit PIN
    SIGN = (0x0001, 0x0002, 0x001A, 0x001B)  # 署名用, 6-16 character password

    @property
    def cert_ef(self) -> int:
        return self.value[0]

    @property
    def ca_ef(self) -> int:
        return self.value[1]

    @property
    def key_ef(self) -> int:
        return self.value[2]

    @property
    def pin_ef(self) -> int:
        return self.value[3]


class MyNumberCard:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    # -- primitives ----------------------------------------------------------------------------------
    def send(self, command: bytes) -> tuple[bytes, int]:
        return A.split(self.transport.transmit(command))

    def call(self, operation: str, command: bytes) -> bytes:
        data, sw = self.send(command)
        check(operation, sw)
        return data

    def select_ap(self, aid: bytes) -> None:
        self.call("select application", A.select_aid(aid))

    def select_ef(self, fid: int) -> None:
        self.call(f"select EF {fid:04X}", A.select_ef(fid))

    def select(self, aid: bytes, fid: int) -> None:
        """The application, then one of its EFs."""
        self.select_ap(aid)
        self.select_ef(fid)

    def read_current(self, operation: str = "read binary") -> bytes:
        """Read the whole current EF in 256-byte chunks (a short read with 62 82 or 90 00 ends it)."""
        out = b""
        while len(out) <= 0x7FFF:
            data, sw = self.send(A.read_binary(len(out), 256))
            if sw == 0x6B00 and out:  # offset at the end of the file
                break
            if sw not in (0x9000, 0x6282):
                check(operation, sw)
            out += data
            if len(data) < 256 or sw == 0x6282:
                break
        return out

    def read_ef(self, aid: bytes, fid: int) -> bytes:
        self.select(aid, fid)
        return self.read_current(f"read EF {fid:04X}")

    def pin_tries_left(self, aid: bytes, pin_ef: int) -> int:
        """The empty VERIFY: 63 Cx, x = tries left (0 when blocked)."""
        self.select(aid, pin_ef)
        _, sw = self.send(A.verify())
        if sw & 0xFFF0 != 0x63C0:
            check("pin status", sw)
            raise CardReaderError(f"pin status: unexpected {sw:04X}")
        return sw & 0x0F

    def verify_pin(self, aid: bytes, pin_ef: int, pin: str) -> None:
        """Raises WrongPinError (with tries_left), PinBlockedError."""
        self.select(aid, pin_ef)
        self.call("verify", A.verify(encode_pin(pin)))

    def change_pin(self, aid: bytes, pin_ef: int, old: str, new: str) -> None:
        new_pin = encode_pin(new)  # refused before the old PIN is spent on a VERIFY
        self.verify_pin(aid, pin_ef, old)
        self.call("change reference data", A.change_reference_data(new_pin))

    # -- 券面事項入力補助AP --------------------------------------------------------------------------
    def read_number_and_facts(
        self, pin: str, jlis_public_key: rsa.RSAPublicKey | None = None
    ) -> tuple[str, kenhojo.BasicFour]:
        """The 個人番号 and the 4 facts after the 券面事項入力補助用 PIN; checks J-LIS's signature if a key is given."""
        self.verify_pin(AID_KENHOJO, 0x0011, pin)
        self.select_ef(0x0001)
        number_ef = self.read_current("read my number")
        self.select_ef(0x0002)
        four_ef = self.read_current("read basic four")
        if jlis_public_key is not None:
            self.select_ef(0x0003)
            kenhojo.verify_facts(number_ef, four_ef, self.read_current("read signature"), jlis_public_key)
        return kenhojo.decode_my_number(number_ef), kenhojo.decode_basic_four(four_ef)

    # -- JPKI ----------------------------------------------------------------------------------------
    def read_certificate(self, which: JpkiKey, password: str | None = None, ca: bool = False) -> x509.Certificate:
        """The certificate (or its CA's). The 署名用 certificate needs the signing password first."""
        if which is JpkiKey.SIGN and not ca:
            if password is None:
                raise CardReaderError("the signing certificate needs the signing password")
            self.verify_pin(AID_JPKI, which.pin_ef, password)
        else:
            self.select_ap(AID_JPKI)
        self.select_ef(which.ca_ef if ca else which.cert_ef)
        return x509.load_der_x509_certificate(self.read_current("read certificate"))

    def sign_digest(self, which: JpkiKey, pin: str, sha256_digest: bytes) -> bytes:
        """PKCS#1 v1.5 signature over a SHA-256 digest, made on the card after the PIN."""
        if len(sha256_digest) != 32:
            raise ValueError("sha256_digest: must be 32 bytes")
        return self.sign_digest_info(which, pin, SHA256_DIGEST_INFO + sha256_digest)

    def sign_digest_info(self, which: JpkiKey, pin: str, digest_info: bytes) -> bytes:
        self.verify_pin(AID_JPKI, which.pin_ef, pin)
        self.select_ef(which.key_ef)
        return self.call("compute digital signature", A.compute_signature(digest_info))

    # -- 住基AP --------------------------------------------------------------------------------------
    def read_manufacture_number(self) -> str:
        """製造番号: record 1 of SFI 1 in the 住基AP, `DF 01 0F "00" <13 characters>` (myna read_manufacture)."""
        self.select_ap(AID_JUKI)
        rec = self.call("read record", A.read_record(1, 1))
        if len(rec) < 3 + 2 + 13:
            raise CardReaderError("manufacture record too short")
        return rec[5:18].decode("ascii")
