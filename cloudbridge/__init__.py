"""CloudBridge: the Amazon EC2 API in front of Apache CloudStack."""

__version__ = "2.0.0"
