from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mynacard.card import InProcessTransport, VirtualCard
from mynacard.state import CardState, StateFile
from mynumber_cardreader.testing import SAMPLE_CONTENTS, SAMPLE_PINS, TestIssuer

SERIAL = "MN00000000042"


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer.create()


@pytest.fixture(scope="session")
def personalised(issuer: TestIssuer) -> tuple[CardState, dict]:
    card = VirtualCard(CardState.manufacture(issuer.issuer_public_der(), SERIAL))
    certs = issuer.personalise(InProcessTransport(card), SERIAL, SAMPLE_CONTENTS, SAMPLE_PINS)
    return card.state, certs


@pytest.fixture
def state_file(personalised: tuple[CardState, dict], tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "card.json"
    StateFile(path).save(personalised[0])
    yield path
