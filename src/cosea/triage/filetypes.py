"""File type by content signature, and whether the file's extension agrees.

puremagic (a pure-Python signature database) is the authority. It walks hundreds
of signatures per call (about 0.4 ms), which on a corpus of small files costs as
much as hashing them, so the dozen signatures that make up nearly every seized
disk (JPEG, PNG, ZIP, PDF, MP4, …) are checked first from a small table; anything
else goes to puremagic.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import puremagic

HEAD_BYTES = 8192  # what detection looks at

# (offset, signature, extension, mime)
_COMMON: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (0, b"GIF87a", "gif", "image/gif"),
    (0, b"GIF89a", "gif", "image/gif"),
    (0, b"%PDF-", "pdf", "application/pdf"),
    (0, b"PK\x03\x04", "zip", "application/zip"),
    (0, b"PK\x05\x06", "zip", "application/zip"),
    (0, b"\x1f\x8b", "gz", "application/gzip"),
    (0, b"BZh", "bz2", "application/x-bzip2"),
    (0, b"\xfd7zXZ\x00", "xz", "application/x-xz"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z", "application/x-7z-compressed"),
    (0, b"II*\x00", "tif", "image/tiff"),
    (0, b"MM\x00*", "tif", "image/tiff"),
    (0, b"BM", "bmp", "image/bmp"),
    (257, b"ustar", "tar", "application/x-tar"),
)
_RIFF_KINDS = {
    b"WEBP": ("webp", "image/webp"),
    b"AVI ": ("avi", "video/x-msvideo"),
    b"WAVE": ("wav", "audio/wav"),
}
_FTYP_BRANDS = {
    b"heic": ("heic", "image/heic"),
    b"heix": ("heic", "image/heic"),
    b"mif1": ("heic", "image/heif"),
    b"avif": ("avif", "image/avif"),
    b"qt  ": ("mov", "video/quicktime"),
    b"M4A ": ("m4a", "audio/mp4"),
    b"3gp4": ("3gp", "video/3gpp"),
    b"3gp5": ("3gp", "video/3gpp"),
}

_ZIP_NAMES = frozenset({
    "zip", "docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "odt", "ods", "odp", "epub",
    "jar", "apk", "cbz", "xpi", "kmz", "ipa", "aar", "whl", "nupkg", "vsix", "xps", "oxps",
})  # fmt: skip
_DOCUMENTS = {
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "epub",
}  # fmt: skip

# Extensions that name the same content (a mismatch is only flagged across groups).
_ALIASES: tuple[frozenset[str], ...] = (
    frozenset({"jpg", "jpeg", "jpe", "jfif", "jfi", "jif"}),
    frozenset({"tif", "tiff", "dng", "nef", "cr2", "arw"}),
    frozenset({"heic", "heif", "hif", "avif"}),
    frozenset({"mp4", "m4v", "m4a", "mov", "3gp", "3g2", "qt", "f4v"}),
    frozenset({"htm", "html", "xhtml"}),
    frozenset({"gz", "tgz", "gzip"}),
    frozenset({"bz2", "tbz", "tbz2"}),
    frozenset({"xz", "txz"}),
    frozenset({"tar", "cbt"}),
    # ZIP containers under many names.
    _ZIP_NAMES,
    frozenset({"7z", "cb7"}),
)
# Text formats: any of these names fits content that is plain text.
_TEXT_EXTENSIONS = frozenset({
    "txt", "text", "log", "csv", "tsv", "json", "jsonl", "ndjson", "xml", "html", "htm", "md",
    "rst", "ini", "cfg", "conf", "yaml", "yml", "py", "js", "css", "sh", "bat", "srt", "vtt",
    "eml", "vcf", "ics", "rtf", "svg", "sql", "c", "h", "java", "toml", "",
})  # fmt: skip
_GROUPS = {
    "image": {"jpg", "png", "gif", "bmp", "tif", "webp", "heic", "avif", "ico", "psd", "jp2"},
    "video": {"mp4", "mov", "avi", "mkv", "webm", "wmv", "flv", "3gp", "mpg", "m2ts", "ts"},
    "audio": {"mp3", "wav", "m4a", "ogg", "flac", "aac", "wma"},
    "archive": {"zip", "gz", "bz2", "xz", "7z", "tar", "rar"},
    "document": _DOCUMENTS,
    "text": {"txt", "json", "jsonl", "xml", "csv", "html"},
    "executable": {"exe", "dll", "elf", "so", "dylib", "msi", "apk"},
}
# ZIP-based formats we do not open as archives by default (their parts are not evidence
# on their own and would bury the case in XML fragments).
DOCUMENT_CONTAINERS = frozenset(
    {"docx", "xlsx", "pptx", "docm", "xlsm", "pptm", "odt", "ods", "odp", "epub", "xps", "oxps"}
)


@dataclass(slots=True, frozen=True)
class FileType:
    extension: str | None  # detected, e.g. "jpg"; None when unknown
    mime: str | None
    group: str  # image | video | audio | archive | document | text | executable | other
    by_signature: bool  # True when a content signature (not a guess) decided


def extension_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return base.rsplit(".", 1)[-1].lower()


def _group(extension: str | None) -> str:
    if extension is None:
        return "other"
    for group, members in _GROUPS.items():
        if extension in members:
            return group
    return "other"


def _looks_like_text(head: bytes) -> bool:
    sample = head[:8192]
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(sample) - 4:
            return False
    return True


def detect(head: bytes, name: str = "") -> FileType:
    """Detect the type of content from its first bytes (4 KiB or more is best)."""
    for offset, signature, extension, mime in _COMMON:
        if head[offset : offset + len(signature)] == signature:
            return FileType(extension, mime, _group(extension), True)
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        extension, mime = _RIFF_KINDS[head[8:12]]
        return FileType(extension, mime, _group(extension), True)
    if head[4:8] == b"ftyp":
        extension, mime = _FTYP_BRANDS.get(head[8:12], ("mp4", "video/mp4"))
        return FileType(extension, mime, _group(extension), True)
    if _looks_like_text(head):
        return _text_type(head, name)
    if head:
        with contextlib.suppress(puremagic.PureError, ValueError, IndexError):
            matches = puremagic.magic_string(head[:65536])
            if matches:
                best = max(matches, key=lambda m: m.confidence)
                extension = best.extension.lstrip(".").lower() or None
                if extension == "jfif":
                    extension = "jpg"
                return FileType(extension, best.mime_type or None, _group(extension), True)
    return FileType(None, None, "other", False)


_TEXT_SIGNATURES = (
    ("<?xml", "xml", "application/xml"),
    ("<!doctype html", "html", "text/html"),
    ("<html", "html", "text/html"),
    ("{\\rtf", "rtf", "application/rtf"),
    ("<svg", "svg", "image/svg+xml"),
)


def _text_type(head: bytes, name: str) -> FileType:
    """Plain text (puremagic is skipped: its signatures are for binary formats)."""
    start = head[:256].lstrip(b"\xef\xbb\xbf \t\r\n").decode("utf-8", "ignore").lower()
    for prefix, extension, mime in _TEXT_SIGNATURES:
        if start.startswith(prefix):
            return FileType(extension, mime, "text", True)
    extension = extension_of(name)
    if extension in {"json", "jsonl", "ndjson", "xml", "csv", "html", "htm"}:
        return FileType(extension, None, "text", False)
    return FileType("txt", "text/plain", "text", False)


def _compatible(claimed: str, detected: str) -> bool:
    if claimed == detected:
        return True
    return any(claimed in group and detected in group for group in _ALIASES)


def _signed_extensions() -> frozenset[str]:
    known = {e for _, _, e, _ in _COMMON} | {"webp", "avi", "wav", "mp4", "mov", "heic"}
    names = set(known)
    for group in _ALIASES:
        if group & known:
            names |= group
    return frozenset(names)


# Extensions whose files always start with a signature we recognise (JPEG, ZIP, …).
_SIGNED = _signed_extensions()


def _claims_signature(extension: str) -> bool:
    return extension in _SIGNED


def extension_mismatch(name: str, detected: FileType) -> bool:
    """True when the name's extension contradicts the content.

    Only flagged where it means something: a signature was found and the extension
    names another type, or the extension names a signed type (JPEG, ZIP, …) and the
    content does not carry that signature. Files without an extension are not flagged.
    """
    claimed = extension_of(name)
    if not claimed:
        return False
    if detected.by_signature and detected.extension:
        if detected.group == "text" or detected.extension in {"json", "xml", "html", "txt"}:
            return claimed not in _TEXT_EXTENSIONS
        return not _compatible(claimed, detected.extension)
    return _claims_signature(claimed)


def archive_kind(detected: FileType, name: str) -> str | None:
    """Which archive reader opens this content, or None (documents stay closed)."""
    extension = detected.extension
    if extension == "zip":
        return None if extension_of(name) in DOCUMENT_CONTAINERS else "zip"
    if extension in {"tar", "7z"}:
        return extension
    if extension in {"gz", "bz2", "xz"}:
        return "compressed"  # a compressed tar, or one compressed file
    return None
