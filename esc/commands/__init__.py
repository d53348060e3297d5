"""One module per command family: each takes plain values, uses the layers below
and returns what the command line prints."""

from __future__ import annotations
