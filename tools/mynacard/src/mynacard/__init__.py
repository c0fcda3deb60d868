"""A virtual My Number card: the chip's four applications, PINs, on-card RSA keys, issuer personalisation."""

from mynacard.card import ATR, VirtualCard
from mynacard.profile import AID_JPKI, AID_JUKI, AID_KENHOJO, AID_KENKAKU
from mynacard.state import CardState

__all__ = ["AID_JPKI", "AID_JUKI", "AID_KENHOJO", "AID_KENKAKU", "ATR", "CardState", "VirtualCard"]
