"""The domain: tickets, their lifecycle, SLA clocks, rules and numbers. Pure: it takes
``now`` and data and returns results; it imports nothing outside itself and does no I/O."""

from __future__ import annotations
