"""Dispatch: one dispatcher per channel account pushes the latest desired quantities of its
dirty listings, rate-aware, batched, coalesced and retried, behind a circuit breaker."""

from omnistock.dispatch.circuit import CircuitBreaker, CircuitSettings, CircuitState
from omnistock.dispatch.dispatcher import AccountDispatcher, DispatchSettings
from omnistock.dispatch.report import DispatchReport, FirstSyncReport
from omnistock.dispatch.retry import RetryPolicy

__all__ = [
    "AccountDispatcher",
    "CircuitBreaker",
    "CircuitSettings",
    "CircuitState",
    "DispatchReport",
    "DispatchSettings",
    "FirstSyncReport",
    "RetryPolicy",
]
