"""The CLI's one console."""

from __future__ import annotations

from rich.console import Console

# Soft wrap: a long message (a path, a URL) stays on one line, so logs and pipes can be searched for it.
console = Console(soft_wrap=True)
