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


class SecretFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        masked = message
        for pattern in _SECRET_PATTERNS:
            masked = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "****", masked)
        if masked != message:
            record.msg, record.args = masked, ()
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
