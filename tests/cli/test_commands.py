"""The `vault` command end to end: output, exit codes and diagnostics (DESIGN §11)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.vaults import TestVault, run_cli


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in (
        "init",
        "member",
        "collection",
        "checkin",
        "ls",
        "show",
        "cat",
        "check",
        "audit",
        "demo",
        "mark",
    ):
        assert command in result.stdout.decode()


def test_subcommand_help_is_useful() -> None:
    result = run_cli("checkin", "--help")
    assert result.returncode == 0
    assert "--collection" in result.stdout.decode()
    assert "receipt" in result.stdout.decode()


def test_init_with_passphrase_file(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("correct horse battery staple\n")
    result = run_cli(
        "init", str(tmp_path / "v"), "--admin", "dana", "--new-passphrase-file", str(secret)
    )
    assert result.returncode == 0, result.stderr
    listing = run_cli(
        "--vault",
        str(tmp_path / "v"),
        "--as",
        "dana",
        "--passphrase-file",
        str(secret),
        "member",
        "list",
        "--json",
    )
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)[0]["name"] == "dana"


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "precious.txt").write_text("keep me")
    secret = tmp_path / "pass"
    secret.write_text("pw")
    result = run_cli(
        "init", str(tmp_path / "v"), "--admin", "dana", "--new-passphrase-file", str(secret)
    )
    assert result.returncode == 2
    assert b"vault: error:" in result.stderr
    assert (tmp_path / "v" / "precious.txt").read_text() == "keep me"


def test_wrong_passphrase_exits_5_without_traceback(test_vault: TestVault, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not it")
    result = run_cli(
        "--vault", str(test_vault.path), "--as", "bob", "--passphrase-file", str(wrong), "ls"
    )
    assert result.returncode == 5
    assert b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"vault: error: wrong passphrase")
    assert b"vault: hint:" in result.stderr


def test_an_endless_passphrase_file_is_refused_after_a_bounded_read(
    test_vault: TestVault,
) -> None:
    result = run_cli(
        "--vault", str(test_vault.path), "--as", "bob", "--passphrase-file", "/dev/zero", "ls"
    )
    assert result.returncode == 2
    assert result.stderr.startswith(b"vault: error: the passphrase file holds more than 4096")
    assert b"Traceback" not in result.stderr


def test_unknown_member_exits_5(test_vault: TestVault) -> None:
    result = run_cli(
        "--vault",
        str(test_vault.path),
        "--as",
        "mallory",
        "--passphrase-file",
        str(test_vault.passphrase_file("bob")),
        "ls",
    )
    assert result.returncode == 5


def test_missing_vault_is_a_usage_error(tmp_path: Path, test_vault: TestVault) -> None:
    result = run_cli(
        "--vault",
        str(tmp_path / "nowhere"),
        "--as",
        "bob",
        "--passphrase-file",
        str(test_vault.passphrase_file("bob")),
        "ls",
    )
    assert result.returncode == 2
    assert b"not a vault" in result.stderr


def test_bad_option_exits_2() -> None:
    result = run_cli("ls", "--no-such-option")
    assert result.returncode == 2
    assert result.stderr.startswith(b"vault: error:")


def test_checkin_ls_show_cat(test_vault: TestVault, tmp_path: Path) -> None:
    source = tmp_path / "dump"
    source.mkdir()
    (source / "memo.txt").write_text("the memo\n")
    (source / "copy.txt").write_text("the memo\n")
    receipt = test_vault.cli(
        "checkin", str(source), "--collection", "leak", "--source", "usb stick", "--json"
    )
    assert receipt.returncode == 0, receipt.stderr
    data = json.loads(receipt.stdout)
    assert data["counts"]["new"] == 1
    assert data["counts"]["duplicate"] == 1
    oid = data["items"][0]["oid"]

    listing = json.loads(test_vault.cli("ls", "--json", member="bob", check=True).stdout)
    assert [d["oid"] for d in listing] == [oid]

    shown = json.loads(test_vault.cli("show", oid[:10], "--json", check=True).stdout)
    assert shown["document"]["size"] == 9
    paths = sorted(o["path"] for o in shown["occurrences"])
    assert paths == ["dump/copy.txt", "dump/memo.txt"]
    assert shown["occurrences"][0]["source"] == "usb stick"

    assert test_vault.cli("cat", oid, check=True).stdout == b"the memo\n"
    out = tmp_path / "out.txt"
    assert test_vault.cli("cat", oid, "--output", str(out)).returncode == 0
    assert out.read_text() == "the memo\n"
    again = test_vault.cli("cat", oid, "--output", str(out))
    assert again.returncode == 2, "an existing file is never overwritten"


def test_checkin_partial_failure_exits_1_and_stores_the_rest(
    test_vault: TestVault, tmp_path: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("good")
    result = test_vault.cli(
        "checkin", str(good), str(tmp_path / "missing.txt"), "--collection", "leak", "--json"
    )
    assert result.returncode == 1
    data = json.loads(result.stdout)
    outcomes = {Path(i["path"]).name: i["outcome"] for i in data["items"]}
    assert outcomes == {"good.txt": "new", "missing.txt": "failed"}
    assert b"1 item(s) failed" in result.stderr


def test_member_without_grant_cannot_see_collection(test_vault: TestVault) -> None:
    listing = test_vault.cli("collection", "list", "--json", member="carol", check=True)
    assert json.loads(listing.stdout) == []
    result = test_vault.cli("ls", "--collection", "leak", member="carol")
    assert result.returncode == 2
    assert b"no collection 'leak'" in result.stderr


def test_only_admins_add_members(test_vault: TestVault) -> None:
    secret = test_vault.secrets_dir / "new.pass"
    secret.write_text("x")
    result = test_vault.cli(
        "member",
        "add",
        "erin",
        "--role",
        "reporter",
        "--new-passphrase-file",
        str(secret),
        member="bob",
    )
    assert result.returncode == 3
    ok = test_vault.cli(
        "member", "add", "erin", "--role", "reporter", "--new-passphrase-file", str(secret)
    )
    assert ok.returncode == 0, ok.stderr


def test_cat_refuses_binary_to_a_terminal_only(test_vault: TestVault, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    data = json.loads(
        test_vault.cli("checkin", str(blob), "--collection", "leak", "--json", check=True).stdout
    )
    piped = test_vault.cli("cat", data["items"][0]["oid"])
    assert piped.returncode == 0
    assert piped.stdout == bytes(range(256)) * 4


def test_audit_show_and_verify(test_vault: TestVault, tmp_path: Path) -> None:
    test_vault.cli("ls", check=True)
    shown = json.loads(test_vault.cli("audit", "show", "--json", check=True).stdout)
    actions = [e["action"] for e in shown]
    assert actions[0] == "init"
    assert "list" in actions
    verified = json.loads(test_vault.cli("audit", "verify", "--json", check=True).stdout)
    assert verified["ok"] is True
    checkpoint = tmp_path / "cp.json"
    test_vault.cli("audit", "checkpoint", "--output", str(checkpoint), check=True)
    result = test_vault.cli("audit", "verify", "--checkpoint", str(checkpoint))
    assert result.returncode == 0, result.stderr


def test_demo_json(tmp_path: Path) -> None:
    result = run_cli("demo", str(tmp_path / "demo"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    roles = {m["name"]: m["roles"] for m in data["members"]}
    assert "editor-in-chief" in roles["alice"]
    assert roles["bob"] == ["reporter"]
    assert roles["carol"] == ["legal"]
    secret = tmp_path / "bob.pass"
    secret.write_text(next(m["passphrase"] for m in data["members"] if m["name"] == "bob"))
    listing = run_cli(
        "--vault",
        str(tmp_path / "demo"),
        "--as",
        "bob",
        "--passphrase-file",
        str(secret),
        "ls",
        "--json",
    )
    docs = json.loads(listing.stdout)
    assert len(docs) == data["documents"] >= 7
    assert any(d["status"] == "forged" for d in docs)
    flags = {flag for d in docs for flag in d["flags"]}
    assert {"pdf-active", "executable", "bidi-override"} <= flags
