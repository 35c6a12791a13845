"""Deterministic benchmark data: the same bytes on every machine, every run.

Bytes come from an AES-256-CTR keystream keyed with SHA-256 of a fixed seed and a label. It is
a pseudo-random generator for *reproducible* data, not for secrecy: the data sets must come out
identical on every run, which `os.urandom` and `secrets` cannot give, and the `random` module is
banned in this project (it is also some 25 times slower than AES-CTR in OpenSSL).

Data sets (sizes scale with `scale`; the issue's sizes at scale 1):

    a  1 GiB in 200 files of 5 MiB; each MiB 40 % random bytes, 60 % repetitive text
    b  20,000 e-mail messages of 2–20 KiB, in folders of 200; one in ten has an attachment
    c  one 4 GiB file of the same mix as (a), written streaming (never held in memory)
    d  the shared test corpus (`$VAULT_SHARED_DIR/corpus` or `<repo>/../shared/corpus`), as is
    e  100,000 short text documents of 200 B–4 KiB (for search and the collection browser)

Generated sets live in `<work>/data/<name>-s<scale>/` beside a manifest `<same>.json` written
last; a later run reuses a set whose manifest, file count and total size still match.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

GENERATOR_VERSION = 2
SEED = b"embargo-vault benchmarks v1"
MIB = 1024 * 1024
GIB = 1024 * MIB
BLOCK = MIB
RANDOM_SHARE = 0.4

REPO = Path(__file__).resolve().parent.parent

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"][:60]
VOCABULARY_SIZE = 4096


def _word(i: int) -> str:
    head = _SYLLABLES[i % 60] + _SYLLABLES[(i // 60) % 60]
    return head + (_SYLLABLES[i // 3600] if i >= 3600 else "")


# Pseudo-words, unique; word i is drawn with probability ~ 1/(2·sqrt(4096·i)), a Zipf-like skew:
# word 0 is in nearly every document, word 4000 in a few percent of them.
VOCABULARY = [_word(i) for i in range(VOCABULARY_SIZE)]
assert len(set(VOCABULARY)) == VOCABULARY_SIZE


class Keystream:
    """An endless, reproducible byte stream for one label."""

    def __init__(self, label: str) -> None:
        key = hashlib.sha256(SEED + b"\0" + label.encode()).digest()
        self._enc = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()

    def read(self, n: int) -> bytes:
        """The next `n` bytes."""
        return self._enc.update(bytes(n))

    def below(self, bound: int) -> int:
        """A number in [0, bound) (bias under 2**-32 for the bounds used here)."""
        return int.from_bytes(self.read(8), "big") % bound

    def words(self, count: int) -> list[str]:
        """`count` vocabulary words, Zipf-like."""
        draws = memoryview(self.read(2 * count)).cast("H")
        return [VOCABULARY[(v * v) >> 20] for v in draws]

    def text(self, size: int, *, per_line: int = 12) -> bytes:
        """Word text of exactly `size` bytes, in lines of `per_line` words."""
        out = b""
        while len(out) < size:
            words = self.words(max(16, (size - len(out)) // 4))
            lines = (" ".join(words[j : j + per_line]) for j in range(0, len(words), per_line))
            out += ("\n".join(lines) + "\n").encode()
        return out[:size]


def _sentences() -> list[bytes]:
    stream = Keystream("sentences")
    return [(" ".join(stream.words(6 + stream.below(9))) + "\n").encode() for _ in range(SENTENCES)]


# Repetitive text is made of lines drawn from a fixed set of pseudo-sentences, in random order:
# within any 64 KiB window many lines and words repeat, so LZ compressors (borg's lz4) as well
# as entropy coders (restic's zstd) shrink it, but no chunk repeats for deduplication to find.
SENTENCES = 4096
_SENTENCE_LINES = _sentences()


def repetitive_text(stream: Keystream, size: int) -> bytes:
    """`size` bytes of lines drawn from the fixed sentences."""
    out = b""
    while len(out) < size:
        draws = memoryview(stream.read(2 * max(64, (size - len(out)) // 40))).cast("H")
        out += b"".join([_SENTENCE_LINES[v % SENTENCES] for v in draws])
    return out[:size]


def mixed_block(stream: Keystream, size: int) -> bytes:
    """`size` bytes: the first 40 % random, the rest repetitive text."""
    cut = int(size * RANDOM_SHARE)
    return stream.read(cut) + repetitive_text(stream, size - cut)


def write_mixed(path: Path, stream: Keystream, size: int) -> None:
    """Write a file of the 40/60 mix, one block at a time."""
    with path.open("wb") as out:
        left = size
        while left:
            step = min(BLOCK, left)
            out.write(mixed_block(stream, step))
            left -= step


@dataclass(frozen=True)
class DataSet:
    """One benchmark input: a directory of files."""

    key: str
    title: str
    path: Path
    files: int
    bytes: int

    def to_json(self) -> dict[str, object]:
        """A JSON form for the results file."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def count(path: Path) -> tuple[int, int]:
    """Regular files under `path` and their total size (links are not followed)."""
    files = size = 0
    for root, _, names in os.walk(path):
        for name in names:
            st = os.lstat(os.path.join(root, name))
            if stat.S_ISREG(st.st_mode):
                files += 1
                size += st.st_size
    return files, size


def _scaled(n: int, scale: float, least: int) -> int:
    return max(least, round(n * scale))


def _gen_a(out: Path, scale: float) -> None:
    stream = Keystream("a")
    size = _scaled(5 * MIB, scale, 1024)
    for i in range(200):
        write_mixed(out / f"file-{i:03d}.bin", stream, size)


def _gen_c(out: Path, scale: float) -> None:
    write_mixed(out / "big.bin", Keystream("c"), _scaled(4 * GIB, scale, 64 * 1024))


def _address(stream: Keystream) -> str:
    first, last, domain = stream.words(3)
    return f"{first}.{last}@{domain}.example"


def email(stream: Keystream, index: int) -> bytes:
    """One e-mail message of 2–20 KiB; one in ten is multipart with a text attachment."""
    size = 2048 + stream.below(18 * 1024 + 1)
    sender, recipient = _address(stream), _address(stream)
    day, minute = 1 + index % 28, index % 1440
    headers = (
        f"From: {sender}\r\nTo: {recipient}\r\n"
        f"Subject: {' '.join(stream.words(2 + stream.below(6)))}\r\n"
        f"Date: Fri, {day:02d} Apr 2017 {minute // 60:02d}:{minute % 60:02d}:00 +0200\r\n"
        f"Message-ID: <{index:08d}.{stream.read(6).hex()}@{sender.split('@')[1]}>\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()
    if index % 10 != 7:
        head = headers + b'Content-Type: text/plain; charset="utf-8"\r\n\r\n'
        return head + stream.text(max(64, size - len(head)))
    boundary = f"=_part_{index:08d}"
    attachment = stream.text(512 + stream.below(2048))
    start = (
        headers
        + (
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f'--{boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
        ).encode()
    )
    middle = (
        f'\r\n--{boundary}\r\nContent-Type: text/plain; name="notes-{index}.txt"\r\n'
        f'Content-Disposition: attachment; filename="notes-{index}.txt"\r\n\r\n'
    ).encode()
    end = f"\r\n--{boundary}--\r\n".encode()
    body = stream.text(max(64, size - len(start) - len(middle) - len(attachment) - len(end)))
    return start + body + middle + attachment + end


def _gen_files(
    out: Path, total: int, per_folder: int, name: str, make: Callable[[int], bytes]
) -> None:
    """`total` files named like `msg-000001.eml`, in folders of `per_folder`."""
    stem, ext = name.split(".")
    for i in range(total):
        folder = out / f"{stem}-{i // per_folder:03d}"
        if i % per_folder == 0:
            folder.mkdir()
        (folder / f"{stem}-{i:06d}.{ext}").write_bytes(make(i))


def _gen_b(out: Path, scale: float) -> None:
    stream = Keystream("b")
    _gen_files(out, _scaled(20_000, scale, 10), 200, "msg.eml", lambda i: email(stream, i))


def _gen_e(out: Path, scale: float) -> None:
    stream = Keystream("e")
    _gen_files(
        out,
        _scaled(100_000, scale, 10),
        1000,
        "doc.txt",
        lambda _: stream.text(200 + stream.below(4096 - 200 + 1)),
    )


GENERATED: dict[str, tuple[str, Callable[[Path, float], None]]] = {
    "a": ("1 GiB in 200 files of 5 MiB, 40 % random / 60 % repetitive text", _gen_a),
    "b": ("20,000 e-mails of 2-20 KiB", _gen_b),
    "c": ("one 4 GiB file, 40 % random / 60 % repetitive text", _gen_c),
    "e": ("100,000 text documents of 200 B-4 KiB (search, browser)", _gen_e),
}


def scale_tag(scale: float) -> str:
    """The scale as it appears in directory names: 1, 0.25, 0.001."""
    return f"{scale:g}"


def shared_dir() -> Path:
    """The shared folder, found as the tests find it."""
    return Path(os.environ.get("VAULT_SHARED_DIR", REPO.parent / "shared"))


def corpus() -> DataSet | None:
    """Data set (d), the shared corpus, or None if it is absent."""
    path = shared_dir() / "corpus"
    if not path.is_dir():
        return None
    files, size = count(path)
    return DataSet("d", "the shared test corpus (../shared/corpus)", path, files, size)


def title(key: str, scale: float) -> str:
    """A data set's description, with its scale when not 1."""
    text = GENERATED[key][0] if key in GENERATED else "the shared test corpus"
    return text if scale == 1 else f"{text}, scaled ×{scale_tag(scale)}"


def generated(key: str, work: Path, scale: float, log: Callable[[str], None]) -> DataSet:
    """A generated data set, made now or reused from an earlier run."""
    base = work / "data" / f"{key}-s{scale_tag(scale)}"
    manifest = base.with_name(base.name + ".json")
    want = {"generator": GENERATOR_VERSION, "key": key, "scale": scale}
    if manifest.is_file() and base.is_dir():
        recorded = json.loads(manifest.read_text())
        if {k: recorded.get(k) for k in want} == want and count(base) == (
            recorded["files"],
            recorded["bytes"],
        ):
            return DataSet(key, title(key, scale), base, recorded["files"], recorded["bytes"])
        log(f"data set {key}: manifest does not match, regenerating")
    manifest.unlink(missing_ok=True)
    partial = base.with_name(base.name + ".partial")
    for stale in (base, partial):
        if stale.exists():
            shutil.rmtree(stale)
    partial.mkdir(parents=True)
    log(f"data set {key}: generating {title(key, scale)} in {base}")
    GENERATED[key][1](partial, scale)
    partial.rename(base)
    files, size = count(base)
    manifest.write_text(json.dumps({**want, "files": files, "bytes": size}, indent=2) + "\n")
    return DataSet(key, title(key, scale), base, files, size)


def search_queries(n: int) -> Iterator[str]:
    """`n` queries across the vocabulary: common, middling and rare words, and word pairs."""
    stream = Keystream("queries")
    picks = [3, 40, 400, 1500, 3000, 4000]
    for i in range(n):
        rank = picks[i % len(picks)] + stream.below(50)
        word = VOCABULARY[min(rank, VOCABULARY_SIZE - 1)]
        if i % 4 == 3:
            yield f"{word} {VOCABULARY[stream.below(200)]}"
        else:
            yield word
