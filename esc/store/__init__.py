"""The workspace on disk: files, the atomic writer, locks, the cache, the catalog of
tickets, worker processes and git."""

from __future__ import annotations
