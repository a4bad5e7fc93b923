"""Each request runs with its caller's own CloudStack keys, under concurrency too."""

from concurrent.futures import ThreadPoolExecutor


def own_instances(cloud, user):
    ec2 = cloud.boto3(user)
    return {i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]}


def test_concurrent_users_see_only_their_instances(cloud):
    image_id = next(i["ImageId"] for i in cloud.boto3("alice").describe_images()["Images"]
                    if "CentOS" in i["Name"])
    launched = {}
    for user in ("alice", "bob"):
        run = cloud.boto3(user).run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                              InstanceType="m1.small")
        launched[user] = run["Instances"][0]["InstanceId"]
    expected = {user: own_instances(cloud, user) for user in ("alice", "bob")}
    assert launched["alice"] in expected["alice"]
    assert launched["alice"] not in expected["bob"]
    assert launched["bob"] in expected["bob"]
    assert launched["bob"] not in expected["alice"]

    cloud.simulator.clear_calls()
    users = ["alice", "bob"] * 20
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(lambda user: (user, own_instances(cloud, user)), users))
    for user, instances in seen:
        assert instances == expected[user], user

    # Every CloudStack call was signed with the key of a user who made a request.
    keys = {c["apikey"] for c in cloud.simulator.calls}
    assert keys == {"AKIDALICE0000000000001", "AKIDBOB000000000000001"}
    for user in ("alice", "bob"):
        cloud.boto3(user).terminate_instances(InstanceIds=[launched[user]])


def test_concurrent_client_token_launches_once(cloud):
    second = cloud.servers[1] if len(cloud.servers) > 1 else cloud.add_server()
    servers = [cloud.bridge, second] * 4
    image_id = next(i["ImageId"] for i in cloud.boto3("bob").describe_images()["Images"]
                    if "CentOS" in i["Name"])
    cloud.simulator.clear_calls()

    def launch(server):
        return cloud.boto3("bob", server=server).run_instances(
            ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="m1.small",
            ClientToken="same-token-everywhere")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(launch, servers))
    reservations = {r["ReservationId"] for r in results}
    instances = {tuple(i["InstanceId"] for i in r["Instances"]) for r in results}
    assert len(reservations) == 1
    assert len(instances) == 1
    deploys = [c for c in cloud.simulator.calls if c["command"] == "deployVirtualMachine"]
    assert len(deploys) == 1
    cloud.boto3("bob").terminate_instances(InstanceIds=list(next(iter(instances))))
