"""The platform's My Number card reader library (pyscard): readers, typed APDUs and errors, card operations."""

from mynumber_cardreader.card import AID_JPKI, AID_JUKI, AID_KENHOJO, AID_KENKAKU, JpkiKey, MyNumberCard
from mynumber_cardreader.errors import (
    CardReaderError,
    CardStatusError,
    FileNotFoundOnCardError,
    NoCardError,
    NoReaderError,
    PinBlockedError,
    SecurityStatusError,
    WrongPinError,
)
from mynumber_cardreader.kenhojo import BasicFour
from mynumber_cardreader.transport import PcscTransport, Transport, list_readers

__all__ = [
    "AID_JPKI", "AID_JUKI", "AID_KENHOJO", "AID_KENKAKU", "BasicFour", "CardReaderError", "CardStatusError",
    "FileNotFoundOnCardError", "JpkiKey", "MyNumberCard", "NoCardError", "NoReaderError", "PcscTransport",
    "PinBlockedError", "SecurityStatusError", "Transport", "WrongPinError", "list_readers",
]
