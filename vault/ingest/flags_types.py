"""Which detected types fit which file extensions, and which types and extensions are programs.

A family is a tuple of patterns over libmagic's MIME type, compared case-insensitively: an exact
type (`application/pdf`), a prefix ending in `/` or `.` (`text/`,
`application/vnd.oasis.opendocument.`), or a suffix starting with `+` (`+xml`). Extensions not in
`EXTENSION_FAMILIES` never raise `extension-mismatch`: an unknown extension claims nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Family = tuple[str, ...]

ZIP_BASED: Family = (
    "application/zip",
    "application/x-zip",
    "application/x-zip-compressed",
    "application/java-archive",
    "application/epub+zip",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-word.",
    "application/vnd.ms-excel.",
    "application/vnd.ms-powerpoint.",
    "application/vnd.android.package-archive",
    "application/x-xpinstall",
    "application/vnd.apple.",
)
OLE2: Family = (
    "application/x-ole-storage",
    "application/cdfv2",
    "application/cdfv2-encrypted",
    "application/cdfv2-corrupt",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.ms-office",
    "application/vnd.ms-outlook",
    "application/vnd.visio",
    "application/x-msi",
    "application/encrypted",
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


OOXML_EXTENSIONS = _words(
    "docx docm dotx dotm xlsx xlsm xltx xltm xlsb xlam pptx pptm potx potm ppsx ppsm ppam"
)
MACRO_ENABLED_EXTENSIONS = _words("docm dotm xlsm xltm xlam pptm potm ppsm ppam")
ODF_EXTENSIONS = _words("odt ods odp odg odf odb ott ots otp otg")
TEXT: Family = ("text/", "application/json", "application/csv", "application/xml", "+xml")
PE: Family = (
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/x-msdownload",
)
AUDIO_VIDEO: Family = ("audio/", "video/", "application/ogg")


def _families() -> dict[str, Family]:
    table: dict[str, Family] = {}

    def add(extensions: str, family: Family) -> None:
        for ext in extensions.split():
            table[ext] = family

    add(" ".join(OOXML_EXTENSIONS), ZIP_BASED)
    add(" ".join(ODF_EXTENSIONS), ("application/vnd.oasis.opendocument.", "application/zip"))
    add("doc dot xls xlt xla ppt pot pps msg vsd pub mpp", OLE2)
    add("pdf", ("application/pdf",))
    add("rtf", ("text/rtf", "application/rtf"))
    add("jpg jpeg jpe jfif", ("image/jpeg",))
    add("png", ("image/png",))
    add("gif", ("image/gif",))
    add("bmp", ("image/bmp", "image/x-ms-bmp"))
    add("tif tiff", ("image/tiff",))
    add("webp", ("image/webp",))
    add("heic heif", ("image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"))
    add("avif", ("image/avif",))
    add("psd", ("image/vnd.adobe.photoshop",))
    add("svg", ("image/svg+xml", *TEXT))
    add("txt text log md csv tsv json xml xsl xslt html htm xhtml php", TEXT)
    add("eml mht mhtml", ("message/", "multipart/", *TEXT))
    add("mbox", ("application/mbox", "message/", *TEXT))
    add("zip jar epub apk xpi", ZIP_BASED)
    add("gz tgz", ("application/gzip", "application/x-gzip"))
    add("bz2 tbz2", ("application/x-bzip2",))
    add("xz txz", ("application/x-xz",))
    add("zst", ("application/zstd",))
    add("lz4", ("application/x-lz4",))
    add("7z", ("application/x-7z-compressed",))
    add("rar", ("application/x-rar", "application/vnd.rar", "application/x-rar-compressed"))
    add("tar", ("application/x-tar",))
    add("cab", ("application/vnd.ms-cab-compressed",))
    add("iso", ("application/x-iso9660-image",))
    add("exe dll sys scr cpl ocx", PE)
    add("class", ("application/x-java-applet", "application/x-mach-binary"))
    add("wasm", ("application/wasm",))
    add("ps eps", ("application/postscript",))
    add("mp3", ("audio/mpeg",))
    add("wav", ("audio/x-wav", "audio/wav", "audio/vnd.wave"))
    add("mp4 m4a m4v mov avi mkv webm ogg oga ogv flac", AUDIO_VIDEO)
    return table


EXTENSION_FAMILIES: Mapping[str, Family] = MappingProxyType(_families())

EXECUTABLE_MIMES = frozenset(
    {
        *PE,
        "application/x-executable",
        "application/x-pie-executable",
        "application/x-sharedlib",
        "application/x-elf",
        "application/x-mach-binary",
        "application/x-java-applet",
        "application/java-archive",
        "application/wasm",
        "application/x-ms-shortcut",
        "application/x-msi",
        "application/vnd.android.package-archive",
        "text/x-shellscript",
        "application/x-shellscript",
        "text/x-msdos-batch",
        "application/x-bat",
        "text/x-python",
        "text/x-script.python",
        "text/x-perl",
        "text/x-ruby",
        "text/x-php",
        "text/x-tcl",
        "text/x-lua",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
    }
)
EXECUTABLE_EXTENSIONS = _words(
    "exe dll scr com pif cpl sys ocx msi msp bat cmd ps1 psm1 psd1 vbs vbe js jse mjs wsf wsc "
    "wsh hta sh bash zsh ksh csh command jar lnk reg apk app py pyw pl rb php"
)


def fits(mime: str, family: Family) -> bool:
    """Whether a MIME type matches one of a family's patterns."""
    mime = mime.lower()
    for pattern in family:
        if pattern.startswith("+"):
            if mime.endswith(pattern):
                return True
        elif pattern.endswith(("/", ".")):
            if mime.startswith(pattern):
                return True
        elif mime == pattern:
            return True
    return False


def extension_of(name: str) -> str:
    """The lower-case extension of a display name (`report.PDF` → `pdf`), or ``""``."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return base.rsplit(".", 1)[-1].lower()
