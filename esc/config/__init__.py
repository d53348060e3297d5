"""teams.yaml and rules.yaml: their schema, reading and checking them, and the
starter files."""

from __future__ import annotations
