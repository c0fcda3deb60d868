"""The REST enums of the issuance resources are the proto's names (prefix off, lower case): a value added to the
proto and not to the document, or renamed in one of them, turns this red."""

from __future__ import annotations

import typing

from gateway import issuance_api as api
from gateway import issuance_client as client


def test_the_documented_values_are_the_protos_own() -> None:
    assert set(typing.get_args(api.Channel)) == set(client.CHANNELS)
    assert set(typing.get_args(api.HandoverMethod)) == set(client.METHODS)
    assert set(typing.get_args(api.State)) == set(client.STATES)
    assert set(typing.get_args(api.Applicant.model_fields["sex"].annotation)) == set(client.SEXES)
