"""申請書ID, the 4-4-4 display, and the MNB1 batch file round trip with its trailer checks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notice.codes import application_id_valid, grouped_number, luhn_digit, new_application_id, qr_payload, random_digits
from notice.export import BatchFormatError, CardRecord, Envelope, envelope_lines, read_batch, write_batch


def test_application_ids_are_23_digits_with_a_check_digit_and_never_repeat():
    ids = {new_application_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(application_id_valid(i) for i in ids)
    one = next(iter(ids))
    assert not application_id_valid(one[:-1] + str((int(one[-1]) + 1) % 10))
    assert qr_payload(one) == "MYNA-APPLY:1:" + one


def test_each_digit_of_an_application_id_is_uniform():
    # 440,000 digits: a draw keeping the bytes 250-255 (0-5 at 26/256, 6-9 at 25/256) scores ~160 here. The bound
    # is chi-square's 0.99999 quantile for 9 degrees of freedom: a fair draw fails once in 100,000 runs.
    n = 20_000
    digits = "".join(random_digits(22) for _ in range(n))
    assert len(digits) == 22 * n and digits.isascii() and digits.isdigit()
    expected = len(digits) / 10
    chi2 = sum((digits.count(d) - expected) ** 2 / expected for d in "0123456789")
    assert chi2 < 39.34, chi2


def test_a_short_read_of_kept_bytes_draws_again(monkeypatch):
    reads = iter([bytes([255] * 30), bytes([0, 251, 9] + [7] * 27)])
    monkeypatch.setattr("notice.codes.os.urandom", lambda n: next(reads))
    assert random_digits(22) == "09" + "7" * 20


@pytest.mark.parametrize(("body", "digit"), [("7992739871", "3"), ("4992739871", "6"), ("0", "0"), ("1", "8")])
def test_the_check_digit_is_luhn_s(body, digit):
    assert luhn_digit(body) == digit


def test_an_application_id_in_full_width_digits_is_not_valid():
    one = new_application_id()
    assert not application_id_valid(one.translate(str.maketrans("0123456789", "０１２３４５６７８９")))


def test_the_number_is_shown_in_groups_of_four():
    assert grouped_number("123456789018") == "1234 5678 9018"


def envelope(address: str = "東京都千代田区1-1") -> Envelope:
    return Envelope("m1", "131016", "initial", "address", "1000001", address, "試験 様", b"",
                    [CardRecord(new_application_id(), "notice_card", "123456789018", "試験|太郎", address,
                                "1980-04-01", 1)])


def test_a_batch_file_round_trips_with_escaped_separators(tmp_path):
    r = write_batch(tmp_path, "b1", dt.datetime(2015, 10, 5, tzinfo=dt.UTC), [envelope("丸の内|2\n号")],
                    with_pdfs=False)
    records = read_batch(r.path)
    assert r.records == 2 == len(records)
    assert records[0][8] == "丸の内|2\n号" and records[1][7] == "試験|太郎"
    assert r.path.stat().st_mode & 0o077 == 0  # personal data: owner only


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda b: b.replace("試験 様".encode(), "偽物 様".encode()), "checksum"),
    (lambda b: b.rsplit(b"TRL", 1)[0], "trailer"),
])
def test_a_tampered_or_truncated_batch_file_is_rejected(tmp_path, tamper, message):
    r = write_batch(tmp_path, "b2", dt.datetime(2015, 10, 5, tzinfo=dt.UTC), [envelope()], with_pdfs=False)
    r.path.write_bytes(tamper(r.path.read_bytes()))
    with pytest.raises(BatchFormatError, match=message):
        read_batch(r.path)


def test_separators_and_line_breaks_inside_a_value_are_escaped_exactly_as_mnb1_says():
    """`\\|`, `\\\\`, `\\n`; a carriage return is dropped; one record stays one line."""
    (env, crd) = envelope_lines(envelope("a|b\\c\nd\re\\"))
    assert env.split("|", 8)[8] == "a\\|b\\\\c\\nde\\\\|試験 様||1"
    assert "\n" not in env and "\n" not in crd and "\r" not in env


# Any text a value may hold (the edge refuses control characters, the file must not care), `\r` aside.
values = st.text(st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=200, deadline=None)
@given(address=values, name=values)
def test_any_value_round_trips_through_the_batch_file(tmp_path_factory, address, name):
    e = Envelope("m1", "131016", "initial", "address", "100-0001", address, name, b"",
                 [CardRecord("", "notice_card", "123456789018", name, address, "1980-04-01", 2)])
    r = write_batch(tmp_path_factory.mktemp("b"), "b3", dt.datetime(2015, 10, 5, tzinfo=dt.UTC), [e],
                    with_pdfs=False)
    env, crd = read_batch(r.path)
    assert (env[8], env[9], crd[7], crd[8], crd[10]) == (address, name, name, address, "女")
    assert r.path.read_bytes().count(b"\n") == 4  # HDR, ENV, CRD, TRL: one line each


_FIELD = st.text(alphabet=st.sampled_from(list("a1 東京|\\\n\r\t\x00\u2028\"'")), max_size=6)


@settings(max_examples=400, deadline=None)
@given(records=st.lists(st.lists(_FIELD, min_size=2, max_size=5).map(tuple), min_size=1, max_size=6))
def test_the_plain_join_is_taken_only_when_it_is_what_the_csv_module_writes(records):
    """The writer's fast path (no value holds `|`, `\\`, a line break or a carriage return) gives the module's
    bytes, and every other chunk goes through the module."""
    from notice.export import _csv_text, _text

    assert _text(records) == _csv_text(records)
