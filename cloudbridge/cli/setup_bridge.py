"""`cloud-setup-bridge`: set the management server and service offerings interactively.

It prompts for the CloudStack management server host and API port and for
the service offering id of each EC2 instance type, showing the current
value in brackets (Enter keeps it).  Only those keys change in
ec2-service.properties: every other line, comment and blank line stays
where it was.  The file is replaced atomically (a temporary file renamed
over it) with its mode and owner kept.
"""

import argparse
import ipaddress
import os
import re
import sys
import tempfile

from cloudbridge.config import (
    CONF_DIR_ENV, DEFAULT_CONF_DIR, INSTANCE_TYPES, PROPERTIES_FILE, SERVICE_ID_SUFFIX,
    ConfigError, read_properties, resolve_conf_dir,
)

WELCOME = "Welcome to the CloudBridge setup."
SAVED = "Values saved. Restart the cloud-bridge service for the changes to become active."
NOT_FOUND = "Error: Settings file not found."
NO_PERMISSION = "Error: Insufficient permissions. Run as super-user."

# The store keeps offering ids in VARCHAR(255) columns.
MAX_OFFERING_ID_LENGTH = 255
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_OFFERING_ID = re.compile(r"^[A-Za-z0-9-]+$")


class SetupError(Exception):
    """A failure that ends the setup, with the lines to print on stderr."""


def check_host(value):
    """Return None if value is a host name or IPv4 address, else the reason it is not."""
    if not value:
        return "A management server host is required."
    if any(c.isspace() for c in value) or "/" in value:
        return ("%r is not a host name or IP address: it must not contain spaces "
                "or slashes." % value)
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None:
        if address.version == 6:
            # The CloudStack URL is built as http://<host>:<port>/... without brackets.
            return ("IPv6 addresses are not supported here; enter a host name that "
                    "resolves to %s." % value)
        return None
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return ("%r is not a valid host name: use letters, digits, hyphens and dots."
                % value)
    return None


def check_port(value):
    """Return None if value is a TCP port number (1-65535), else the reason it is not."""
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        return "%r is not a port number: enter a number from 1 to 65535." % value
    return None


def check_offering_id(value):
    """Return None if value is empty or a CloudStack id, else the reason it is not."""
    if not value:
        return None
    if len(value) > MAX_OFFERING_ID_LENGTH or not _OFFERING_ID.match(value):
        return ("%r is not a CloudStack service offering id: use letters, digits and "
                "hyphens only (at most %d characters), e.g. a UUID."
                % (value, MAX_OFFERING_ID_LENGTH))
    return None


def questions():
    """Return (key, label, check, default) for every prompted value, in order."""
    asked = [("managementServer", "Management server hostname or IP", check_host, ""),
             ("cloudAPIPort", "Management server port", check_port, "8080")]
    for instance_type in INSTANCE_TYPES:
        asked.append((instance_type + SERVICE_ID_SUFFIX,
                      "Service offering ID for %s" % instance_type, check_offering_id, ""))
    return asked


def ask(label, current, check, read=input, write=print):
    """Prompt until the reply (or, for Enter, the current value) passes check."""
    while True:
        answer = read("%s [%s]: " % (label, current)).strip()
        value = answer or current
        reason = check(value)
        if reason is None:
            return value
        write(reason)


def _key_pattern(key):
    # A settings line as the server's configobj reader parses it:
    # key, "=", the value, then an optional inline comment.
    return re.compile(r"^(\s*%s\s*=[ \t]*)([^#\r\n]*?)([ \t]*(?:#[^\r\n]*)?)(\r?\n?)$"
                      % re.escape(key))


def update_lines(lines, values):
    """Return lines with the value of each key in values replaced.

    Keys that are not in the file yet are appended, unless their value is
    empty.  Every other line is kept as it was.
    """
    result = list(lines)
    for key, value in values.items():
        pattern = _key_pattern(key)
        found = False
        for index, line in enumerate(result):
            match = pattern.match(line)
            if match:
                prefix, _old, comment, ending = match.groups()
                result[index] = prefix + value + comment + ending
                found = True
        if not found and value:
            if result and not result[-1].endswith("\n"):
                result[-1] += "\n"
            result.append("%s=%s\n" % (key, value))
    return result


def write_atomically(path, text):
    """Replace the file at path with text, keeping its mode and owner.

    Raises PermissionError if the owner cannot be kept.
    """
    status = os.stat(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as temp_file:
            temp_file.write(text)
            temp_file.flush()
            os.fchmod(temp_file.fileno(), status.st_mode & 0o7777)
            if (status.st_uid, status.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(temp_file.fileno(), status.st_uid, status.st_gid)
            os.fsync(temp_file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def settings_path(conf_dir):
    """Return the path of ec2-service.properties, or raise SetupError if it is unusable."""
    path = os.path.join(resolve_conf_dir(conf_dir), PROPERTIES_FILE)
    if not os.path.isfile(path):
        raise SetupError(NOT_FOUND, "Expected %s; use --conf DIR to name another "
                                    "directory." % path)
    directory = os.path.dirname(os.path.abspath(path))
    if not (os.access(path, os.R_OK | os.W_OK) and os.access(directory, os.W_OK | os.X_OK)):
        raise SetupError(NO_PERMISSION, "Cannot write %s or create a file in %s."
                         % (path, directory))
    return path


def current_values(path):
    """Return the current value of every asked key (its default when missing or empty)."""
    try:
        properties = read_properties(path)
    except ConfigError as exc:
        raise SetupError("Error: %s." % exc, "Fix the file by hand, then run "
                                             "cloud-setup-bridge again.")
    return {key: (properties.get(key) or "").strip() or default
            for key, _label, _check, default in questions()}


def run(conf_dir, read=input, write=print):
    """Run the dialogue on the settings file in conf_dir; return the values saved."""
    path = settings_path(conf_dir)
    current = current_values(path)
    write(WELCOME)
    values = {}
    for key, label, check, _default in questions():
        values[key] = ask(label, current[key], check, read=read, write=write)

    with open(path, encoding="utf-8", newline="") as settings_file:
        lines = settings_file.readlines()
    try:
        write_atomically(path, "".join(update_lines(lines, values)))
    except PermissionError as exc:
        raise SetupError(NO_PERMISSION, "Cannot replace %s: %s" % (path, exc))
    write(SAVED)
    return values


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="cloud-setup-bridge",
        description="Set the CloudStack management server and the service offering of "
                    "each EC2 instance type in %s." % PROPERTIES_FILE)
    parser.add_argument("--conf", metavar="DIR",
                        help="directory of %s (default: $%s, then %s)"
                             % (PROPERTIES_FILE, CONF_DIR_ENV, DEFAULT_CONF_DIR))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args.conf)
    except SetupError as exc:
        for line in exc.args:
            print(line, file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\nSetup cancelled; the settings file was not changed.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
