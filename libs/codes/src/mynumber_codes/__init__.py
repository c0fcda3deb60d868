"""The code formats and text rules every service checks at its edge, so that each refuses what another refuses.

Pure: no I/O beyond reading the package's own data (the JIS X 0402 list). Every refusal is
`mynumber_runtime.errors.InvalidArgument(field, rule)`: it names the field and the rule, never the value.
"""

from mynumber_codes.bulk import split_valid
from mynumber_codes.dates import EARLIEST_DATE, LATEST_DATE, validate_date
from mynumber_codes.eras import ERAS, Era, era_of
from mynumber_codes.individual_number import (
    individual_number_check_digit,
    individual_numbers,
    validate_individual_number,
)
from mynumber_codes.jisx0402 import (
    KINDS,
    MUNICIPAL_KINDS,
    Municipality,
    municipalities,
    municipality,
    municipality_check_digit,
    validate_municipality_code,
)
from mynumber_codes.postal_code import validate_postal_code
from mynumber_codes.resident_code import DEFAULT_RESIDENT_CODE_RULE, ResidentCodeRule, validate_resident_code
from mynumber_codes.text import ADDRESS_MAX_CHARS, NAME_MAX_CHARS, validate_address, validate_name, validate_text

__all__ = [
    "ADDRESS_MAX_CHARS",
    "DEFAULT_RESIDENT_CODE_RULE",
    "EARLIEST_DATE",
    "ERAS",
    "KINDS",
    "LATEST_DATE",
    "MUNICIPAL_KINDS",
    "NAME_MAX_CHARS",
    "Era",
    "Municipality",
    "ResidentCodeRule",
    "era_of",
    "individual_number_check_digit",
    "individual_numbers",
    "municipalities",
    "municipality",
    "municipality_check_digit",
    "split_valid",
    "validate_address",
    "validate_date",
    "validate_individual_number",
    "validate_municipality_code",
    "validate_name",
    "validate_postal_code",
    "validate_resident_code",
    "validate_text",
]
