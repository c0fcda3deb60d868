"""JSON logs carrying trace ids, behind a filter that redacts personal data.

特定個人情報 (the 12-digit number and the 4 basic facts) must never reach a log line. Services are written not
to log them at all; this filter is the safety net: any run of 10 or more digits (a 個人番号, a 住民票コード, a
法人番号, a 申請書ID) is masked, and values under attribute names that are known to carry personal data are
dropped, whatever the call site passed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace

from mynumber_runtime.faults import database_error, summary

_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9][0-9 \-]{8,}[0-9](?![0-9])")
REDACTED = "[REDACTED]"
PII_KEYS = frozenset(
    {
        "number", "individual_number", "my_number", "resident_code", "name", "address", "birth_date",
        "date_of_birth", "sex", "gender", "residence", "kyosho", "pin", "password",
    }
)
_STD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(text: str) -> str:
    """Mask every run of 10+ digits (spaces or hyphens between them allowed, as in `1234 5678 9012`)."""

    def _mask(m: re.Match[str]) -> str:
        return REDACTED if sum(ch.isdigit() for ch in m.group(0)) >= 10 else m.group(0)

    return _DIGIT_RUN.sub(_mask, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        for key in list(vars(record)):
            if key in _STD_ATTRS:
                continue
            if key.lower() in PII_KEYS:
                setattr(record, key, REDACTED)
            else:
                value = getattr(record, key)
                if isinstance(value, str):
                    setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks may quote values; keep the type and a redacted message only.
            # A database error quotes the caller's values (DETAIL, parameters): its types only (faults.py).
            exc = record.exc_info[1]
            record.exc_text = (summary(exc) if database_error(exc) is not None
                               else f"{type(exc).__name__}: {redact(str(exc))}")
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = f"{ctx.trace_id:032x}"
            entry["span_id"] = f"{ctx.span_id:016x}"
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, *, level: str = "INFO", file: Path | None = None) -> None:
    """Send JSON lines to stderr (and a file if given), through the redaction filter."""
    import time

    logging.Formatter.converter = time.gmtime
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        h.addFilter(RedactingFilter())
        h.setFormatter(JsonFormatter(service))
        root.addHandler(h)
    root.setLevel(level)
    # Library chatter at INFO (SQL echo, NATS reconnect details) is not for operators.
    for noisy in ("sqlalchemy.engine", "nats", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
