"""One redaction for everything the tap and the OAuth helper print: log lines and tracebacks.

Secrets (access token, app secret, auth codes) are registered as soon as they are known. From
then on every log record created in the process is redacted when it is made, whichever logger,
handler or formatter (console or structured JSON) ends up printing it: its message, and its
traceback when that carries a secret (a chained ``requests`` exception names the request URL,
and ``/oauth2/advertiser/get/`` sends the app secret in its query string).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Real tokens and app secrets are 40 hex characters; masking very short values would garble
# ordinary words in every log line.
MIN_SECRET_LENGTH = 6

_secrets: tuple[str, ...] = ()  # longest first, so an encoded form is masked whole
_lock = threading.Lock()
_installed = False


def register_secrets(*values: str | None) -> None:
    """Mask these values (and their URL-encoded forms) from now on."""
    forms = {
        form
        for value in values
        if value and len(value) >= MIN_SECRET_LENGTH
        for form in (value, quote(value, safe=""), quote_plus(value))
    }
    if not forms:
        return
    global _secrets
    with _lock:
        _secrets = tuple(sorted(forms.union(_secrets), key=len, reverse=True))
        _install_record_factory()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def redacted_traceback(error: BaseException) -> str:
    """The full traceback of ``error`` (with its causes), secrets masked."""
    return redact("".join(traceback.format_exception(error)))


def _install_record_factory() -> None:
    """Wrap the log record factory once, so that every record is redacted when created."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # A record whose arguments do not fit its format is logging's to report, not ours.
        with contextlib.suppress(Exception):
            _redact_record(record)
        return record

    logging.setLogRecordFactory(redacting_factory)
    _installed = True


def _redact_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    message = record.getMessage()
    redacted = redact(message)
    if record.exc_info and record.exc_info[1] is not None:
        shown = "".join(traceback.format_exception(*record.exc_info))
        if redact(shown) != shown:
            # Formatters print exc_info their own way (the structured one as JSON), so a
            # traceback holding a secret travels redacted inside the message instead.
            redacted = f"{redacted}\n{redact(shown).rstrip()}"
            record.exc_info = None
            record.exc_text = None
    if redacted != message:
        record.msg, record.args = redacted, ()
