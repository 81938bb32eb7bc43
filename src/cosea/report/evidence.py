"""Signed evidence packages: one zip per alert or case, and their verification.

A package holds the messages (JSON and a readable HTML transcript), media references
with their hashes (the files themselves only where the report policy allows), the
accounts and platform, the assessment with its evidence, the decisions, the item's
audit trail and the stakeholder playbooks. ``manifest.json`` lists every member with
its SHA-256 and size; ``manifest.sig`` is the Ed25519 signature of the manifest's
exact bytes made with the installation's key; ``public_key.pem`` is that key (also
listed in the manifest). Verification checks the signature first, then every member,
and names each difference: an altered member, a missing one, an extra one, or a
signature that does not match.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cosea import __version__
from cosea.errors import InputError
from cosea.report import keys
from cosea.report.naming import technique_info
from cosea.report.policy import ReportPolicy, load_policy
from cosea.report.source import ReportItem

FORMAT = "cosea-evidence-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
UNSIGNED = frozenset({MANIFEST, SIGNATURE})
PLAYBOOK_AUDIENCES = ("platform", "law-enforcement")

README = """\
cosea evidence package
======================

{label}, packaged {created} by cosea {version}.

Members (each listed with its SHA-256 in manifest.json):
{members}

The manifest is signed with Ed25519 (manifest.sig, base64) by the installation key
whose public half is public_key.pem, fingerprint (SHA-256 of the raw key):

    {fingerprint}

Check the package before relying on it:

    cosea report verify {name} --public-key <the sender's published public key>

Without --public-key the key inside the package is used, which proves the package is
unchanged since it was signed but not who signed it: compare the fingerprint above
with the one the sender publishes.
{notes}"""

DESCRIPTIONS = {
    "README.txt": "what this package is and how to verify it",
    "item.json": "the alert or case: state, class, risk, stage, techniques",
    "messages.json": "the conversations' messages with the evidence on each",
    "transcript.html": "readable transcript, evidence highlighted, techniques named",
    "accounts.json": "platform and account details of the participants",
    "assessment.json": "the assessment(s) and every piece of evidence behind them",
    "media.json": "media references with hashes and list matches",
    "decisions.json": "reviewers' decisions, who and when",
    "audit.json": "the item's audit trail and the log's verification",
    "playbooks.json": "recommended actions for the platform and law enforcement",
    PUBLIC_KEY: "the installation's Ed25519 public key (PEM)",
}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class PackageWritten:
    path: Path
    members: int
    key_fingerprint: str
    manifest_sha256: str
    media_files: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "members": self.members,
            "key_fingerprint": self.key_fingerprint,
            "manifest_sha256": self.manifest_sha256,
            "media_files": self.media_files,
            "notes": self.notes,
        }


def _display_names(item: ReportItem, pseudonymise: bool) -> dict[str, str]:
    if not pseudonymise:
        return {}
    names = {}
    for conversation in item.conversations:
        for participant in conversation.participants:
            pid = str(participant.get("id"))
            names[pid] = item.pseudonymize("participant", conversation.platform, pid) or pid
    if item.suspect and item.suspect not in names:
        names[item.suspect] = item.pseudonymize("participant", item.platform, item.suspect) or ""
    return names


def _swap(value: Any, names: dict[str, str]) -> Any:
    return names.get(value, value) if isinstance(value, str) else value


def _members(
    item: ReportItem, policy: ReportPolicy, include_media: bool
) -> tuple[dict[str, bytes], list[str]]:
    from cosea.report.playbook import build_playbook
    from cosea.report.transcript import render_transcript

    notes: list[str] = []
    names = _display_names(item, policy.pseudonymises("evidence"))
    if names:
        notes.append("account identifiers are pseudonymised (report policy: evidence)")
    sightings = item.sightings()
    summary = item.summary()
    summary["suspect"] = _swap(summary["suspect"], names)
    summary["techniques"] = [
        {
            **technique_info(t),
            "count": s.count,
            "first_seen": s.first_seen.isoformat() if s.first_seen else None,
            "last_seen": s.last_seen.isoformat() if s.last_seen else None,
        }
        for t, s in sightings.items()
    ]
    messages = [
        {
            "conversation": c.id,
            "platform": c.platform,
            "location": c.location,
            "note": c.note,
            "messages": [{**m.to_dict(), "from": _swap(m.sender, names)} for m in c.messages],
        }
        for c in item.conversations
    ]
    accounts = {
        "platform": item.platform,
        "conversations": [
            {
                "conversation": c.id,
                "platform": c.platform,
                "suspect": _swap(c.suspect, names),
                "participants": [
                    {
                        **(
                            {k: v for k, v in p.items() if k not in {"display_name"}}
                            if names
                            else p
                        ),
                        "id": _swap(str(p.get("id")), names),
                        "role": "suspect"
                        if str(p.get("id")) == (c.suspect or item.suspect)
                        else "participant",
                    }
                    for p in c.participants
                ],
            }
            for c in item.conversations
        ],
    }
    assessments = []
    for c in item.conversations:
        assessment = json.loads(json.dumps(c.assessment or {}, default=str))
        if names:
            assessment["suspect"] = _swap(assessment.get("suspect"), names)
            for entry in assessment.get("evidence", []):
                entry["speaker"] = _swap(entry.get("speaker"), names)
            for entry in assessment.get("context", []):
                entry["participant"] = _swap(entry.get("participant"), names)
        assessments.append({"conversation": c.id, "assessment": assessment})

    members: dict[str, bytes] = {
        "item.json": _json(summary),
        "messages.json": _json(messages),
        "transcript.html": render_transcript(item, display=names).encode("utf-8"),
        "accounts.json": _json(accounts),
        "assessment.json": _json(assessments),
        "decisions.json": _json(item.decisions),
        "audit.json": _json({"check": item.audit_check, "entries": item.audit}),
    }
    media_entries = []
    for medium in item.media:
        entry = medium.to_dict()
        entry["file"] = None
        if include_media and medium.reader is not None:
            try:
                data = medium.reader()
            except Exception as error:  # the evidence may be gone; the hashes still stand
                notes.append(f"{medium.ref}: file not included ({error})")
            else:
                if medium.sha256 and sha256_hex(data) != medium.sha256:
                    notes.append(f"{medium.ref}: file not included (its SHA-256 changed)")
                else:
                    suffix = Path(medium.filename or "").suffix.lower()[:8]
                    name = f"media/{sha256_hex(data)}{suffix}"
                    members[name] = data
                    entry["file"] = name
        media_entries.append(entry)
    members["media.json"] = _json(media_entries)
    techniques = list(sightings)
    members["playbooks.json"] = _json(
        {
            audience: build_playbook(techniques, audience, policy.country, item=item).to_dict()
            for audience in PLAYBOOK_AUDIENCES
        }
    )
    return members, notes


def write_evidence_package(
    item: ReportItem,
    out: Path | str,
    *,
    policy: ReportPolicy | None = None,
    include_media: bool | None = None,
) -> PackageWritten:
    """Write the signed package for ``item`` to ``out`` (a .zip) and record the export."""
    policy = policy or load_policy()
    out = Path(out)
    notes: list[str] = []
    wanted = policy.include_media_files if include_media is None else include_media
    allowed = policy.include_media_files and item.media_storage_allowed
    if wanted and not allowed:
        notes.append(
            "media files left out: "
            + (
                "the report policy does not allow them (include_media_files)"
                if not policy.include_media_files
                else "the service does not allow storing media"
            )
        )
    members, member_notes = _members(item, policy, wanted and allowed)
    notes += member_notes
    key = keys.signing_key()
    members[PUBLIC_KEY] = keys.public_pem(key.public_key)
    created = _now()
    members["README.txt"] = README.format(
        label=item.label,
        created=created,
        version=__version__,
        members="\n".join(
            f"  {name:<18} {DESCRIPTIONS.get(name, 'media file')}"
            for name in sorted([*members, "README.txt"])
        ),
        fingerprint=key.fingerprint,
        name=out.name,
        notes=("\nNotes:\n" + "\n".join(f"  - {n}" for n in notes) + "\n") if notes else "",
    ).encode("utf-8")
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": created,
        "generator": f"cosea {__version__}",
        "item": {"kind": item.kind, "id": item.id, "label": item.label},
        "signature": {
            "algorithm": "Ed25519",
            "signed": MANIFEST,
            "signature_member": SIGNATURE,
            "public_key_member": PUBLIC_KEY,
            "key_fingerprint": key.fingerprint,
        },
        "policy": {
            "media_files": any(name.startswith("media/") for name in members),
            "pseudonymised": policy.pseudonymises("evidence"),
        },
        "notes": notes,
        "members": [
            {
                "path": name,
                "sha256": sha256_hex(data),
                "size": len(data),
                "description": DESCRIPTIONS.get(name, "media file"),
            }
            for name, data in sorted(members.items())
        ],
    }
    manifest_bytes = _json(manifest)
    signature = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, signature)
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
    partial.replace(out)
    media_files = sum(1 for name in members if name.startswith("media/"))
    written = PackageWritten(
        path=out,
        members=len(members) + 2,
        key_fingerprint=key.fingerprint,
        manifest_sha256=sha256_hex(manifest_bytes),
        media_files=media_files,
        notes=notes,
    )
    item.record(
        "evidence",
        {
            "file": out.name,
            "manifest_sha256": written.manifest_sha256,
            "key_fingerprint": key.fingerprint,
            "members": written.members,
            "media_files": media_files,
        },
    )
    return written


# -- verification ---------------------------------------------------------------------------


@dataclass(slots=True)
class Difference:
    kind: str  # altered | missing | extra | bad-signature | unreadable | key-mismatch
    member: str | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.member}: " if self.member else ""
        return f"{self.kind}: {where}{self.detail}"


@dataclass(slots=True)
class PackageCheck:
    path: Path
    differences: list[Difference]
    members_checked: int = 0
    key_fingerprint: str | None = None
    key_source: str = "package"  # package | pinned
    signed_by_this_installation: bool = False
    item: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "members_checked": self.members_checked,
            "key_fingerprint": self.key_fingerprint,
            "key_source": self.key_source,
            "signed_by_this_installation": self.signed_by_this_installation,
            "item": self.item,
            "differences": [
                {"kind": d.kind, "member": d.member, "detail": d.detail} for d in self.differences
            ],
        }


def _installation_fingerprint() -> str | None:
    path = keys.keys_dir() / keys.PUBLIC_KEY_FILE
    if not path.is_file():
        return None
    try:
        return keys.fingerprint(keys.load_public_key(path.read_bytes(), path))
    except InputError:
        return None


def verify_package(path: Path | str, public_key: Path | str | bytes | None = None) -> PackageCheck:
    """Check the signature and every member; each difference is named.

    ``public_key`` pins the signer (a PEM file, or its bytes); without it the key in the
    package is used, which proves integrity but not origin.
    """
    path = Path(path)
    check = PackageCheck(path=path, differences=[])
    problems = check.differences
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise InputError(path, f"not a readable zip file ({error})") from None
    with archive:
        names = [info.filename for info in archive.infolist()]
        contents: dict[str, bytes] = {}
        for name in dict.fromkeys(names):
            if names.count(name) > 1:
                problems.append(
                    Difference("extra", name, f"appears {names.count(name)} times in the zip")
                )
            try:
                contents[name] = archive.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                problems.append(Difference("unreadable", name, str(error)))
    if MANIFEST not in contents:
        problems.append(Difference("missing", MANIFEST, "the package has no manifest"))
        return check
    try:
        manifest = json.loads(contents[MANIFEST])
        listed = {entry["path"]: entry for entry in manifest["members"]}
        recorded_fingerprint = manifest["signature"]["key_fingerprint"]
    except (ValueError, KeyError, TypeError) as error:
        problems.append(Difference("unreadable", MANIFEST, f"not a cosea manifest ({error})"))
        return check
    check.item = manifest.get("item")

    if public_key is not None:
        source = "--public-key" if isinstance(public_key, bytes) else str(public_key)
        try:
            data = public_key if isinstance(public_key, bytes) else Path(public_key).read_bytes()
        except OSError as error:
            raise InputError(source, f"cannot read the public key ({error.strerror})") from None
        verifier = keys.load_public_key(data, source)
        check.key_source = "pinned"
    elif PUBLIC_KEY in contents:
        verifier = keys.load_public_key(contents[PUBLIC_KEY], f"{path}!/{PUBLIC_KEY}")
    else:
        verifier = None
        problems.append(
            Difference("missing", PUBLIC_KEY, "no public key in the package; pass --public-key")
        )
    if verifier is not None:
        check.key_fingerprint = keys.fingerprint(verifier)
        check.signed_by_this_installation = check.key_fingerprint == _installation_fingerprint()
        if SIGNATURE not in contents:
            problems.append(Difference("missing", SIGNATURE, "the package is not signed"))
        else:
            try:
                signature = base64.b64decode(contents[SIGNATURE].strip(), validate=True)
            except ValueError:
                signature = b""
            if not keys.signature_valid(verifier, signature, contents[MANIFEST]):
                problems.append(
                    Difference(
                        "bad-signature",
                        MANIFEST,
                        f"the signature does not match the manifest under key "
                        f"{check.key_fingerprint[:16]}… ({check.key_source}): the manifest was "
                        "changed or replaced, or another key signed it",
                    )
                )
        if check.key_fingerprint != recorded_fingerprint:
            problems.append(
                Difference(
                    "key-mismatch",
                    PUBLIC_KEY,
                    f"the manifest names key {recorded_fingerprint[:16]}… but the key used is "
                    f"{check.key_fingerprint[:16]}…",
                )
            )

    for name, entry in listed.items():
        if name not in contents:
            problems.append(Difference("missing", name, "listed in the manifest, not in the zip"))
            continue
        data = contents[name]
        check.members_checked += 1
        actual = sha256_hex(data)
        if actual != entry.get("sha256") or len(data) != entry.get("size"):
            problems.append(
                Difference(
                    "altered",
                    name,
                    f"SHA-256 {actual[:16]}… ({len(data)} bytes) differs from the manifest's "
                    f"{str(entry.get('sha256'))[:16]}… ({entry.get('size')} bytes)",
                )
            )
    for name in contents:
        if name not in listed and name not in UNSIGNED:
            problems.append(Difference("extra", name, "in the zip but not in the manifest"))
    return check
