"""Fault kinds, each one small type registered by name (as Toxiproxy registers toxics).

    from faults import make_fault
    with make_fault("timeout", target="api__card_rpc").applied(stack) as window:
        ...  # the link is blackholed here; it is healed on the way out, whatever happens

Network kinds act on a Toxiproxy link; process kinds on a managed process.
"""

from faults import composite, network, process  # noqa: F401  (importing registers the kinds)
from faults.base import REGISTRY, Fault, FaultWindow, Target, make_fault

__all__ = ["REGISTRY", "Fault", "FaultWindow", "Target", "make_fault"]
