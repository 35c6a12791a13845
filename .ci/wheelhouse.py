"""Write wheelhouse/requirements.txt: every wheel in the wheelhouse, pinned by SHA-256.

`make wheelhouse` first fills wheelhouse/ with `pip wheel` (the project and every runtime
dependency, built or downloaded on a connected machine); this script then pins each wheel by
name, version and hash, so the air-gapped machine installs exactly these files:

    pip install --no-index --find-links wheelhouse --require-hashes -r wheelhouse/requirements.txt
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def main(folder: Path) -> None:
    lines = []
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{digest}")
    if not lines:
        raise SystemExit(f"no wheels in {folder}")
    (folder / "requirements.txt").write_text("\n".join(lines) + "\n")
    print(f"pinned {len(lines)} wheels in {folder / 'requirements.txt'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "wheelhouse"))
