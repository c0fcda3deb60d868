import datetime as dt

import pytest
from mynumber_codes import validate_date
from mynumber_runtime.errors import InvalidArgument


def test_a_strict_iso_date_gives_the_date():
    assert validate_date("1980-12-31", "birth_date") == dt.date(1980, 12, 31)


def test_the_first_day_of_meiji_and_the_last_day_of_2200_are_accepted():
    assert validate_date("1868-01-01", "birth_date") == dt.date(1868, 1, 1)
    assert validate_date("2200-12-31", "birth_date") == dt.date(2200, 12, 31)


@pytest.mark.parametrize("value", ["1867-12-31", "2201-01-01", "0001-01-01", "9999-12-31"])
def test_dates_before_meiji_or_after_2200_are_refused(value):
    with pytest.raises(InvalidArgument, match="must be between 1868-01-01 and 2200-12-31"):
        validate_date(value, "birth_date")


@pytest.mark.parametrize("value", ["2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-01-00"])
def test_dates_not_on_the_calendar_are_refused(value):
    with pytest.raises(InvalidArgument, match="must be a real calendar date"):
        validate_date(value, "birth_date")


def test_a_leap_day_is_a_date():
    assert validate_date("2024-02-29", "birth_date") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "value",
    ["19801231", "1980-1-31", "1980/12/31", "1980-12-31T00:00", "２０２４-０１-０１", "1980-W01-1", "+980-12-31",
     "1980-12- 1", " 980-12-31", "1980-12-3١", ""],
)
def test_anything_but_yyyy_mm_dd_in_ascii_digits_is_refused(value):
    with pytest.raises(InvalidArgument) as refused:
        validate_date(value, "birth_date")
    assert refused.value.rule == "must be a date written YYYY-MM-DD (ASCII digits)"
    assert refused.value.field == "birth_date"
