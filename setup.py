from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith(("#", "-r"))]


setup(
    name="cloud-bridge",
    version="2.0.0",
    description="Amazon EC2 API front end for Apache CloudStack",
    packages=find_packages(exclude=["tests", "tests.*"]),
    package_data={"cloudbridge.protocol": ["AmazonEC2.wsdl"]},
    python_requires=">=3.9",
    install_requires=read_requirements("requirements.txt"),
    entry_points={
        "console_scripts": [
            "cloud-bridge = cloudbridge.server:main",
            "cloudstack-simulator = cloudbridge.simulator.server:main",
            "cloud-setup-bridge-db = cloudbridge.cli.setup_db:main",
            "cloud-bridge-register = cloudbridge.cli.register:main",
            "cloud-setup-bridge = cloudbridge.cli.setup_bridge:main",
        ],
    },
)
