import io
import json
import logging

from mynumber_runtime.logs import JsonFormatter, RedactingFilter, redact


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_numbers_in_any_spelling_are_masked():
    assert redact("number 123456789018 assigned") == "number [REDACTED] assigned"
    assert redact("card shows 1234 5678 9018") == "card shows [REDACTED]"
    assert redact("code 12345678903, 申請書ID 12345678901234567890123") == "code [REDACTED], 申請書ID [REDACTED]"
    assert redact("port 50051, 131016, 2015-10-05") == "port 50051, 131016, 2015-10-05"


def test_personal_fields_and_arguments_never_reach_the_line():
    logger, stream = capture()
    logger.info("assigned %s to %s", "123456789018", "12345678903",
                extra={"birth_date": "1980-12-31", "address": "東京都千代田区", "count": 3})
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "assigned [REDACTED] to [REDACTED]"
    assert entry["birth_date"] == entry["address"] == "[REDACTED]"
    assert entry["count"] == 3


def test_exception_texts_are_redacted_too():
    logger, stream = capture()
    try:
        raise ValueError("bad number 123456789018")
    except ValueError:
        logger.exception("failed")
    entry = json.loads(stream.getvalue())
    assert "123456789018" not in stream.getvalue()
    assert entry["error"] == "ValueError: bad number [REDACTED]"
