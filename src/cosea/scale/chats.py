"""Conversation analysis on a Dask cluster, with the same predictions as one process.

The input is cut into shards: a JSON Lines file (one conversation per line) into
line-aligned byte ranges, any other file whole. Then, wave by wave:

1. **read** (one task per shard, on the workers): the shard is read with the
   chat readers and grouped into conversations. Each conversation's header, as it
   stood when its first message arrived, goes back to the driver; the messages stay
   on the worker.
2. **batch context** (the driver, in input order): cross-conversation signals (one
   account contacting many young accounts, T0105; recycled accounts, T0203) depend
   on every conversation that started before, so the driver runs the chats batch
   context over the headers in the order a single process would meet them. This is
   cheap: one header and one message per conversation.
3. **analyse** (one task per partition): each conversation is analysed message by
   message with its batch findings, and the task writes its predictions to the
   database in one idempotent batch.

Partitions keep every conversation's messages together. For sources that group
messages by conversation (JSON Lines, PAN12, WhatsApp, Telegram, Discord) a shard's
conversations are analysed where they were read: nothing moves between workers. For
sources that interleave conversations (CSV), every shard splits its conversations
into hash partitions by conversation id (a stable hash, the same on every worker),
and partition *p* gathers part *p* of every shard, so a conversation spread over
many files is analysed whole, as a single process would with ``grouped=False``.

Predictions keep the single-process order: grouped sources in the order
conversations appear, interleaved sources in the order of their last message.
"""

from __future__ import annotations

import json
import tempfile
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cosea.errors import InputError
from cosea.scale import cluster, inputs, results
from cosea.types import Conversation, Message

SHARD_BITS = 32
MiB = 1 << 20
MIN_SPLIT = 1 * MiB
MAX_SPLIT = 64 * MiB
#: Conversations a single process keeps recent ids of, to notice a reopened one.
RECENT_IDS = 4096


@dataclass(frozen=True, slots=True)
class Shard:
    """A piece of input one task reads: a whole file, or a line-aligned byte range."""

    index: int
    location: str  # a local path or a URL
    label: str  # the file as the user named it (reports and errors)
    reader: str | None  # the reader's name when known, else detected by the task
    start: int = 0
    end: int | None = None  # None: to the end of the file
    counts_file: bool = True  # the one shard of a file that counts it in the read report
    split: bool = False  # part of a file cut into byte ranges


@dataclass(slots=True)
class Unit:
    """One conversation as read from one shard, with what replays its header's growth.

    A streamed header gains participants as new authors speak, and the analyser looks
    newcomers up in that growing list; ``first_count`` and ``grow_at`` let a worker
    replay the list exactly as a single process would have seen it.
    """

    position: int  # (shard << 32) | index of its first message in the shard
    last: int  # the same for its last message
    header: Conversation  # the reader's header (all participants by the end); no messages
    first_count: int  # participants when the first message arrived
    grow_at: list[int] = field(default_factory=list)  # message index each later one joined
    messages: list[Message] = field(default_factory=list)

    def add(self, message: Message, position: int) -> None:
        joined = len(self.header.participants) - self.first_count - len(self.grow_at)
        self.grow_at.extend([len(self.messages)] * joined)
        self.messages.append(message)
        self.last = position

    def replay(self) -> Iterator[tuple[Conversation, Message]]:
        """``(header, message)`` pairs with the header's participants growing as they did."""
        everyone = self.header.participants
        header = replace(self.header, participants=list(everyone[: self.first_count]))
        joined = self.first_count
        for index, message in enumerate(self.messages):
            while joined < len(everyone) and self.grow_at[joined - self.first_count] <= index:
                header.participants.append(everyone[joined])
                joined += 1
            yield header, message


@dataclass(slots=True)
class Head:
    """What the driver needs of a conversation for the batch context."""

    position: int
    conversation_id: str
    header: Conversation
    first: Message


@dataclass
class ChatsRun:
    """What a distributed analysis did."""

    run_id: str
    database_url: str
    scheduler: str
    workers: int
    shards: int
    partitions: int
    conversations: int = 0
    messages: int = 0
    alerts: int = 0
    written: int = 0  # rows new in the database (fewer on a resumed run)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of every task on the workers
    read_seconds: float = 0.0
    report: Any = None  # cosea.chats.io.ReadReport, merged over shards
    notes: list[str] = field(default_factory=list)
    out: str | None = None
    out_lines: int = 0

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "scheduler": self.scheduler,
            "workers": self.workers,
            "shards": self.shards,
            "partitions": self.partitions,
            "conversations": self.conversations,
            "messages": self.messages,
            "alerts": self.alerts,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages_per_second, 1),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "out": self.out,
        }


# --- planning (driver) -----------------------------------------------------------------


def _is_compressed(head: bytes) -> bool:
    return head[:2] == b"\x1f\x8b" or head[:3] == b"BZh"


def _detect(file: inputs.InputFile, folder: Path) -> str | None:
    """The reader a single process would pick for this file, from its name and start."""
    from cosea.chats.io import detect_reader

    if not file.remote:
        try:
            return detect_reader(inputs.local_path(file.location))
        except InputError:
            return None
    # The start of the object under its own name is all detection looks at (zip
    # exports excepted: the task that fetches the whole file detects those).
    probe = folder / (file.name or "object")
    try:
        probe.write_bytes(inputs.head_bytes(file.location))
        return detect_reader(probe)
    except InputError:
        return None
    finally:
        probe.unlink(missing_ok=True)


def _expand(paths: Sequence[str | Path]) -> list[inputs.InputFile]:
    files: list[inputs.InputFile] = []
    for raw in paths:
        text = inputs.restore_url(raw)
        if inputs.is_remote(text):
            files.extend(inputs.expand_remote(text))
            continue
        local = inputs.local_path(text)
        size = Path(local).stat().st_size if Path(local).is_file() else None
        # A missing file is the reader's to report (as a single process does).
        files.append(inputs.InputFile(local, local, size))
    return files


def plan_shards(
    paths: Sequence[str | Path],
    reader: str | None,
    options: dict[str, Any],
    *,
    workers: int = 1,
    split_bytes: int | None = None,
) -> tuple[list[Shard], bool]:
    """Shards in input order, and whether the sources interleave conversations.

    JSON Lines files larger than ``split_bytes`` (default: about four shards per
    worker, between 1 and 64 MiB) are cut into line-aligned byte ranges.
    """
    files = _expand(paths)
    if split_bytes is None:
        total = sum(f.size or 0 for f in files)
        split_bytes = int(min(MAX_SPLIT, max(MIN_SPLIT, total // max(1, workers * 4))))
    shards: list[Shard] = []
    grouped_option = str(options.get("grouped", "")).lower() in {"1", "true", "yes", "on"}
    interleaved = False
    with tempfile.TemporaryDirectory(prefix="cosea-detect-") as folder:
        for file in files:
            name = reader or _detect(file, Path(folder))
            if name == "csv" and not grouped_option:
                interleaved = True
            splittable = (
                name == "jsonl"
                and file.size is not None
                and file.size > split_bytes
                and not _is_compressed(inputs.head_bytes(file.location, 4))
            )
            ranges = inputs.split_ranges(file.size or 0, split_bytes) if splittable else [(0, None)]
            for number, (start, end) in enumerate(ranges):
                shards.append(
                    Shard(
                        index=len(shards),
                        location=file.location,
                        label=file.label,
                        reader=name if splittable else reader,
                        start=start,
                        end=end,
                        counts_file=number == 0,
                        split=splittable,
                    )
                )
    return shards, interleaved


# --- read (worker) ---------------------------------------------------------------------


def _snapshot(header: Conversation, label: str) -> Conversation:
    """The header as it stands now: later authors added to the reader's header do not show."""
    return Conversation(
        id=header.id,
        participants=list(header.participants),
        messages=[],
        platform=header.platform,
        language=header.language,
        source=label,
        label=None,  # predicting never reads labels; they need not travel
    )


def _materialise(shard: Shard, folder: Path) -> tuple[Path, list[int] | None]:
    """A local file holding the shard's text, and the byte offset of each of its lines."""
    if shard.split:
        target = folder / (shard.location.rstrip("/").rsplit("/", 1)[-1] or "shard.jsonl")
        offsets: list[int] = []
        with inputs.open_input(shard.location) as source, target.open("wb") as sink:
            for offset, line in inputs.line_range(source, shard.start, shard.end):
                offsets.append(offset)
                sink.write(line)
        return target, offsets
    return inputs.fetch(shard.location, folder), None


def _error_dict(error: InputError, local: Path, shard: Shard, offsets: list[int] | None) -> dict:
    source = error.source
    problem = error.problem
    line = error.line
    if source is not None and source == str(local):
        source = shard.label
        if offsets is not None and line is not None:
            # Line numbers of a byte range are not the file's: give the byte offset.
            if 0 < line <= len(offsets):
                problem = f"{problem} (the line at byte {offsets[line - 1]})"
            line = None
    return {"source": source, "problem": problem, "line": line, "entry": error.entry}


def partition_of(conversation_id: str, partitions: int) -> int:
    """A stable hash partition (Python's own hash differs between processes)."""
    return zlib.crc32(conversation_id.encode("utf-8", "surrogatepass")) % partitions


def read_shard(
    shard: Shard,
    reader: str | None,
    strict: bool,
    options: dict[str, Any],
    interleaved: bool,
    partitions: int,
) -> dict[str, Any]:
    """Task: read one shard into conversations (see the module docstring, step 1)."""
    with cluster.gc_paused():
        return _read_shard(shard, reader, strict, options, interleaved, partitions)


def _read_shard(
    shard: Shard,
    reader: str | None,
    strict: bool,
    options: dict[str, Any],
    interleaved: bool,
    partitions: int,
) -> dict[str, Any]:
    from cosea.chats.io import ReadReport, get_reader, stream_messages

    cluster.tune_worker_process()
    cpu_started = time.process_time()
    report = ReadReport()
    name = shard.reader or reader
    if shard.split and reader is None:
        accepted = get_reader("jsonl").accepted_options()
        options = {k: v for k, v in options.items() if k in accepted}
    units: list[Unit] = []
    by_id: dict[str, Unit] = {}
    base = shard.index << SHARD_BITS
    with tempfile.TemporaryDirectory(prefix="cosea-shard-") as folder:
        try:
            local, offsets = _materialise(shard, Path(folder))
        except InputError as error:
            return {"failure": _error_dict(error, Path(), shard, None)}
        current: Unit | None = None
        heads: list[Head] = []
        try:
            pairs = stream_messages([local], reader=name, strict=strict, report=report, **options)
            for index, (header, message) in enumerate(pairs):
                position = base | index
                unit = by_id.get(header.id) if interleaved else current
                if unit is None or unit.header.id != header.id:
                    # The reader's own header object: it keeps growing while it is read.
                    unit = Unit(position, position, header, len(header.participants))
                    units.append(unit)
                    by_id[header.id] = current = unit
                    heads.append(Head(position, header.id, _snapshot(header, shard.label), message))
                unit.add(message, position)
        except InputError as error:
            return {"failure": _error_dict(error, local, shard, offsets)}
        errors = [_error_dict(e, local, shard, offsets) for e in report.errors]
        warnings = [w.replace(str(local), shard.label) for w in report.warnings]
    for unit in units:  # detach from the reader: final participants, no label
        unit.header = replace(unit.header, messages=[], source=shard.label, label=None)
    counts = {
        "files": report.files if shard.counts_file else 0,
        "conversations": report.conversations,
        "messages": report.messages,
        "skipped": report.skipped,
        "ignored": report.ignored,
    }
    if interleaved:
        parts: list[list[Unit]] = [[] for _ in range(partitions)]
        for unit in units:
            parts[partition_of(unit.header.id, partitions)].append(unit)
        body: Any = parts
    else:
        body = units
    return {
        "heads": heads,
        "units": body,
        "counts": counts,
        "errors": errors,
        "warnings": warnings,
        "cpu_seconds": time.process_time() - cpu_started,
    }


def _heads_of(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "units"}


def _part_of(result: dict[str, Any], partition: int) -> list[Unit]:
    return result["units"][partition]


# --- analyse (worker) ------------------------------------------------------------------


class _FixedFindings:
    """Stands in for the batch context on a worker: the driver already computed it."""

    def __init__(self, findings: Iterable[Any]) -> None:
        self.findings = list(findings)

    def observe_conversation(self, *_: Any, **__: Any) -> list[Any]:
        return list(self.findings)


_MODELS: dict[str, Any] = {}


def _model(model: dict[str, Any]) -> Any:
    """The risk model of this run, built once per worker process."""
    from cosea.chats.model import RiskModel

    built = _MODELS.get(model["key"])
    if built is None:
        built = _MODELS[model["key"]] = RiskModel.from_dict(model["model"], source="<broadcast>")
    return built


def _merge(pieces: Iterable[list[Unit]]) -> list[Unit]:
    """One unit per conversation id: its pieces from every shard, in input order.

    The first piece's header stays the conversation's header, as in a single process,
    which keeps analysing a conversation continued in a later file with the header
    its first file gave it.
    """
    merged: dict[str, Unit] = {}
    for unit in sorted((u for piece in pieces for u in piece), key=lambda u: u.position):
        seen = merged.get(unit.header.id)
        if seen is None:
            merged[unit.header.id] = replace(unit, messages=list(unit.messages))
        else:
            seen.messages.extend(unit.messages)
            seen.last = unit.last
    return list(merged.values())


def _detail(assessment: Any) -> str:
    from cosea.chats.analysis.tactics import stage_label

    reasons = sorted(assessment.evidence, key=lambda e: -e.confidence)[:2]
    return json.dumps(
        {
            "class": str(assessment.cls),
            "suspect": assessment.suspect,
            "alert_message": assessment.alert_message,
            "stage": stage_label(assessment.stage),
            "reasons": [r.reason for r in reasons],
        },
        ensure_ascii=False,
    )


def analyze_partition(
    source: Any,
    findings: dict[Any, list[Any]],
    model: dict[str, Any],
    database_url: str,
    run_id: str,
    interleaved: bool,
    *extra_pieces: list[Unit],
) -> dict[str, int]:
    """Task: analyse a partition's conversations and store their predictions (step 3).

    ``source`` is a shard's read result (grouped sources), or the first of the pieces
    of one hash partition, the others following in ``extra_pieces`` (interleaved).
    """
    with cluster.gc_paused():
        return _analyze_partition(
            source, findings, model, database_url, run_id, interleaved, *extra_pieces
        )


def _analyze_partition(
    source: Any,
    findings: dict[Any, list[Any]],
    model: dict[str, Any],
    database_url: str,
    run_id: str,
    interleaved: bool,
    *extra_pieces: list[Unit],
) -> dict[str, int]:
    from cosea.chats.analysis import analyze_stream

    cluster.tune_worker_process()
    cpu_started = time.process_time()
    risk_model = _model(model)
    if interleaved:
        units = _merge([source, *extra_pieces])
        key_of: Callable[[Unit], Any] = lambda u: u.header.id  # noqa: E731
        place_of: Callable[[Unit], int] = lambda u: u.last  # noqa: E731
    else:
        units = source["units"]
        key_of = place_of = lambda u: u.position
    rows: list[results.ResultRow] = []
    messages = alerts = 0
    for unit in units:
        context = _FixedFindings(findings.get(key_of(unit), ()))
        for assessment in analyze_stream(unit.replay(), risk_model, batch_context=context):
            prediction = assessment.to_prediction()
            rows.append(
                results.ResultRow(
                    position=place_of(unit),
                    item=unit.header.id,
                    flagged=bool(assessment.alert),
                    score=float(assessment.risk),
                    payload=json.dumps(prediction, ensure_ascii=False),
                    detail=_detail(assessment) if assessment.alert else None,
                )
            )
            alerts += bool(assessment.alert)
        messages += len(unit.messages)
    written = results.write_results(database_url, run_id, rows)
    return {
        "conversations": len(rows),
        "messages": messages,
        "alerts": alerts,
        "written": written,
        "cpu_seconds": time.process_time() - cpu_started,
    }


# --- the driver ------------------------------------------------------------------------


class _BatchPass:
    """The batch context over conversation starts in single-process order (step 2)."""

    def __init__(self, interleaved: bool) -> None:
        from cosea.chats.analysis import new_batch_context

        self.batch = new_batch_context()
        self.interleaved = interleaved
        self.started: set[str] = set()
        self.finished: OrderedDict[str, None] = OrderedDict()
        self.reopened = 0
        self.notes: list[str] = []
        self.previous: str | None = None

    def findings(self, heads: Iterable[Head]) -> dict[Any, list[Any]]:
        from cosea.chats.analysis.batch import batch_findings

        found: dict[Any, list[Any]] = {}
        for head in sorted(heads, key=lambda h: h.position):
            cid = head.conversation_id
            if self.interleaved:
                if cid in self.started:
                    continue  # the rest of a conversation met in an earlier shard
                self.started.add(cid)
                key: Any = cid
            else:
                key = head.position
                self._note_reopened(cid)
            if self.batch is not None:
                signals = batch_findings(self.batch, head.header, head.first)
                if signals:
                    found[key] = signals
        return found

    def _note_reopened(self, cid: str) -> None:
        if self.previous is not None and self.previous != cid:
            self.finished[self.previous] = None
            self.finished.move_to_end(self.previous)
            while len(self.finished) > RECENT_IDS:
                self.finished.popitem(last=False)
        if cid in self.finished and self.previous != cid:
            self.reopened += 1
            if len(self.notes) < 20:
                self.notes.append(
                    f"conversation {cid!r} continued after it was finalised; its later "
                    "messages were assessed separately"
                )
        self.previous = cid


def _raise_failure(failure: dict[str, Any]) -> None:
    raise InputError(
        failure["source"], failure["problem"], line=failure["line"], entry=failure["entry"]
    )


def analyze_chats(
    paths: Sequence[str | Path],
    *,
    scheduler: Any,
    out: str | Path | None = None,
    reader: str | None = None,
    strict: bool = False,
    options: dict[str, Any] | None = None,
    model: Any = None,
    database_url: str | None = None,
    run_id: str | None = None,
    split_bytes: int | None = None,
    wave_shards: int | None = None,
    on_progress: Callable[[ChatsRun], None] | None = None,
) -> ChatsRun:
    """Analyse chat files (local paths or URLs) on a Dask cluster; see the module docstring.

    ``scheduler``: an address, ``local[:N]`` or a ``distributed.Client``. Predictions
    go to the database (``database_url``, default the configured one) under the run
    id, and to ``out`` (a path or URL, JSON Lines) when given, in single-process order.
    """
    from cosea.chats.io import ReadReport
    from cosea.settings import database_url as configured_database

    options = dict(options or {})
    database_url = database_url or configured_database()
    from cosea.chats.model import resolve_model

    # The driver's model travels to the workers (once each), so a cluster whose workers
    # run another cosea version still scores with the model this command chose.
    risk_model = resolve_model(model)
    model_dict = {"key": risk_model.model_id, "model": risk_model.to_dict()}
    started = time.perf_counter()
    with cluster.connect(scheduler) as client:
        workers = cluster.worker_count(client)
        cluster.check_database_reachable(client, database_url)
        shards, interleaved = plan_shards(
            paths, reader, options, workers=workers, split_bytes=split_bytes
        )
        partitions = max(1, workers * 2) if interleaved else len(shards)
        run_id = results.start_run(
            database_url,
            "chats-analyze",
            {
                "inputs": [inputs.restore_url(p) for p in paths],
                "reader": reader,
                "strict": strict,
                "options": {k: str(v) for k, v in options.items()},
                "model": str(model) if model is not None else "default",
                "model_id": risk_model.model_id,
                "shards": len(shards),
                "interleaved": interleaved,
            },
            run_id=run_id,
            scheduler=cluster.describe(client),
            workers=workers,
        )
        run = ChatsRun(
            run_id=run_id,
            database_url=database_url,
            scheduler=cluster.describe(client),
            workers=workers,
            shards=len(shards),
            partitions=partitions,
            report=ReadReport(),
        )
        model_ref = client.scatter([model_dict], broadcast=True)[0]
        batch_pass = _BatchPass(interleaved)
        # Interleaved sources must be read whole before any conversation is complete;
        # grouped ones go in waves so only a wave's messages are held in memory.
        wave = len(shards) if interleaved else (wave_shards or max(8, workers * 4))
        analysing: list[Any] = []
        try:
            for first in range(0, len(shards), wave):
                batch = shards[first : first + wave]
                reads = [
                    client.submit(
                        read_shard,
                        shard,
                        reader,
                        strict,
                        options,
                        interleaved,
                        partitions,
                        key=f"cosea-chats-read-{run_id}-{shard.index}",
                        pure=False,
                    )
                    for shard in batch
                ]
                summaries = client.map(
                    _heads_of, reads, key=[f"cosea-chats-heads-{run_id}-{s.index}" for s in batch]
                )
                heads: list[Head] = []
                for summary in client.gather(summaries):
                    if summary.get("failure"):
                        _raise_failure(summary["failure"])
                    _merge_report(run.report, summary)
                    run.cpu_seconds += summary["cpu_seconds"]
                    heads.extend(summary["heads"])
                findings = batch_pass.findings(heads)
                if interleaved:
                    for partition in range(partitions):
                        parts = [
                            client.submit(
                                _part_of,
                                read,
                                partition,
                                key=f"cosea-chats-part-{run_id}-{s.index}-{partition}",
                            )
                            for s, read in zip(batch, reads, strict=True)
                        ]
                        mine = {
                            cid: found
                            for cid, found in findings.items()
                            if partition_of(cid, partitions) == partition
                        }
                        analysing.append(
                            client.submit(
                                analyze_partition,
                                parts[0],
                                mine,
                                model_ref,
                                database_url,
                                run_id,
                                True,
                                *parts[1:],
                                key=f"cosea-chats-analyse-{run_id}-p{partition}",
                                pure=False,
                            )
                        )
                else:
                    # Analyse where the shard was read: Dask's size estimate of a read
                    # result is far below its pickled size, so it would move them freely.
                    holders = client.who_has(reads)
                    for shard, read in zip(batch, reads, strict=True):
                        low = shard.index << SHARD_BITS
                        high = (shard.index + 1) << SHARD_BITS
                        mine = {p: f for p, f in findings.items() if low <= p < high}
                        analysing.append(
                            client.submit(
                                analyze_partition,
                                read,
                                mine,
                                model_ref,
                                database_url,
                                run_id,
                                False,
                                key=f"cosea-chats-analyse-{run_id}-s{shard.index}",
                                pure=False,
                                workers=list(holders.get(read.key, ())) or None,
                                allow_other_workers=True,  # a lost worker's shard: read again
                            )
                        )
                # The read results are released once their analysis took what it needs.
                del reads, summaries
                run.read_seconds = time.perf_counter() - started
                _collect_done(analysing, run, on_progress, block=False)
            _collect_done(analysing, run, on_progress, block=True)
        except BaseException:
            for future in analysing:
                future.cancel()
            results.finish_run(database_url, run_id, {"error": "interrupted"}, status="failed")
            raise
    run.notes = batch_pass.notes
    if out is not None:
        run.out = inputs.restore_url(out)
        run.out_lines = write_output(database_url, run_id, run.out)
    run.seconds = time.perf_counter() - started
    results.finish_run(database_url, run_id, run.to_dict())
    return run


def _merge_report(report: Any, summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    report.files += counts["files"]
    report.conversations += counts["conversations"]
    report.messages += counts["messages"]
    report.skipped += counts["skipped"]
    report.ignored += counts["ignored"]
    for error in summary["errors"]:
        if len(report.errors) < report.max_errors:
            report.errors.append(
                InputError(
                    error["source"], error["problem"], line=error["line"], entry=error["entry"]
                )
            )
    for warning in summary["warnings"]:
        report.warn(warning)


def _collect_done(
    futures: list[Any], run: ChatsRun, on_progress: Callable[[ChatsRun], None] | None, block: bool
) -> None:
    from distributed import wait

    if block and futures:
        wait(futures)
    for future in [f for f in futures if f.done()]:
        done = future.result()  # raises the task's error, if any
        run.conversations += done["conversations"]
        run.messages += done["messages"]
        run.alerts += done["alerts"]
        run.written += done["written"]
        run.cpu_seconds += done["cpu_seconds"]
        futures.remove(future)
        if on_progress is not None:
            on_progress(run)


def write_output(database_url: str, run_id: str, out: str) -> int:
    """The run's predictions, in input order, as JSON Lines (written whole, then moved)."""
    lines = (payload for _, _, payload in results.iter_results(database_url, run_id))
    return write_lines(out, lines)


def write_lines(out: str, lines: Iterable[str]) -> int:
    import os

    count = 0
    if inputs.is_remote(out):
        import fsspec

        # An object store shows an object only once it is completely written.
        with fsspec.open(out, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
                count += 1
        return count
    target = Path(inputs.local_path(out))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
                count += 1
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return count
