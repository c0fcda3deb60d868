from __future__ import annotations

import copy

import pytest
from mynacard.card import InProcessTransport, VirtualCard
from mynacard.state import CardState
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer

SERIAL = "MN12345678901"


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer.create()


@pytest.fixture(scope="session")
def personalised_state(issuer: TestIssuer) -> CardState:
    """One card personalised through the issuer commands (key generation is slow: done once per session)."""
    card = VirtualCard(CardState.manufacture(issuer.issuer_public_der(), SERIAL))
    issuer.personalise(InProcessTransport(card), SERIAL, SAMPLE_CONTENTS, SAMPLE_PINS)
    return card.state


@pytest.fixture
def card(personalised_state: CardState) -> VirtualCard:
    return VirtualCard(copy.deepcopy(personalised_state))


@pytest.fixture
def blank_card(issuer: TestIssuer) -> VirtualCard:
    return VirtualCard(CardState.manufacture(issuer.issuer_public_der(), SERIAL))


def tx(card: VirtualCard, hexstr: str) -> str:
    """Send a hex C-APDU, return the hex R-APDU (upper case, no spaces)."""
    return card.process(bytes.fromhex(hexstr.replace(" ", ""))).hex().upper()
