"""Availability zones: the CloudStack zones, listed under one EC2 region."""

from cloudbridge import errors
from cloudbridge.ec2.core import action
from cloudbridge.ec2.filters import apply_filters, validate_filters

ZONE_FILTERS = {
    "zone-name": lambda zone: zone["zoneName"],
    "state": lambda zone: zone["zoneState"],
    "region-name": lambda zone: zone["regionName"],
    "message": lambda zone: [],
}


def list_zones(ctx):
    # Without a domain restriction, so that public zones are listed too.
    return ctx.cloudstack.list("listZones", "zone", available=True)


def find_zone(ctx, name=None):
    """Return the CloudStack zone with this EC2 zone name (the first zone if None)."""
    zones = list_zones(ctx)
    if not zones:
        raise errors.InternalError("CloudStack lists no available zone")
    if name is None:
        return zones[0]
    for zone in zones:
        if zone["name"].lower() == name.lower():
            return zone
    raise errors.InvalidParameterValue("Invalid availability zone: [%s]" % name)


def is_basic(zone):
    return zone.get("networktype", "").lower() == "basic"


@action("DescribeAvailabilityZones")
def describe_availability_zones(ctx):
    names = ctx.params.strings("ZoneName")
    filters = ctx.params.filters()
    validate_filters(filters, ZONE_FILTERS, "DescribeAvailabilityZones")

    zones = []
    for zone in list_zones(ctx):
        state = "available" if zone.get("allocationstate", "Enabled") == "Enabled" else "unavailable"
        zones.append({"zoneName": zone["name"], "zoneState": state,
                      "regionName": ctx.config.region_name, "messageSet": []})
    if names:
        wanted = {n.lower() for n in names}
        unknown = wanted - {z["zoneName"].lower() for z in zones}
        if unknown:
            raise errors.InvalidParameterValue(
                "Invalid availability zone: [%s]" % ", ".join(sorted(unknown)))
        zones = [z for z in zones if z["zoneName"].lower() in wanted]
    zones = apply_filters(zones, filters, ZONE_FILTERS, "DescribeAvailabilityZones")
    return {"availabilityZoneInfo": zones}
