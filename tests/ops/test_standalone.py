"""The repository stands alone: what a bare clone needs is tracked in it, and nothing reaches outside it."""

from __future__ import annotations

import subprocess

from tests.conftest import DATA
from tests.ops import ROOT


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [name for name in out.split("\0") if name]


def test_no_tracked_file_names_a_folder_beside_the_repository() -> None:
    outside = "../" + "shared"  # spelled in two parts, so that this file does not name it either
    files = [ROOT / name for name in tracked_files()]
    naming = [str(f) for f in files if f.is_file() and outside in f.read_text(errors="ignore")]
    assert naming == []


def test_the_data_the_platform_loads_is_tracked_with_its_provenance() -> None:
    DATA.check()
    tracked = set(tracked_files())
    data = DATA.root.relative_to(ROOT)
    for path in (DATA.mine_ban, DATA.resolution, DATA.root / "untc" / "index.csv", DATA.root / "README.md"):
        assert str(path.relative_to(ROOT)) in tracked, path
    assert len([n for n in tracked if n.startswith(f"{data}/untc/treaties/")]) == 324
    assert {"LICENSE", "NOTICE"} <= tracked
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "untreaties" in (ROOT / "NOTICE").read_text()
