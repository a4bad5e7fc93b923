"""Log files: the application log and the access log, both in logDir.

Files are opened with WatchedFileHandler so that logrotate can move them.
A filter masks anything shaped like a secret (signature, secret key, private
key) as a second line of defence: the code does not log secrets itself.
"""

import logging
import logging.handlers
import os
import re

APP_LOG = "cloudbridge.log"
ACCESS_LOG = "access.log"
FORMAT = "%(asctime)s %(levelname)-5s [%(name)s] (%(threadName)s) %(message)s"

_SECRET_PATTERNS = [
    re.compile(r"(?i)((?:signature|secretkey|secret_key|secret|x-amz-signature)[\"']?\s*[=:]\s*[\"']?)"
               r"[^&\s\"',]+"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
]
_DEFAULT_FORMATTER = logging.Formatter()


def mask_secrets(text):
    """Return text with every secret-shaped part replaced by ****."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "****", text)
    return text


class SecretFilter(logging.Filter):
    """Mask secrets in a record's message, exception traceback and stack text.

    The traceback is formatted here with logging's default formatting and
    stored masked in record.exc_text, which formatters then print instead
    of formatting record.exc_info again.
    """

    def filter(self, record):
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _DEFAULT_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def setup_logging(log_dir, level=logging.INFO, console=False):
    """Send the application log and the access log to files in log_dir."""
    os.makedirs(log_dir, exist_ok=True)
    secret_filter = SecretFilter()
    formatter = logging.Formatter(FORMAT)

    app_handler = logging.handlers.WatchedFileHandler(os.path.join(log_dir, APP_LOG))
    app_handler.setFormatter(formatter)
    app_handler.addFilter(secret_filter)
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(app_handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        stream.addFilter(secret_filter)
        root.addHandler(stream)

    access_handler = logging.handlers.WatchedFileHandler(os.path.join(log_dir, ACCESS_LOG))
    access_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(message)s"))
    access_handler.addFilter(secret_filter)
    access = logging.getLogger("cloudbridge.access")
    access.addHandler(access_handler)
    access.propagate = False
    return app_handler, access_handler
