import pytest

from cloudbridge.config import ConfigError, load_config

SHIPPED = "etc/cloud/bridge/ec2-service.properties"


def write(tmp_path, text):
    (tmp_path / "ec2-service.properties").write_text(text)
    return str(tmp_path)


def test_shipped_file_loads(tmp_path):
    with open(SHIPPED) as f:
        conf_dir = write(tmp_path, f.read())
    config = load_config(conf_dir)
    assert config.listen_port == 8090
    assert config.db_type == "sqlite"
    assert config.cloudstack_url == "http://127.0.0.1:8080/client/api"
    assert config.offering_seeds == {}


def test_conf_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUD_BRIDGE_CONF", write(tmp_path, "managementServer=10.1.1.1\n"))
    assert load_config().management_server == "10.1.1.1"


def test_service_id_seeds(tmp_path):
    config = load_config(write(tmp_path, "managementServer=cs\nm1.small.serviceId=abc\n"
                                         "m1.large.serviceId=\n"))
    assert config.offering_seeds == {"m1.small": "abc"}


@pytest.mark.parametrize("text, key", [
    ("", "managementServer"),
    ("managementServer=cs\ncloudAPIPort=eighty\n", "cloudAPIPort"),
    ("managementServer=cs\nlistenPort=70000\n", "listenPort"),
    ("managementServer=cs\ndbType=oracle\n", "dbType"),
    ("managementServer=cs\nWSDLVersion=2009-01-01\n", "WSDLVersion"),
    ("managementServer=cs\nlistenAddress=everywhere\n", "listenAddress"),
    ("managementServer=cs\nasyncJobTimeout=-1\n", "asyncJobTimeout"),
])
def test_bad_values_name_key_and_file(tmp_path, text, key):
    conf_dir = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(conf_dir)
    assert key in str(raised.value)
    assert "ec2-service.properties" in str(raised.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(str(tmp_path))
    assert "not found" in str(raised.value)


def test_https_and_ipv6_management_server(tmp_path):
    config = load_config(write(tmp_path, "managementServer=2001:db8::5\ncloudAPIScheme=https\n"
                                         "cloudAPIPort=8443\n"))
    assert config.cloudstack_url == "https://[2001:db8::5]:8443/client/api"


def test_bad_scheme(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "managementServer=cs\ncloudAPIScheme=ftp\n"))
    assert "cloudAPIScheme" in str(raised.value)
