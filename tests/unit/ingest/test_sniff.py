"""Telling containers by content."""

from __future__ import annotations

import tarfile

import pytest

from vault.ingest.containers import ContainerKind, sniff

from .builders import COMPRESSORS, RawEntry, files_tar, gzip_named, info, raw_zip, std_zip, tar_of

MAIL = (
    b"Received: from mx.example.org by mx.example.net; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    b"From: Alice <alice@example.org>\r\n"
    b"To: bob@example.net\r\n"
    b"Subject: hello\r\n"
    b"\r\n"
    b"body\r\n"
)


def test_zip_including_the_empty_archive() -> None:
    assert sniff(std_zip({"a": b"x"})) is ContainerKind.ZIP
    assert sniff(raw_zip([])) is ContainerKind.ZIP
    assert sniff(b"PK\x07\x08PK\x03\x04rest") is ContainerKind.ZIP


def test_tar_by_ustar_magic_and_by_v7_checksum() -> None:
    assert sniff(files_tar({"a.txt": b"a"})) is ContainerKind.TAR
    v7 = tar_of([(info("old.txt"), b"x" * 10)], fmt=tarfile.USTAR_FORMAT)
    v7 = v7[:257] + b"\x00" * 8 + v7[265:]  # strip the magic and version
    header = bytearray(v7[:512])
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\x00 ".encode()
    assert sniff(bytes(header) + v7[512:]) is ContainerKind.TAR


def test_damaged_v7_checksum_is_not_a_tar() -> None:
    data = bytearray(files_tar({"a.txt": b"a"}))
    data[257:265] = b"\x00" * 8
    assert sniff(bytes(data)) is None


@pytest.mark.parametrize("method", ["gzip", "bzip2", "xz"])
def test_compressed_file_and_compressed_tar(method: str) -> None:
    compress = COMPRESSORS[method]
    single = {"gzip": ContainerKind.GZIP, "bzip2": ContainerKind.BZIP2, "xz": ContainerKind.XZ}
    tarred = {
        "gzip": ContainerKind.TAR_GZIP,
        "bzip2": ContainerKind.TAR_BZIP2,
        "xz": ContainerKind.TAR_XZ,
    }
    assert sniff(compress(b"just text\n" * 100)) is single[method]
    assert sniff(compress(files_tar({"a.txt": b"a" * 1000}))) is tarred[method]


def test_gzip_with_a_name_in_its_header_still_sniffs_as_gzip() -> None:
    assert sniff(gzip_named(b"data", b"report.txt")) is ContainerKind.GZIP


def test_seven_zip() -> None:
    assert sniff(b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24) is ContainerKind.SEVEN_ZIP


def test_mbox_needs_an_envelope_line() -> None:
    assert sniff(b"From alice@example.org Mon Jan  1 10:00:00 2024\n" + MAIL) is ContainerKind.MBOX
    assert sniff(b"From alice@example.org\nReturn-Path: <a@example.org>\n") is ContainerKind.MBOX
    assert sniff(b"From the desk of the editor\nDear all,\n") is None
    assert sniff(b"From 2001 to 2005 we grew\nmore text\n") is None


def test_email_needs_header_lines_that_only_mail_has() -> None:
    assert sniff(MAIL) is ContainerKind.EMAIL
    assert sniff(b"From: a@example.org\nSubject: x\n\nbody") is ContainerKind.EMAIL
    # Header-like lines that are not mail: an HTTP response, a config file, a lone header.
    assert sniff(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n") is None
    assert sniff(b"Content-Type: text/plain\nDate: today\n\nx") is None
    assert sniff(b"Subject: notes\n\nsome text") is None
    assert sniff(b"name: value\nkey: other\n") is None
    assert sniff(b"Dear Bob,\nFrom: me\nSubject: x\n") is None


def test_other_content_is_no_container() -> None:
    for head in (b"", b"%PDF-1.7\n", b"MZ\x90\x00", b"\x89PNG\r\n\x1a\n", b"plain text\n"):
        assert sniff(head) is None


def test_a_raw_entry_name_does_not_change_the_verdict() -> None:
    assert sniff(raw_zip([RawEntry(name=b"\x1b[2J")])) is ContainerKind.ZIP
