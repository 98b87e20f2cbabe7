"""kfsync: the customer-service accounts of a WeChat Official Account, as code."""

__version__ = "0.1.0"
