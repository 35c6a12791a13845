"""Every flag a document can carry, with the line the CLI and the terminal app show for it.

Detection flags (`vault.ingest.flags`) describe content; the flags here describe where and how an
item was found: its name, its place in a container, and the limits that stopped a container.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from vault.ingest.flags import FLAGS as CONTENT_FLAGS

FOUND_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "path-traversal": "its name in the archive climbed out of the archive (../); stored "
        "under a safe name, the raw name kept",
        "absolute-path": "its name in the archive was an absolute or drive path",
        "control-chars": "its name holds control characters or terminal escape sequences",
        "nul-byte": "its name holds a NUL byte",
        "bidi-override": "its name holds right-to-left or other bidirectional controls that can "
        "disguise an extension",
        "format-chars": "its name holds invisible formatting characters",
        "invalid-utf8": "its name is not valid UTF-8; shown with byte escapes",
        "legacy-encoding": "its name was decoded from a legacy encoding",
        "long-name": "its name was longer than 255 bytes and was shortened",
        "long-path": "its path was too long or too deep and was shortened",
        "empty-name": "it had no name in its container",
        "name-collision": "another member of its container had the same name (or the same name "
        "but for case)",
        "link-escape": "a link in an archive pointing outside the archive; recorded, never "
        "followed",
        "bad-link": "a link in an archive with an empty or impossible target",
        "through-symlink": "a member written through a link in its archive (a classic escape)",
        "special-file": "an archive entry for a device, pipe or socket; recorded, not stored",
        "sparse": "a sparse file in a tar archive",
        "unusual-type": "an archive entry of an unusual type",
        "local-name-mismatch": "a zip entry whose two recorded names disagree",
        "inline": "an inline part of an e-mail message",
        "attached-message": "an e-mail message attached to another",
        "unsupported-compression": "compressed with a method the vault cannot expand; stored as "
        "found",
        "bomb-suspected": "a container that expands far more than its size (a decompression "
        "bomb?); what was read safely is kept",
        "recursive-container": "a container that contains itself (a quine); not opened again",
        "too-deep": "containers nested deeper than the limit; the innermost one was not opened",
        "too-many-members": "the intake listed more members than the limit",
        "too-large": "expanding it passed a size limit",
        "partially-expanded": "not every member of this container was checked in (see the other "
        "flags)",
        "container-error": "a damaged or unsupported container: kept as found, its members not "
        "all read",
    }
)

ALL_FLAGS: Mapping[str, str] = MappingProxyType({**CONTENT_FLAGS, **FOUND_FLAGS})
