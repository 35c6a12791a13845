"""Bytes of unknown encoding to text: byte-order marks, then UTF-8, then charset detection.

Leaked material comes in every encoding a newsroom's sources use: UTF-16 spreadsheets exported
from Windows, Shift-JIS mail, CP1252 memos. `decode_text` tries, in order, a byte-order mark, strict
UTF-8, and charset-normalizer's guess (made on at most the first `DETECT_BYTES`, so its cost is
bounded whatever the size), and decodes the whole with the winner, replacing what does not decode.
It says `None` when the bytes look like no text in any encoding (binary data).

`decode_declared` decodes with a charset a document declares (an e-mail part's `charset=`), and
falls back to detection when the declaration is wrong, unknown or names a codec that is not a
plain text encoding (`unicode_escape` would turn `\\x1b` written as text into a real ESC).

The text returned is raw: it may hold any control character. Callers escape it for showing
(`vault.review.preview`) or clean it for indexing (`vault.review.cleantext`).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

DETECT_BYTES = 64 * 1024
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WESTERN = "cp1252"
_WESTERN_LANGUAGES = frozenset(
    {
        "English",
        "French",
        "German",
        "Spanish",
        "Portuguese",
        "Italian",
        "Dutch",
        "Danish",
        "Swedish",
        "Norwegian",
        "Finnish",
        "Catalan",
    }
)
_CJK = ("shift_jis", "euc_jp", "euc_kr", "gb18030", "big5")
# Codecs Python counts as text encodings that rewrite escapes or are not charsets at all.
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna"})


@dataclass(frozen=True)
class Decoded:
    """Decoded text and the encoding it was decoded with (a Python codec name)."""

    text: str
    encoding: str


def _decode(data: bytes, encoding: str, *, complete: bool) -> str:
    """Decode with replacement; an incomplete input's cut final character is dropped."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(data, final=complete)


def _utf8(data: bytes, *, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder("utf-8")(errors="strict").decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def _detection_sample(data: bytes) -> bytes:
    """At most `DETECT_BYTES`, cut after a line break where there is one, so no character is cut."""
    if len(data) <= DETECT_BYTES:
        return data
    sample = data[:DETECT_BYTES]
    cut = sample.rfind(b"\n", DETECT_BYTES // 2)
    return sample[: cut + 1] if cut >= 0 else sample


def decode_text(data: bytes, *, complete: bool = True) -> Decoded | None:
    """Decode bytes of unknown encoding.

    Args:
        data: the bytes.
        complete: False when `data` is a prefix of a longer document: a character cut at the end
            is then dropped rather than shown as a replacement character.

    Returns:
        The text and its encoding, or None when the bytes look like no text (binary data).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(_decode(data[len(bom) :], encoding, complete=complete), encoding)
    text = _utf8(data, complete=complete)
    if text is not None:
        return Decoded(text, "ascii" if data.isascii() else "utf-8")
    guess = _guess(_detection_sample(data))
    if guess is None:
        return None
    try:
        return Decoded(_decode(data, guess, complete=complete), guess)
    except LookupError:  # a name charset-normalizer knows and this Python does not
        return None


def _guess(sample: bytes) -> str | None:
    """charset-normalizer's guess, corrected where it is known to go wrong on short texts.

    On a few hundred bytes of French or German in Windows-1252 it can answer Baltic cp1257 or
    even Big5; a Western reading is therefore preferred when it reads as a Western language at
    least as coherently as the guess does. A short CJK text it cannot place at all is tried
    against the common CJK codecs.
    """
    import charset_normalizer  # only text with no declared charset and no UTF-8 reading needs it

    best = charset_normalizer.from_bytes(sample).best()
    if best is not None and _WESTERN in best.could_be_from_charset:
        return _WESTERN  # the same text, under the name people know
    western = charset_normalizer.from_bytes(sample, cp_isolation=[_WESTERN]).best()
    if (
        western is not None
        and western.language in _WESTERN_LANGUAGES
        and (best is None or western.coherence >= best.coherence)
    ):
        return _WESTERN
    if best is not None:
        return best.encoding
    if min(sample, default=0x20) >= 0x09:  # no NUL or low controls: not binary
        for codec in _CJK:
            try:
                sample.decode(codec)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def text_codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset, if it is a plain text encoding Python has."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    name = info.name.replace("_", "-")
    if name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_declared(data: bytes, charset: str | None, *, complete: bool = True) -> Decoded:
    """Decode bytes with the charset they declare, detecting it when the declaration fails.

    Args:
        data: the bytes.
        charset: the declared charset (e.g. from `Content-Type: text/plain; charset=…`), or None.
        complete: see `decode_text`.

    Returns:
        The text and the codec used. Bytes that are no text in any encoding are decoded as UTF-8
        with replacement characters, so a caller always has something to show.
    """
    codec = text_codec(charset)
    if codec is not None:
        try:
            text = codecs.getincrementaldecoder(codec)(errors="strict").decode(data, complete)
            return Decoded(text, codec)
        except ValueError:  # UnicodeDecodeError, or a codec refusing its input some other way
            pass
    found = decode_text(data, complete=complete)
    if found is not None:
        return found
    return Decoded(_decode(data, "utf-8", complete=complete), "utf-8")
