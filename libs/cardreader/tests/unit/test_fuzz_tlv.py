"""The card's TLV files as a reader meets them from any card, genuine or not: arbitrary bytes and mutants of real
EF contents. Every defect is a FormatError (never IndexError, ValueError, a codec error), whose text never quotes
the bytes read (they hold the number and the 4 facts), and whatever decodes was really there."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mynumber_cardreader.kenhojo import (
    BasicFour,
    FormatError,
    decode_basic_four,
    decode_my_number,
    encode_basic_four,
    encode_my_number,
    sign_facts,
    verify_facts,
)

NUMBER = "123456789018"
FACTS = BasicFour(name="番号 花子", address="東京都千代田区永田町1-7-1", birth="19900401", sex="2")
SECRETS = [NUMBER, FACTS.name, FACTS.address, FACTS.birth, "花子", "千代田"]
MY_NUMBER_EF = encode_my_number(NUMBER)
BASIC_FOUR_EF = encode_basic_four(FACTS)
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def jlis_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def signature_ef() -> bytes:
    return sign_facts(MY_NUMBER_EF, BASIC_FOUR_EF, jlis_key())


@st.composite
def mutants(draw: st.DrawFn, base: bytes) -> bytes:
    """A real EF with a few bytes flipped, cut, inserted or its lengths changed: what a worn or forged card gives."""
    b = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        if op == "cut" or not b:
            del b[draw(st.integers(0, len(b))):]
        elif op == "flip":
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            b.insert(draw(st.integers(0, len(b))), draw(st.integers(0, 255)))
        else:  # a length byte of the outer or an inner TLV
            b[min(len(b) - 1, draw(st.sampled_from([2, 3, 4, 7, 18])))] = draw(st.integers(0, 255))
    return bytes(b)


def no_echo(error: FormatError) -> None:
    text = str(error)
    assert not any(s in text for s in SECRETS), text
    assert len(text) < 100 and "\\x" not in text, text


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutants(MY_NUMBER_EF)))
@example(b"\xdf\x10\x0c" + "１２３４５６７８９０１８".encode()[:12])  # not ASCII digits
@example(b"\xdf\x10\x83\x00\x00\x0c")  # a length form the card never uses
def test_the_my_number_file_decodes_to_12_ascii_digits_or_is_refused_in_one_clean_error(ef: bytes):
    try:
        number = decode_my_number(ef)
    except FormatError as e:
        no_echo(e)
        return
    assert len(number) == 12 and number.isascii() and number.isdigit()
    assert number.encode() in ef


@FUZZ
@given(st.one_of(st.binary(max_size=400), mutants(BASIC_FOUR_EF)))
@example(BASIC_FOUR_EF[:-1])
@example(BASIC_FOUR_EF.replace("花子".encode(), b"\xff\xfe" + "子".encode()))  # not UTF-8
def test_the_basic_four_file_decodes_to_facts_that_are_in_it_or_is_refused_in_one_clean_error(ef: bytes):
    try:
        facts = decode_basic_four(ef)
    except FormatError as e:
        no_echo(e)
        return
    for value in (facts.name, facts.address, facts.birth, facts.sex):
        assert value.encode() in ef


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(["number", "facts", "signature"]))
def test_what_verifies_against_j_lis_signature_is_exactly_what_j_lis_signed(data: st.DataObject, which: str):
    """One of the three files changed: either the check refuses it in one clean error, or what the reader then
    shows (the number, the 4 facts) is still exactly what J-LIS signed, or it shows nothing. (The signature covers
    the bytes from DF21's first offset on, not the template's own length: a mutant that shortens FF20's length
    verifies, and then decodes to "birth is missing", never to a fact J-LIS did not sign. Found by this test.)"""
    files = {"number": MY_NUMBER_EF, "facts": BASIC_FOUR_EF, "signature": signature_ef()}
    files[which] = data.draw(mutants(files[which]))
    try:
        verify_facts(files["number"], files["facts"], files["signature"], jlis_key().public_key())
    except FormatError as e:
        no_echo(e)
        return
    try:
        shown = decode_my_number(files["number"]), decode_basic_four(files["facts"])
    except FormatError as e:
        no_echo(e)
        return
    assert shown == (NUMBER, FACTS)


def test_the_genuine_files_verify():
    verify_facts(MY_NUMBER_EF, BASIC_FOUR_EF, signature_ef(), jlis_key().public_key())
    assert decode_basic_four(BASIC_FOUR_EF) == FACTS and decode_my_number(MY_NUMBER_EF) == NUMBER


@FUZZ
@given(st.builds(BasicFour, name=st.text(max_size=60), address=st.text(max_size=200),
                 birth=st.from_regex(r"\A[0-9]{8}\Z"), sex=st.sampled_from(["1", "2", "9"])))
def test_any_facts_round_trip(facts: BasicFour):
    try:
        ef = encode_basic_four(facts)
    except UnicodeEncodeError:  # lone surrogates: not text a card can hold, refused by the encoder
        return
    assert decode_basic_four(ef) == facts
