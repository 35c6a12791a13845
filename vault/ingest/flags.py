"""The risk flags type detection can raise, each with the one line the CLI and TUI show for it.

Flag names are stable strings: they are recorded in catalogs and receipts, so a name is never
reused for another meaning. The rules that raise them live in `vault.ingest.flags_rules` and run
only inside a sandboxed detection worker, because they read hostile bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

TYPE_UNKNOWN = "type-unknown"
EXTENSION_MISMATCH = "extension-mismatch"
EXECUTABLE = "executable"
MACROS = "macros"
ENCRYPTED = "encrypted"
PDF_ACTIVE = "pdf-active"
POLYGLOT = "polyglot"
OFFICE_EXTERNAL = "office-external"

FLAGS: Mapping[str, str] = MappingProxyType(
    {
        TYPE_UNKNOWN: "the type could not be detected: the detector crashed, timed out or was "
        "stopped on this item",
        EXTENSION_MISMATCH: "the file name's extension does not fit the detected type",
        EXECUTABLE: "a program or script (PE, ELF, Mach-O, Java, WebAssembly, shell or Windows "
        "script) that could run if opened",
        MACROS: "an office document carrying macros (VBA, Excel 4.0 macro sheets or "
        "OpenDocument scripts)",
        ENCRYPTED: "encrypted or password-protected: its contents cannot be inspected",
        PDF_ACTIVE: "a PDF with active content: JavaScript, automatic or launch actions, "
        "embedded files, rich media or XFA forms",
        POLYGLOT: "valid as more than one format at once, a common disguise for malicious files",
        OFFICE_EXTERNAL: "an office document that fetches outside content when opened (DDE, "
        "remote template, external links or data connections)",
    }
)
