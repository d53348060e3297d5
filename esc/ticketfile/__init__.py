"""The ticket file format: front-matter (read fast, read by the YAML library,
edited in place), the body's grammar, and the three-way merge of two versions."""

from __future__ import annotations
