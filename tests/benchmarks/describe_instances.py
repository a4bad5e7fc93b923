"""Benchmark: DescribeInstances and RunInstances through CloudBridge against the simulator.

Prints, for several fleet sizes, the median and 95th-percentile latency of
DescribeInstances over boto3 and the number of CloudStack calls one
Describe makes, then the time of a RunInstances of 10 instances.  Runs on
SQLite by default; `--mysql` uses a throw-away database on the MariaDB at
127.0.0.1:3306.  Everything binds 127.0.0.1.

    .venv/bin/python -m tests.benchmarks.describe_instances [--mysql] [--rounds N]
"""

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from tests.databases import mysql_database, sqlite_config
from tests.e2e.conftest import make_cloud


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure_describe(cloud, ec2, rounds):
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        ec2.describe_instances()
        latencies.append(time.perf_counter() - started)
    cloud.simulator.clear_calls()
    ec2.describe_instances()
    return latencies, len(cloud.simulator.calls)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql", action="store_true", help="use MariaDB instead of SQLite")
    parser.add_argument("--rounds", type=int, default=30, help="Describe calls per fleet size")
    parser.add_argument("--sizes", default="1,25,100", help="fleet sizes, comma-separated")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        database = mysql_database() if args.mysql else nullcontext(sqlite_config(Path(tmp)))
        with database as db_config:
            cloud = make_cloud(db_config)
            try:
                run(cloud, args)
            finally:
                cloud.stop()
    return 0


def run(cloud, args):
    # The admin account: CloudStack limits a user account to 20 VMs.
    ec2 = cloud.boto3("admin")
    image_id = next(i["ImageId"] for i in ec2.describe_images()["Images"]
                    if "CentOS" in i["Name"])
    print("store: %s" % cloud.config.describe_database())
    print("%8s %12s %12s %16s" % ("fleet", "median ms", "p95 ms", "CloudStack calls"))
    launched = 0
    for size in [int(s) for s in args.sizes.split(",")]:
        while launched < size:
            batch = min(20, size - launched)
            ec2.run_instances(ImageId=image_id, MinCount=batch, MaxCount=batch,
                              InstanceType="m1.small")
            launched += batch
        latencies, calls = measure_describe(cloud, ec2, args.rounds)
        print("%8d %12.1f %12.1f %16d" % (size, statistics.median(latencies) * 1000,
                                          percentile(latencies, 0.95) * 1000, calls))

    started = time.perf_counter()
    ec2.run_instances(ImageId=image_id, MinCount=10, MaxCount=10, InstanceType="m1.small")
    print("RunInstances of 10 instances: %.2f s (simulator job delay %.2f s)"
          % (time.perf_counter() - started, 0.1))


if __name__ == "__main__":
    sys.exit(main())
