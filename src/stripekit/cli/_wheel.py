"""A wheel of the stripekit that is running, for ``stripekit new`` to place in a project.

Until stripekit is on a package index, a generated project installs the very
stripekit it was made with, from a wheel in its own ``wheels/`` folder:

- installed from a checkout in editable mode (``pip install -e .``): pip builds
  the wheel from that checkout, as ``pip wheel`` does for any project;
- installed from a wheel (or an index, later): the installed files, listed in the
  distribution's ``RECORD``, are packed back into a wheel, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import Distribution, distribution
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ._common import CLIError

__all__ = ["build_wheel", "wheel_name"]

# Written by the installer, not part of the wheel (RECORD is written anew).
_INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def wheel_name() -> str:
    """The file name of the running stripekit's wheel (``stripekit-0.1.0-py3-none-any.whl``)."""
    dist = distribution("stripekit")
    return f"stripekit-{dist.version}-py3-none-any.whl"


def build_wheel(out_dir: Path) -> Path:
    """Write the running stripekit's wheel into ``out_dir``; its path.

    Raises:
        CLIError: the wheel cannot be made (the message says why).
    """
    dist = distribution("stripekit")
    out_dir.mkdir(parents=True, exist_ok=True)
    source = _editable_source(dist)
    if source is not None:
        return _build_from_source(source, out_dir)
    return _repack(dist, out_dir / wheel_name())


def _editable_source(dist: Distribution) -> Path | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    info = json.loads(text)
    if not info.get("dir_info", {}).get("editable"):
        return None
    return Path(unquote(urlsplit(info["url"]).path))


def _build_from_source(source: Path, out_dir: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="stripekit-wheel-") as tmp:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp, str(source)]
        # This interpreter's own pip, on the checkout stripekit runs from.
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        built = sorted(Path(tmp).glob("stripekit-*.whl"))
        if done.returncode != 0 or not built:
            last = (done.stderr.strip().splitlines() or ["no wheel was written"])[-1]
            raise CLIError(f"could not build stripekit's wheel from {source}: {last}")
        target = out_dir / built[0].name
        target.write_bytes(built[0].read_bytes())
    return target


def _repack(dist: Distribution, target: Path) -> Path:
    """The installed distribution's files as a wheel (RECORD rebuilt with their hashes)."""
    files = [
        path
        for path in dist.files or []
        if ".." not in path.parts
        and "__pycache__" not in path.parts
        and not (path.parent.name.endswith(".dist-info") and path.name in _INSTALLER_FILES)
    ]
    info_dir = next((path.parent.as_posix() for path in files if path.name == "WHEEL"), None)
    if info_dir is None:
        raise CLIError("this stripekit installation has no .dist-info/WHEEL: reinstall stripekit")
    record = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for path in sorted(files, key=lambda p: (p.parent.as_posix() == info_dir, p.as_posix())):
            data = Path(str(dist.locate_file(path))).read_bytes()
            wheel.writestr(path.as_posix(), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path.as_posix()},sha256={digest.decode()},{len(data)}")
        record.append(f"{info_dir}/RECORD,,")
        wheel.writestr(f"{info_dir}/RECORD", "\n".join(record) + "\n")
    return target
