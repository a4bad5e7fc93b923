"""Configuration: `ec2-service.properties` in the conf directory.

The file keeps the original CloudBridge's keys (managementServer,
cloudAPIPort, WSDLVersion, dbHost, dbName, dbUser, dbPassword,
cloudbridgeVersion and the `<instance type>.serviceId` seeds) and adds the
keys this server needs (dbType, dbFile, listenAddress, listenPort, logDir and
the CloudStack timing keys).  A missing or malformed value raises
`ConfigError`, whose message names the key and the file.
"""

import ipaddress
import os
from dataclasses import dataclass, field

from configobj import ConfigObj, ConfigObjError

DEFAULT_CONF_DIR = "/usr/share/cloud/bridge/conf"
CONF_DIR_ENV = "CLOUD_BRIDGE_CONF"
PROPERTIES_FILE = "ec2-service.properties"

# The instance types the original shipped prompts for, in its order.
INSTANCE_TYPES = (
    "m1.small", "m1.large", "m1.xlarge", "c1.medium", "c1.xlarge",
    "m2.xlarge", "m2.2xlarge", "m2.4xlarge", "cc1.4xlarge",
)
SERVICE_ID_SUFFIX = ".serviceId"


class ConfigError(Exception):
    """A configuration file that is missing, unreadable or invalid."""


@dataclass
class Config:
    path: str
    management_server: str = "127.0.0.1"
    cloud_api_scheme: str = "http"
    cloud_api_port: int = 8080
    cloud_api_path: str = "/client/api"
    cloud_api_timeout: float = 30.0
    # Below the 60 s read timeout of boto3 and awscli, so that a slow job
    # answers "pending" rather than a client time-out.
    async_job_timeout: float = 45.0
    async_poll_interval: float = 1.0
    wsdl_version: str = "2010-11-15"
    cloudbridge_version: str = "UNKNOWN VERSION"
    # EC2 region name under which the CloudStack zones are listed.
    region_name: str = "cloudstack"
    # Host[:port] that DescribeRegions gives clients; empty means the
    # listen address and port (behind a load balancer, set it to the balancer's).
    region_endpoint: str = ""
    db_type: str = "sqlite"
    db_file: str = "/usr/share/cloud/bridge/db/cloudbridge.db"
    db_host: str = "localhost"
    db_port: int = 3306
    db_name: str = "cloudbridge"
    db_user: str = "cloud"
    db_password: str = ""
    listen_address: str = "0.0.0.0"
    listen_port: int = 8090
    log_dir: str = "/usr/share/cloud/bridge/logs"
    # Instance type -> CloudStack service offering id, used to seed an empty
    # offering map; only non-empty values are kept.
    offering_seeds: dict = field(default_factory=dict)

    @property
    def cloudstack_url(self):
        host = self.management_server
        if ":" in host:
            host = "[%s]" % host  # an IPv6 address
        return "%s://%s:%d%s" % (self.cloud_api_scheme, host, self.cloud_api_port,
                                 self.cloud_api_path)

    @property
    def conf_dir(self):
        return os.path.dirname(self.path)

    def describe_database(self):
        """Return where the store lives, for logs: never the password."""
        if self.db_type == "sqlite":
            return "sqlite:%s" % self.db_file
        return "mysql://%s@%s:%d/%s" % (self.db_user, self.db_host,
                                         self.db_port, self.db_name)


def resolve_conf_dir(conf_dir=None):
    """Return the conf directory: the argument, then $CLOUD_BRIDGE_CONF, then the default."""
    return conf_dir or os.environ.get(CONF_DIR_ENV) or DEFAULT_CONF_DIR


def read_properties(path):
    """Read a Java-style properties file into a ConfigObj (comments kept)."""
    if not os.path.isfile(path):
        raise ConfigError("configuration file %s not found" % path)
    try:
        return ConfigObj(path, list_values=False, interpolation=False,
                         encoding="utf-8", raise_errors=True)
    except (ConfigObjError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError("cannot read configuration file %s: %s" % (path, exc))


def _text(props, path, key, default, required=False):
    value = props.get(key)
    if value is None or value.strip() == "":
        if required:
            raise ConfigError("%s: missing value for key %s" % (path, key))
        return default
    return value.strip()


def _integer(props, path, key, default, low, high):
    raw = _text(props, path, key, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError("%s: key %s must be an integer, not %r" % (path, key, raw))
    if not low <= value <= high:
        raise ConfigError("%s: key %s must be between %d and %d, not %d"
                          % (path, key, low, high, value))
    return value


def _seconds(props, path, key, default):
    raw = _text(props, path, key, None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError("%s: key %s must be a number of seconds, not %r" % (path, key, raw))
    if value <= 0:
        raise ConfigError("%s: key %s must be positive, not %r" % (path, key, raw))
    return value


def _host(props, path, key, default, required=False):
    value = _text(props, path, key, default, required)
    if any(c.isspace() for c in value) or "/" in value or not value:
        raise ConfigError("%s: key %s is not a host name or IP address: %r"
                          % (path, key, value))
    return value


def load_config(conf_dir=None):
    """Load and validate `ec2-service.properties` from the conf directory."""
    path = os.path.join(resolve_conf_dir(conf_dir), PROPERTIES_FILE)
    props = read_properties(path)
    return config_from_properties(props, path)


def config_from_properties(props, path):
    config = Config(path=path)
    config.management_server = _host(props, path, "managementServer", None, required=True)
    config.cloud_api_scheme = _text(props, path, "cloudAPIScheme", config.cloud_api_scheme).lower()
    if config.cloud_api_scheme not in ("http", "https"):
        raise ConfigError("%s: key cloudAPIScheme must be http or https, not %r"
                          % (path, config.cloud_api_scheme))
    config.cloud_api_port = _integer(props, path, "cloudAPIPort", 8080, 1, 65535)
    config.cloud_api_path = _text(props, path, "cloudAPIPath", config.cloud_api_path)
    if not config.cloud_api_path.startswith("/"):
        raise ConfigError("%s: key cloudAPIPath must start with /, not %r"
                          % (path, config.cloud_api_path))
    config.cloud_api_timeout = _seconds(props, path, "cloudAPITimeout", config.cloud_api_timeout)
    config.async_job_timeout = _seconds(props, path, "asyncJobTimeout", config.async_job_timeout)
    config.async_poll_interval = _seconds(props, path, "asyncPollInterval",
                                          config.async_poll_interval)

    config.wsdl_version = _text(props, path, "WSDLVersion", config.wsdl_version)
    if config.wsdl_version != "2010-11-15":
        raise ConfigError("%s: key WSDLVersion must be 2010-11-15, not %r"
                          % (path, config.wsdl_version))
    config.cloudbridge_version = _text(props, path, "cloudbridgeVersion",
                                       config.cloudbridge_version)

    config.region_name = _text(props, path, "regionName", config.region_name)
    config.region_endpoint = _text(props, path, "regionEndpoint", config.region_endpoint)

    config.db_type = _text(props, path, "dbType", config.db_type).lower()
    if config.db_type not in ("sqlite", "mysql"):
        raise ConfigError("%s: key dbType must be sqlite or mysql, not %r"
                          % (path, config.db_type))
    if config.db_type == "sqlite":
        db_file = _text(props, path, "dbFile", config.db_file)
        if not os.path.isabs(db_file):
            db_file = os.path.join(os.path.dirname(os.path.abspath(path)), db_file)
        config.db_file = db_file
    else:
        config.db_host = _host(props, path, "dbHost", config.db_host)
        config.db_port = _integer(props, path, "dbPort", config.db_port, 1, 65535)
        config.db_name = _text(props, path, "dbName", config.db_name, required=True)
        config.db_user = _text(props, path, "dbUser", config.db_user, required=True)
        config.db_password = (props.get("dbPassword") or "").strip()

    config.listen_address = _text(props, path, "listenAddress", config.listen_address)
    try:
        ipaddress.ip_address(config.listen_address)
    except ValueError:
        raise ConfigError("%s: key listenAddress must be an IP address, not %r"
                          % (path, config.listen_address))
    config.listen_port = _integer(props, path, "listenPort", config.listen_port, 1, 65535)
    log_dir = _text(props, path, "logDir", config.log_dir)
    if not os.path.isabs(log_dir):
        log_dir = os.path.join(os.path.dirname(os.path.abspath(path)), log_dir)
    config.log_dir = log_dir

    for key, value in props.items():
        if key.endswith(SERVICE_ID_SUFFIX) and value.strip():
            config.offering_seeds[key[:-len(SERVICE_ID_SUFFIX)]] = value.strip()
    return config
