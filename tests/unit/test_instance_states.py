import pytest

from cloudbridge.ec2.instance_view import VM_STATES, ec2_state

# Every VM state of CloudStack 2.2 to 4.x (VirtualMachine.State, plus the 2.2
# spelling Shutdowned) and the EC2 state it must become.
EXPECTED = {
    "Starting": (0, "pending"), "Running": (16, "running"), "Stopping": (64, "stopping"),
    "Stopped": (80, "stopped"), "Destroyed": (48, "terminated"),
    "Expunging": (32, "shutting-down"), "Migrating": (16, "running"),
    "Error": (48, "terminated"), "Unknown": (0, "pending"), "Shutdowned": (80, "stopped"),
    "Shutdown": (80, "stopped"),
}
EC2_STATES = {(0, "pending"), (16, "running"), (32, "shutting-down"), (48, "terminated"),
              (64, "stopping"), (80, "stopped")}


@pytest.mark.parametrize("cloudstack_state", sorted(EXPECTED))
def test_cloudstack_state_maps(cloudstack_state):
    code, name = EXPECTED[cloudstack_state]
    assert ec2_state(cloudstack_state) == {"code": code, "name": name}


def test_every_mapping_is_an_ec2_state():
    assert set(VM_STATES.values()) <= EC2_STATES


def test_unknown_future_state_is_not_running():
    assert ec2_state("Hibernating")["name"] == "pending"
