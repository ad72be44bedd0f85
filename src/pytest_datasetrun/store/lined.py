"""The index file's layout: a TinyDB JSON database with one run document per line.

::

    {"runs":{
    "1":{"run_id":"20260101T000000000Z-1a2b3c","name":"nightly",...},
    "2":{"run_id":"20260102T000000000Z-4d5e6f","name":"nightly",...}
    }}

It is plain JSON (TinyDB, ``json.load`` and older versions of this plugin read it), and a
writer can add, replace or drop one run by editing lines, without parsing and re-serialising
every other run: the cost of a write no longer grows with the history. Each line starts with
the run id and name, so references resolve without parsing the documents either. A file in any
other layout (older stores, a store TinyDB wrote) is parsed in full and written back in this one.

A new run is appended in place: its line and the tail overwrite the old tail (``\n}}\n``)
(:func:`append_line`). A crash halfway leaves the complete lines and one torn line after them;
:func:`recover_lines` reads such a file back, and the next write replaces it whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_datasetrun.store.itemsfile import dumps, loads

__all__ = (
    "Line",
    "append_line",
    "encode_line",
    "encode_table",
    "is_lined",
    "join_lines",
    "lined_ids",
    "put_line",
    "recover_lines",
    "split_lines",
)

_HEAD = b'{"runs":{\n'
_TAIL = b"\n}}\n"
_SEP = b",\n"
# One line: the document id, then the document, which starts with its run id and name.
_LINE = re.compile(
    rb'"([0-9]{1,18})":\{"run_id":"([A-Za-z0-9][A-Za-z0-9_.-]{0,127})","name":("(?:[^"\\]|\\.)*")'
)

# What starts each line, found in one pass of the regex engine over the whole file (the newline
# before the first line is the one closing the head).
_LEADS = re.compile(
    rb'\n"([0-9]{1,18})":\{"run_id":"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}","name":"(?:[^"\\\n]|\\.)*"'
)
# The lead of every line but the first, right after the ``},`` ending the line before: a pattern
# starting with a literal, which the regex engine finds fast.
_NEXT = re.compile(
    rb'\},\n"([0-9]{1,18})":\{"run_id":"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}","name":"(?:[^"\\\n]|\\.)*"'
)
_IDS = re.compile(rb'\n"([0-9]{1,18})":')
_DOC_ID = re.compile(rb'"([0-9]{1,18})')


@dataclass(frozen=True)
class Line:
    """One run's line: its document id, run id, name (as JSON) and the line's bytes."""

    doc_id: str
    run_id: str
    name_json: bytes
    raw: bytes

    @property
    def name(self) -> str:
        """The run name."""
        text = self.name_json[1:-1]
        return text.decode() if b"\\" not in text else str(loads(self.name_json))

    def document(self) -> dict[str, Any]:
        """The run's summary document, parsed.

        :raises ValueError: the line is not valid JSON.
        """
        doc = loads(self.raw[len(self.doc_id) + 3 :])
        if not isinstance(doc, dict):  # pragma: no cover - the pattern requires an object
            raise ValueError(f"document {self.doc_id} is not an object")
        return doc


def split_lines(raw: bytes) -> list[Line] | None:
    """The lines of an index in this layout, or ``None`` when ``raw`` is in another one."""
    body = _body(raw)
    if body is None:
        return None
    if not body:
        return []
    lines, seen = [], set()
    for chunk in body.split(_SEP):
        match = _LINE.match(chunk)
        if match is None or not chunk.endswith(b"}") or match[1] in seen:
            return None
        seen.add(match[1])
        lines.append(Line(match[1].decode(), match[2].decode(), match[3], chunk))
    return lines


def put_line(raw: bytes, run_id: str, doc: Mapping[str, Any]) -> bytes | None:
    """The index ``raw`` with ``doc`` as its last line, replacing the line of ``run_id``.

    The new document's id is one above the largest left, as ``Table.insert`` gives it. Only the
    new line is serialised; the others are copied as bytes.

    :param raw: an index in this layout (see :func:`is_lined`).
    :returns: the new index, or ``None`` when ``doc`` cannot lead with its run id and name.
    """
    ids = _IDS.findall(raw)
    found = _find_line(raw, run_id)
    while found is not None:
        start, doc_id = found
        ids.remove(doc_id)
        end = raw.index(b"\n", start)
        if raw[end - 1 : end] == b",":  # a separator follows: drop the line with it
            raw = raw[:start] + raw[end + 1 :]
        else:  # the last line: drop the separator before it, if any
            raw = raw[: start - 2 if start - 2 >= len(_HEAD) else start] + raw[end:]
        found = _find_line(raw, run_id)
    line = encode_line(str(max((int(i) for i in ids), default=0) + 1), doc)
    if line is None:
        return None
    kept = memoryview(raw)[: -len(_TAIL)]
    return b"".join((kept, _SEP if len(kept) > len(_HEAD) else b"", line, _TAIL))


def append_line(
    raw: bytes, run_id: str, doc: Mapping[str, Any], ids: list[bytes] | None = None
) -> tuple[int, bytes] | None:
    """Where and what to write over the end of ``raw`` to add ``doc`` as its last line.

    :param raw: an index in this layout (see :func:`is_lined`).
    :param ids: its document ids, when known (:func:`lined_ids`).
    :returns: the offset of the tail and the bytes replacing it (separator, line, tail), or
        ``None`` when ``raw`` already holds a line of ``run_id`` (a replace: see :func:`put_line`)
        or ``doc`` cannot lead with its run id and name.
    """
    if _find_line(raw, run_id) is not None:
        return None
    ids = _IDS.findall(raw) if ids is None else ids
    line = encode_line(str(max((int(i) for i in ids), default=0) + 1), doc)
    if line is None:
        return None
    offset = len(raw) - len(_TAIL)
    return offset, b"".join((_SEP if offset > len(_HEAD) else b"", line, _TAIL))


def _find_line(raw: bytes, run_id: str) -> tuple[int, bytes] | None:
    """Where the line of ``run_id`` starts in ``raw``, and its document id."""
    needle = b'":{"run_id":"' + run_id.encode() + b'","name":'
    pos = raw.find(needle)
    while pos >= 0:
        start = raw.rfind(b"\n", 0, pos) + 1
        match = _DOC_ID.fullmatch(raw, start, pos)
        if match is not None:
            return start, match[1]
        pos = raw.find(needle, pos + 1)
    return None


def is_lined(raw: bytes) -> bool:
    """Whether ``raw`` is an index in this layout (see :func:`lined_ids`)."""
    return lined_ids(raw) is not None


def lined_ids(raw: bytes) -> list[bytes] | None:
    """The document ids of an index in this layout, in order; ``None`` when ``raw`` is in another.

    Checked without parsing or copying the file: every newline but the two of the tail must
    open a line that leads with its document id, run id and name, and every line but the last
    must end with ``},``.
    """
    if len(raw) < len(_HEAD) + len(_TAIL) or not (raw.startswith(_HEAD) and raw.endswith(_TAIL)):
        return None
    if len(raw) == len(_HEAD) + len(_TAIL):
        return []
    first = _LEADS.match(raw, len(_HEAD) - 1)
    if first is None:
        return None
    ids = [first[1], *_NEXT.findall(raw)]
    if raw.count(b"\n") != len(ids) + 2 or not raw.endswith(b"}" + _TAIL):
        return None
    return ids if len(set(ids)) == len(ids) else None


def recover_lines(raw: bytes) -> tuple[list[Line], int] | None:
    """The complete lines of an index whose last append was cut short, and the bytes left over.

    A torn append leaves the file's complete lines, then at most one incomplete line and some
    of the separator and tail around it (or garbage: zeros where a crash left the new size but
    not the data). Every line followed by its separator is taken as :func:`split_lines` takes
    it; the last one only when its document parses. The rest is ignored.

    :param raw: an index that is not valid JSON.
    :returns: the lines and the count of bytes ignored after them, or ``None`` when ``raw`` is
        not such a file (another layout, or damage a torn append cannot leave: a complete line
        after the ignored bytes).
    """
    if not raw.startswith(_HEAD):
        return None
    lines: list[Line] = []
    seen: set[str] = set()
    start = len(_HEAD)
    while True:
        end = raw.find(b"\n", start)
        line = _line(raw[start : end - 1]) if end > start and raw[end - 1] == ord(",") else None
        if line is None or line.doc_id in seen:
            break
        lines.append(line)
        seen.add(line.doc_id)
        start = end + 1
    last = _complete_line(raw, start)
    if last is not None and last.doc_id not in seen:
        lines.append(last)
        start += len(last.raw)
    rest = raw[start:]
    leads = [m.start() for m in _LEADS.finditer(rest)]
    if len(leads) > 1 or any(_complete_line(rest, at + 1) for at in leads):
        return None
    return lines, len(rest)


def _line(chunk: bytes) -> Line | None:
    """``chunk`` as a line when it leads with its ids and name and ends its document."""
    match = _LINE.match(chunk)
    if match is None or not chunk.endswith(b"}"):
        return None
    return Line(match[1].decode(), match[2].decode(), match[3], chunk)


def _complete_line(raw: bytes, start: int) -> Line | None:
    """The line starting at ``start`` when its document parses in full, whatever follows it."""
    end = raw.find(b"\n", start)
    chunk = raw[start:] if end < 0 else raw[start:end]
    match = _LINE.match(chunk)
    if match is None:
        return None
    text = chunk[len(match[1]) + 3 :].decode("utf-8", "surrogateescape")
    try:
        doc, stop = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):  # pragma: no cover - the pattern requires an object
        return None
    return _line(chunk[: len(match[1]) + 3 + len(text[:stop].encode("utf-8", "surrogateescape"))])


def _body(raw: bytes) -> bytes | None:
    if len(raw) < len(_HEAD) + len(_TAIL) or not raw.startswith(_HEAD):
        return None
    return raw[len(_HEAD) : -len(_TAIL)] if raw.endswith(_TAIL) else None


def encode_line(doc_id: str, doc: Mapping[str, Any]) -> bytes | None:
    """The line of one document, or ``None`` when it has no string run id and name to lead."""
    run_id, name = doc.get("run_id"), doc.get("name")
    if not (isinstance(run_id, str) and isinstance(name, str)):
        return None
    ordered = {"run_id": run_id, "name": name, **doc}
    line = f'"{doc_id}":'.encode() + dumps(ordered)
    return line if _LINE.match(line) and b"\n" not in line else None


def join_lines(lines: Iterable[bytes]) -> bytes:
    """The index file holding ``lines``, in order."""
    return _HEAD + _SEP.join(lines) + _TAIL


def encode_table(data: Mapping[str, Any]) -> bytes | None:
    """The whole parsed index in this layout, or ``None`` when it cannot be (other tables, or a
    document without a valid run id and name); the caller then writes plain JSON."""
    if set(data) - {"runs"}:
        return None
    lines = []
    for doc_id, doc in data.get("runs", {}).items():
        line = encode_line(doc_id, doc)
        if line is None:
            return None
        lines.append(line)
    return join_lines(lines)
