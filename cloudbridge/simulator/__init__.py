"""An in-memory Apache CloudStack 4.2 management-server API for CloudBridge's
tests and demo.

    from cloudbridge.simulator import start_simulator, sign_params
    sim = start_simulator(accounts=[("alice", "AK", "SK", False)], job_delay=0.1)
    ... sim.url, sim.accounts["alice"].api_key, sim.calls, sim.state ...
    sim.stop(); sim.start()   # "CloudStack down" and back, same port

See server.py for the command line (``cloudstack-simulator``).
"""

from cloudbridge.cloudstack.signing import sign as sign_params

__all__ = ["start_simulator", "Simulator", "sign_params"]


def __getattr__(name):
    # imported lazily so that `import cloudbridge.simulator` stays cheap
    if name in ("start_simulator", "Simulator", "AccountInfo"):
        from cloudbridge.simulator import server
        return getattr(server, name)
    raise AttributeError(name)
