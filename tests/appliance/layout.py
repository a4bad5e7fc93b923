"""The installed CloudBridge layout inside a scratch root, and how to run it.

`Appliance` maps each path the RPM installs into the scratch root and builds
the environment that points the init script and the commands at the scratch root instead of
the real paths: CLOUD_BRIDGE_HOME, CLOUD_BRIDGE_BIN, CLOUD_BRIDGE_PIDFILE and
the others that the init script documents.
"""

import grp
import os
import pwd
import re
import subprocess
import sys
from pathlib import Path

HOME = "/usr/share/cloud/bridge"
COMMANDS = ("cloud-bridge", "cloud-setup-bridge", "cloud-setup-bridge-db",
            "cloud-bridge-register", "cloudstack-simulator")


class Appliance:
    def __init__(self, root):
        self.root = Path(root)
        self.python = sys.executable
        self.user = None  # None: the user running the tests
        self.runas = None  # None: the init script picks setpriv, runuser or su

    def path(self, installed_path):
        """Return the scratch-root path of an installed absolute path."""
        return self.root / installed_path.lstrip("/")

    @property
    def home(self):
        return self.path(HOME)

    @property
    def conf_dir(self):
        return self.home / "conf"

    @property
    def properties(self):
        return self.conf_dir / "ec2-service.properties"

    @property
    def logs_dir(self):
        return self.home / "logs"

    @property
    def db_dir(self):
        return self.home / "db"

    @property
    def init_script(self):
        # rpm --eval %{_initddir} is /etc/init.d with Debian's rpm.
        return self.path("/etc/init.d/cloud-bridge")

    @property
    def pidfile(self):
        return self.path("/var/run/cloud-bridge.pid")

    @property
    def lockfile(self):
        return self.path("/var/lock/subsys/cloud-bridge")

    def command(self, name):
        return self.path("/usr/bin/" + name)

    def environment(self, **extra):
        """Return the environment that points the init script and commands at this root."""
        user = self.user or _current_user()
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "LANG": "C.UTF-8",
            "CLOUD_BRIDGE_SYSCONFIG": str(self.path("/etc/sysconfig/cloud-bridge")),
            "CLOUD_BRIDGE_HOME": str(self.home),
            "CLOUD_BRIDGE_BIN": str(self.command("cloud-bridge")),
            "CLOUD_BRIDGE_LIB": str(self.home / "lib"),
            "CLOUD_BRIDGE_PYTHON": str(self.python),
            "CLOUD_BRIDGE_USER": user,
            "CLOUD_BRIDGE_PIDFILE": str(self.pidfile),
            "CLOUD_BRIDGE_LOCKFILE": str(self.lockfile),
            "CLOUD_BRIDGE_START_TIMEOUT": "30",
            "CLOUD_BRIDGE_STOP_TIMEOUT": "15",
            # Without Red Hat's functions the script prints plain messages.
            "CLOUD_BRIDGE_INIT_FUNCTIONS": str(self.path("/etc/init.d/functions")),
        }
        if self.runas:
            env["CLOUD_BRIDGE_RUNAS"] = self.runas
        env.update(extra)
        return env

    def service(self, action, **extra):
        """Run the installed init script with an action; return the CompletedProcess."""
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        self.lockfile.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.run([str(self.init_script), action], env=self.environment(**extra),
                              capture_output=True, text=True, timeout=90)

    def run_command(self, name, *args, **extra):
        """Run an installed command (through its /usr/bin link) and return the CompletedProcess."""
        return subprocess.run([str(self.command(name)), *args], env=self.environment(**extra),
                              capture_output=True, text=True, timeout=90)

    def set_properties(self, **values):
        """Set keys in the installed ec2-service.properties (appending missing ones)."""
        text = self.properties.read_text()
        for key, value in values.items():
            pattern = re.compile(r"^%s=.*$" % re.escape(key), re.M)
            if pattern.search(text):
                text = pattern.sub(lambda _match: "%s=%s" % (key, value), text)
            else:
                text += "%s=%s\n" % (key, value)
        self.properties.write_text(text)

    def configure(self, simulator, port):
        """Point the installed configuration at the simulator, SQLite and 127.0.0.1:port."""
        self.set_properties(
            managementServer="127.0.0.1", cloudAPIPort=str(simulator.port),
            cloudAPITimeout="10", asyncPollInterval="0.05",
            listenAddress="127.0.0.1", listenPort=str(port),
            dbType="sqlite", dbFile=str(self.db_dir / "cloudbridge.db"),
            logDir=str(self.logs_dir))

    def chown_writable_dirs(self, uid, gid):
        """Give the service user its directories, as %pre and the RPM's %attr do."""
        for directory in (self.logs_dir, self.db_dir):
            os.chown(directory, uid, gid)
        os.chown(self.properties, 0, gid)

    def logrotate_rule(self):
        """Return the installed logrotate rule for this root and the service user.

        The paths point into the scratch root and the user and group are the
        service's.  A non-root logrotate cannot switch users, so the su lines
        are dropped then.
        """
        user = self.user or _current_user()
        group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
        lines = []
        for line in self.path("/etc/logrotate.d/cloud-bridge").read_text().splitlines():
            if line.strip().startswith("su ") and os.geteuid() != 0:
                continue
            line = line.replace(HOME + "/", str(self.home) + "/")
            line = line.replace("cloud cloud", "%s %s" % (user, group))
            lines.append(line)
        return "\n".join(lines) + "\n"

    def pid(self):
        return int(self.pidfile.read_text().strip())


def _current_user():
    return pwd.getpwuid(os.geteuid()).pw_name
