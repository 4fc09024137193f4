"""The CLI's messages stay whole when its output goes to a file or a pipe."""

from __future__ import annotations

import subprocess
import sys


def test_a_long_message_is_one_line_in_a_pipe() -> None:
    path = "/" + "/".join(f"folder-{i}" for i in range(30))
    code = (
        "from treatywatch.cli.output import console;"
        f"console.print('[red]error:[/] {path} is in use by another Treaty Watch: give this one its own --data-dir')"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.count("\n") == 1
    assert f"{path} is in use by another Treaty Watch" in printed
