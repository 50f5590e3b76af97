"""Brings the feed system up and down locally: infra, Toxiproxy links, SUT processes.

Usage: ``stack = LocalStack(run_dir); stack.start()``, then ``stack.reset_faults()``
between tests and ``stack.stop()`` at the end (also a context manager).
"""

from harness.errors import StackError
from harness.links import Link
from harness.process import ManagedProcess
from harness.stack import LocalStack, StackEndpoints

__all__ = ["Link", "LocalStack", "ManagedProcess", "StackEndpoints", "StackError"]
