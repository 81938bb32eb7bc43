"""Evidence packages from the demo alert: contents, signature, and every kind of tampering."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError
from cosea.report import keys
from cosea.report.evidence import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    verify_package,
    write_evidence_package,
)
from cosea.report.policy import ReportPolicy

EXPECTED_MEMBERS = {
    "README.txt",
    "item.json",
    "messages.json",
    "transcript.html",
    "accounts.json",
    "assessment.json",
    "media.json",
    "decisions.json",
    "audit.json",
    "playbooks.json",
    PUBLIC_KEY,
}


@pytest.fixture()
def package(sextortion_item: Any, tmp_path: Path) -> Path:
    out = tmp_path / "evidence.zip"
    write_evidence_package(sextortion_item, out)
    return out


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """Copy a zip, replacing members (bytes) or dropping them (None); new names are added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    new.writestr(info.filename, data)
                continue
            new.writestr(info.filename, old.read(info.filename))
        for name, data in change.items():
            if data is not None and name not in old.namelist():
                new.writestr(name, data)
    return target


def _kinds(result: Any) -> set[tuple[str, str | None]]:
    return {(d.kind, d.member) for d in result.differences}


def test_package_holds_every_part_and_verifies(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read(MANIFEST))
        messages = json.loads(archive.read("messages.json"))
        media = json.loads(archive.read("media.json"))
        decisions = json.loads(archive.read("decisions.json"))
        audit = json.loads(archive.read("audit.json"))
        accounts = json.loads(archive.read("accounts.json"))
        assessment = json.loads(archive.read("assessment.json"))
    assert names == EXPECTED_MEMBERS | {MANIFEST, SIGNATURE}
    assert {m["path"] for m in manifest["members"]} == EXPECTED_MEMBERS
    assert all(len(m["sha256"]) == 64 for m in manifest["members"])
    assert manifest["signature"]["algorithm"] == "Ed25519"
    # messages with their evidence
    (conversation,) = messages
    assert len(conversation["messages"]) == 9
    flagged = [m for m in conversation["messages"] if m["techniques"]]
    assert any("T0702" in m["techniques"] for m in flagged)
    # media references with hashes, no file by default
    assert len(media) == 2
    assert all(len(m["hashes"]["sha256"]) == 64 and m["file"] is None for m in media)
    assert any(m["matches"] for m in media)
    # accounts, assessment, decisions and audit trail
    roles = {p["id"]: p["role"] for p in accounts["conversations"][0]["participants"]}
    assert roles == {"u1": "participant", "u2": "suspect"}
    assert assessment[0]["assessment"]["class"] == "sextortion"
    assert assessment[0]["assessment"]["evidence"]
    assert decisions[0]["action"] == "escalate" and decisions[0]["decided_by"]
    actions = {entry["action"] for entry in audit["entries"]}
    assert {"alert.decision", "alert.read"} <= actions
    assert audit["check"]["intact"] is True

    result = verify_package(package)
    assert result.ok, [str(d) for d in result.differences]
    assert result.members_checked == len(EXPECTED_MEMBERS)
    assert result.signed_by_this_installation


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.marks: list[str] = []
        self.links: list[str] = []
        self._in_mark = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_mark = tag == "mark"
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.links.append(value)
            if tag == "mark" and name == "title":
                self.marks.append(value or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark = False


def test_transcript_highlights_evidence_names_techniques_and_is_self_contained(
    package: Path,
) -> None:
    with zipfile.ZipFile(package) as archive:
        html = archive.read("transcript.html").decode("utf-8")
    page = _Page()
    page.feed(html)
    assert "script" not in page.tags
    assert page.links == []  # nothing loaded from anywhere
    assert any("T0702 Financial demand" in title for title in page.marks)
    assert "Exposure threat" in html and "TA07" in html
    assert "<mark" in html and "pay me" in html


def test_signing_key_is_made_once_private_and_exported(
    package: Path, sextortion_item: Any, tmp_path: Path, cosea_home: Path
) -> None:
    key_file = cosea_home / "keys" / keys.SIGNING_KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = keys.signing_key().fingerprint
    write_evidence_package(sextortion_item, tmp_path / "second.zip")
    assert keys.signing_key().fingerprint == first
    with zipfile.ZipFile(package) as archive:
        exported = keys.load_public_key(archive.read(PUBLIC_KEY), "package")
    assert keys.fingerprint(exported) == first


def test_altered_member_is_named(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        text = archive.read("messages.json").replace(b"pay me", b"pay us")
    altered = _rewrite(package, tmp_path / "altered.zip", {"messages.json": text})
    result = verify_package(altered)
    assert not result.ok
    assert _kinds(result) == {("altered", "messages.json")}


def test_removed_member_is_named(package: Path, tmp_path: Path) -> None:
    removed = _rewrite(package, tmp_path / "removed.zip", {"decisions.json": None})
    assert _kinds(verify_package(removed)) == {("missing", "decisions.json")}


def test_extra_member_is_named(package: Path, tmp_path: Path) -> None:
    extra = _rewrite(package, tmp_path / "extra.zip", {"notes.txt": b"added later"})
    assert _kinds(verify_package(extra)) == {("extra", "notes.txt")}


def test_swapped_manifest_fails_the_signature(
    package: Path, grooming_item: Any, tmp_path: Path
) -> None:
    other = tmp_path / "other.zip"
    write_evidence_package(grooming_item, other)
    with zipfile.ZipFile(other) as archive:
        foreign_manifest = archive.read(MANIFEST)
        foreign_signature = archive.read(SIGNATURE)
    swapped = _rewrite(package, tmp_path / "swapped.zip", {MANIFEST: foreign_manifest})
    kinds = _kinds(verify_package(swapped))
    assert ("bad-signature", MANIFEST) in kinds
    # Swapping the signature along with the manifest makes it verify, but then the
    # members no longer match what that manifest lists.
    both = _rewrite(
        package,
        tmp_path / "both.zip",
        {MANIFEST: foreign_manifest, SIGNATURE: foreign_signature},
    )
    result = verify_package(both)
    assert not result.ok
    assert {kind for kind, _ in _kinds(result)} == {"altered"}


def test_wrong_key_fails_the_signature(package: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pub.pem"
    other.write_bytes(keys.public_pem(Ed25519PrivateKey.generate().public_key()))
    result = verify_package(package, public_key=other)
    assert result.key_source == "pinned"
    assert ("bad-signature", MANIFEST) in _kinds(result)
    assert ("key-mismatch", PUBLIC_KEY) in _kinds(result)
    pinned = tmp_path / "right.pub.pem"
    pinned.write_bytes(keys.public_pem(keys.signing_key().public_key))
    assert verify_package(package, public_key=pinned).ok


def test_forged_signature_and_not_a_zip(package: Path, tmp_path: Path) -> None:
    forged = _rewrite(package, tmp_path / "forged.zip", {SIGNATURE: b"AAAA\n"})
    assert ("bad-signature", MANIFEST) in _kinds(verify_package(forged))
    with pytest.raises(InputError, match="cannot read the public key"):
        verify_package(package, public_key=tmp_path / "missing.pem")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match=r"junk\.zip"):
        verify_package(junk)


def test_cli_evidence_and_verify(
    demo_service: dict[str, Any], package: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "cli.zip"
    alert = str(demo_service["alerts"]["demo-en-01"])
    made = runner.invoke(
        app,
        [
            "report",
            "evidence",
            alert,
            "--out",
            str(out),
            "--database-url",
            demo_service["database_url"],
            "--data-dir",
            demo_service["data_dir"],
        ],
    )
    assert made.exit_code == 0, made.output
    assert out.is_file() and "signed with Ed25519" in made.output
    good = runner.invoke(app, ["report", "verify", str(out)])
    assert good.exit_code == 0 and "verified" in good.output
    removed = _rewrite(package, tmp_path / "removed.zip", {"audit.json": None})
    bad = runner.invoke(app, ["report", "verify", str(removed)])
    assert bad.exit_code == 1
    assert "missing: audit.json" in bad.output and "FAILED" in bad.output
    as_json = runner.invoke(app, ["report", "verify", str(removed), "--json"])
    assert json.loads(as_json.output)["differences"][0]["member"] == "audit.json"


def test_media_files_only_where_the_policy_allows(
    sextortion_item: Any, tmp_path: Path, set_policy: Any
) -> None:
    asked = write_evidence_package(sextortion_item, tmp_path / "asked.zip", include_media=True)
    assert asked.media_files == 0
    assert any("report policy does not allow" in note for note in asked.notes)
    set_policy("include_media_files: true\n")
    allowed = write_evidence_package(sextortion_item, tmp_path / "allowed.zip")
    assert allowed.media_files == 2
    with zipfile.ZipFile(tmp_path / "allowed.zip") as archive:
        media = json.loads(archive.read("media.json"))
        for entry in media:
            data = archive.read(entry["file"])
            import hashlib

            assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"]
    assert verify_package(tmp_path / "allowed.zip").ok
    withheld = write_evidence_package(
        sextortion_item, tmp_path / "withheld.zip", include_media=False
    )
    assert withheld.media_files == 0


def test_pseudonymised_package_holds_no_account_ids(sextortion_item: Any, tmp_path: Path) -> None:
    policy = ReportPolicy(pseudonymise=["evidence"])
    write_evidence_package(sextortion_item, tmp_path / "ps.zip", policy=policy)
    with zipfile.ZipFile(tmp_path / "ps.zip") as archive:
        accounts = json.loads(archive.read("accounts.json"))
        messages = json.loads(archive.read("messages.json"))
        transcript = archive.read("transcript.html").decode()
    ids = {p["id"] for p in accounts["conversations"][0]["participants"]}
    assert all(i.startswith("ps_") for i in ids)
    assert {m["from"] for m in messages[0]["messages"]} <= ids
    assert "mia_x_17" not in transcript and "leo.skates" not in transcript


def test_exports_and_reads_are_audited(
    demo_service: dict[str, Any], sextortion_item: Any, tmp_path: Path
) -> None:
    from cosea.service import audit

    write_evidence_package(sextortion_item, tmp_path / "audited.zip")
    with demo_service["runtime"].engine.connect() as connection:
        entries = audit.browse(
            connection, target_type="alert", target_id=sextortion_item.id, limit=500
        )
        chain = audit.verify(connection)
    actions = [e["action"] for e in entries]
    assert "report.evidence" in actions
    reads = [e for e in entries if e["action"] == "alert.read"]
    assert any(e["details"].get("via") == "report" for e in reads)
    assert chain.ok
