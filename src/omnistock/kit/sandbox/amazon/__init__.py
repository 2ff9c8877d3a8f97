"""The Amazon Selling Partner API sandbox (see README.md): `AmazonSandbox(AmazonConfig())`."""

from omnistock.kit.sandbox.amazon.app import AmazonConfig
from omnistock.kit.sandbox.amazon.face import AmazonSandbox

__all__ = ["AmazonConfig", "AmazonSandbox"]
