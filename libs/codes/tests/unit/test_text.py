import pytest
from mynumber_codes import ADDRESS_MAX_CHARS, NAME_MAX_CHARS, validate_address, validate_name, validate_text
from mynumber_runtime.errors import InvalidArgument


def test_a_japanese_name_with_the_ideographic_space_is_accepted_unchanged():
    assert validate_name("山田\u3000太郎") == "山田\u3000太郎"


def test_an_address_with_full_width_digits_and_hyphens_is_accepted():
    address = "東京都千代田区外神田１丁目２番３号－４"
    assert validate_address(address) == address


def test_private_use_gaiji_are_accepted():
    assert validate_name("\ue000田\u3000花子") == "\ue000田\u3000花子"


def test_the_limits_are_100_for_a_name_and_200_for_an_address():
    assert (NAME_MAX_CHARS, ADDRESS_MAX_CHARS) == (100, 200)
    assert validate_name("あ" * NAME_MAX_CHARS)
    assert validate_address("あ" * ADDRESS_MAX_CHARS)
    with pytest.raises(InvalidArgument) as refused:
        validate_name("あ" * (NAME_MAX_CHARS + 1))
    assert (refused.value.field, refused.value.rule) == ("name", "must be at most 100 characters")
    with pytest.raises(InvalidArgument, match="address: must be at most 200 characters"):
        validate_address("あ" * (ADDRESS_MAX_CHARS + 1))


def test_the_limit_counts_code_points_not_bytes():
    assert validate_text("𠮷" * 10, "name", max_chars=10) == "𠮷" * 10  # 4 UTF-8 bytes each


def test_a_megabyte_string_is_refused_as_too_long():
    with pytest.raises(InvalidArgument, match="must be at most 100 characters"):
        validate_name("a" * 1_000_000)


@pytest.mark.parametrize(
    ("char", "rule"),
    [
        ("\x00", "must not contain NUL characters"),
        ("\x07", "must not contain control characters"),
        ("\t", "must not contain control characters"),
        ("\r", "must not contain control characters"),
        ("\x1b", "must not contain control characters"),
        ("\x7f", "must not contain control characters"),
        ("\x85", "must not contain control characters"),
        ("\x9f", "must not contain control characters"),
        ("\n", "must be a single line (no line breaks)"),
        ("\u2028", "must not contain Unicode line or paragraph separators (U+2028, U+2029)"),
        ("\u202e", "must not contain bidirectional control characters"),
        ("\u2067", "must not contain bidirectional control characters"),
        ("\ud800", "must not contain unpaired surrogates (not valid Unicode text)"),
        ("\udfff", "must not contain unpaired surrogates (not valid Unicode text)"),
        ("\ufffe", "must not contain Unicode noncharacters"),
        ("\uffff", "must not contain Unicode noncharacters"),
        ("\ufdd0", "must not contain Unicode noncharacters"),
        ("\U0010ffff", "must not contain Unicode noncharacters"),
        ("\U0001fffe", "must not contain Unicode noncharacters"),
    ],
)
def test_each_forbidden_character_is_refused_naming_its_rule(char, rule):
    with pytest.raises(InvalidArgument) as refused:
        validate_text(f"山田{char}太郎", "resident.name", max_chars=100)
    assert (refused.value.field, refused.value.rule) == ("resident.name", rule)


def test_a_multiline_field_takes_line_feeds_but_no_other_control():
    assert validate_text("1行目\n2行目", "note", max_chars=50, multiline=True) == "1行目\n2行目"
    with pytest.raises(InvalidArgument, match="must not contain control characters"):
        validate_text("1行目\r\n2行目", "note", max_chars=50, multiline=True)
    with pytest.raises(InvalidArgument, match="must not contain NUL"):
        validate_text("1行目\n\x00", "note", max_chars=50, multiline=True)


@pytest.mark.parametrize("value", ["", " ", "\u3000\u3000", "  \u3000 "])
def test_a_required_field_that_is_blank_is_refused(value):
    with pytest.raises(InvalidArgument, match="name: is required"):
        validate_name(value)


def test_an_optional_field_may_be_empty():
    assert validate_text("", "building", max_chars=100, required=False) == ""


def test_a_non_string_is_refused_not_a_type_error():
    with pytest.raises(InvalidArgument, match="name: must be a string"):
        validate_name(b"\xe5\xb1\xb1")  # type: ignore[arg-type]
