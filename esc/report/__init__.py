"""What esc shows: reports, the CI check, tickets as text and JSON, and exports."""

from __future__ import annotations
