"""DescribeRegions: the one EC2 region under which the CloudStack zones are listed."""

import ipaddress
import socket

from cloudbridge import errors
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters

REGION_FILTERS = {
    "region-name": lambda region: region["regionName"],
    "endpoint": lambda region: region["regionEndpoint"],
}


def region_endpoint(config):
    """Return the host (and port) clients reach this server at.

    The configured `region_endpoint` wins; without it the listen address and
    port are used, with this machine's host name for a wildcard address.
    """
    if config.region_endpoint:
        return config.region_endpoint
    host = config.listen_address
    if ipaddress.ip_address(host).is_unspecified:
        host = socket.gethostname()
    elif ipaddress.ip_address(host).version == 6:
        host = "[%s]" % host
    return "%s:%d" % (host, config.listen_port)


@action("DescribeRegions")
def describe_regions(ctx):
    names = ctx.params.strings("RegionName")
    filters = ctx.params.filters()
    validate_filters(filters, REGION_FILTERS, "DescribeRegions")

    region = {"regionName": ctx.config.region_name,
              "regionEndpoint": region_endpoint(ctx.config)}
    unknown = [n for n in dict.fromkeys(names) if n != region["regionName"]]
    if unknown:
        raise errors.InvalidParameterValue(
            "Invalid region: %s. The only region is %s."
            % (", ".join(unknown), region["regionName"]))
    regions = apply_filters([region], filters, REGION_FILTERS, "DescribeRegions")
    return {"regionInfo": regions}
