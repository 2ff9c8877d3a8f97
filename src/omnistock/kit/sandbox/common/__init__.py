"""The sandbox kit: clock, catalog, shoppers, faults, call log, webhooks, admin and serving.

Every platform sandbox is built from these parts; nothing here knows a platform.
"""

from omnistock.kit.sandbox.common.calls import CallLog, CallRecord
from omnistock.kit.sandbox.common.catalog import Catalog, CatalogItem, CatalogSpec, build_catalog
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxClock, ScaledClock
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings, Window
from omnistock.kit.sandbox.common.serve import SandboxOptions, serve_sandbox
from omnistock.kit.sandbox.common.shoppers import Shop, Shoppers
from omnistock.kit.sandbox.common.truth import OrderLine, TruthBook

__all__ = [
    "CallLog",
    "CallRecord",
    "Catalog",
    "CatalogItem",
    "CatalogSpec",
    "FaultInjector",
    "FaultSettings",
    "ManualClock",
    "OrderLine",
    "SandboxClock",
    "SandboxCore",
    "SandboxOptions",
    "ScaledClock",
    "Shop",
    "Shoppers",
    "TruthBook",
    "Window",
    "build_catalog",
    "serve_sandbox",
]
