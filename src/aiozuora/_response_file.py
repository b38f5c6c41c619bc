"""Response files: what Zuora did with each record of a mass action.

A response file is the uploaded CSV, unchanged, plus result columns: ``Success``
(``Y`` succeeded, ``N`` failed, blank not processed), ``Error Message``, and for
some action types more (``Revenue Schedule Number``, ``Payment ID``, ...). Zuora
serves it zipped. ``ResponseFile`` reads it once, eagerly, into a compact form
(one tuple of strings per record), so that it needs no file or connection
afterwards and nothing has to be closed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ._errors import ProtocolError
from ._models import RowOutcome

__all__ = ["ResponseFile", "ResponseRow"]

_SUCCESS_NAMES = frozenset({"success"})
_ERROR_NAMES = frozenset({"error message", "errormessage", "error_message"})
_OUTCOMES = {
    "y": RowOutcome.SUCCEEDED,
    "yes": RowOutcome.SUCCEEDED,
    "true": RowOutcome.SUCCEEDED,
    "n": RowOutcome.FAILED,
    "no": RowOutcome.FAILED,
    "false": RowOutcome.FAILED,
    "": RowOutcome.UNPROCESSED,
}


@dataclass(frozen=True)
class ResponseRow:
    """One record of a response file.

    ``number`` is the record's position in the file (1 for the first record
    after the header). ``values`` holds every other column by its header name:
    the uploaded columns and any result column besides Success and Error
    Message. Cells beyond the header are kept as ``column_<position>``.
    """

    number: int
    outcome: RowOutcome
    error_message: str | None
    values: Mapping[str, str]


@dataclass(frozen=True)
class _Record:
    outcome: RowOutcome
    error_message: str | None
    cells: tuple[str, ...]


class ResponseFile:
    """The records of a mass action's response file, with their outcomes.

    Iterating yields ``ResponseRow`` objects in file order; ``len()`` is the
    number of records; ``succeeded``, ``failed`` and ``unprocessed`` count them
    by outcome. The whole file is read when the object is made (the download
    itself goes to a temporary file, not to memory, and is deleted at once).
    """

    def __init__(
        self,
        bulk_key: str | None,
        columns: Sequence[str],
        records: Sequence[_Record],
        *,
        width: int | None = None,
    ) -> None:
        self.bulk_key = bulk_key
        #: Names of the columns in ``ResponseRow.values``, in file order.
        self.columns: tuple[str, ...] = tuple(columns)
        self._records = list(records)
        # Columns of the header row, the result columns included: cells beyond
        # it are named after their position in the row.
        self._width = len(self.columns) + 2 if width is None else width
        self.succeeded = 0
        self.failed = 0
        self.unprocessed = 0
        for record in self._records:
            if record.outcome is RowOutcome.SUCCEEDED:
                self.succeeded += 1
            elif record.outcome is RowOutcome.FAILED:
                self.failed += 1
            else:
                self.unprocessed += 1

    @classmethod
    def from_file(
        cls, file: str | Path | IO[bytes], *, bulk_key: str | None = None
    ) -> ResponseFile:
        """Read a response file already on disk: zipped as Zuora serves it, or
        the CSV inside. Raises ``ProtocolError`` when it is neither."""
        if isinstance(file, (str, Path)):
            with open(file, "rb") as handle:
                return cls.from_file(handle, bulk_key=bulk_key)
        file.seek(0)
        if zipfile.is_zipfile(file):
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                member = _csv_member(archive)
                return _parse(bulk_key, lambda: archive.open(member))

        def reopen() -> IO[bytes]:
            file.seek(0)
            return io.BufferedReader(_Unclosed(file))

        return _parse(bulk_key, reopen)

    def __iter__(self) -> Iterator[ResponseRow]:
        return self.rows()

    def __len__(self) -> int:
        return len(self._records)

    def rows(self, outcome: RowOutcome | None = None) -> Iterator[ResponseRow]:
        """The records in file order; only those with ``outcome`` if given."""
        for number, record in enumerate(self._records, start=1):
            if outcome is None or record.outcome is outcome:
                yield ResponseRow(
                    number=number,
                    outcome=record.outcome,
                    error_message=record.error_message,
                    values=self._values(record.cells),
                )

    def _values(self, cells: tuple[str, ...]) -> dict[str, str]:
        values = dict(zip(self.columns, cells, strict=False))
        for name in self.columns[len(cells) :]:
            values[name] = ""
        for extra, cell in enumerate(cells[len(self.columns) :]):
            values[f"column_{self._width + extra + 1}"] = cell
        return values

    def __repr__(self) -> str:
        return (
            f"ResponseFile(bulk_key={self.bulk_key!r}, records={len(self)}, "
            f"succeeded={self.succeeded}, failed={self.failed}, "
            f"unprocessed={self.unprocessed})"
        )


class _Unclosed(io.RawIOBase):
    """A view of a caller's binary file that closing does not close."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_member(archive: zipfile.ZipFile) -> str:
    names = [
        info.filename
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    csvs = [name for name in names if name.lower().endswith(".csv")]
    if len(csvs) == 1:
        return csvs[0]
    if not csvs and len(names) == 1:
        return names[0]
    raise ProtocolError(
        f"a response file is a zip holding one CSV; this one holds {names!r}"
    )


def _parse(bulk_key: str | None, open_binary: Callable[[], IO[bytes]]) -> ResponseFile:
    # Zuora returns the uploaded file unchanged, so it is in whatever encoding
    # the user uploaded. UTF-8 (with or without a BOM) is by far the most
    # common; Latin-1 decodes any byte, so nothing is ever lost.
    try:
        return _parse_text(bulk_key, open_binary, "utf-8-sig")
    except UnicodeDecodeError:
        return _parse_text(bulk_key, open_binary, "latin-1")


def _parse_text(
    bulk_key: str | None, open_binary: Callable[[], IO[bytes]], encoding: str
) -> ResponseFile:
    with (
        open_binary() as raw,
        io.TextIOWrapper(raw, encoding=encoding, newline="") as text,
    ):
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            raise ProtocolError("the response file is empty: it has no header row")
        names = [name.strip() for name in header]
        success = _find(names, _SUCCESS_NAMES)
        if success is None:
            raise ProtocolError(
                f"the response file has no Success column; its columns are {names!r}"
            )
        error = _find(names, _ERROR_NAMES)
        kept = [i for i in range(len(names)) if i not in (success, error)]
        columns = _unique([names[i] for i in kept])
        records = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            records.append(
                _record(cells, success, error, kept, len(names), reader.line_num)
            )
    return ResponseFile(bulk_key, columns, records, width=len(names))


def _record(
    cells: list[str],
    success: int,
    error: int | None,
    kept: list[int],
    width: int,
    line: int,
) -> _Record:
    flag = cells[success].strip() if success < len(cells) else ""
    outcome = _OUTCOMES.get(flag.lower())
    if outcome is None:
        raise ProtocolError(
            f"the response file's Success column holds {flag!r} on line {line}; "
            "Zuora writes Y, N or nothing"
        )
    message = cells[error].strip() if error is not None and error < len(cells) else ""
    values = [cells[i] for i in kept if i < len(cells)]
    values.extend(cells[width:])
    return _Record(outcome, message or None, tuple(values))


def _find(names: list[str], wanted: frozenset[str]) -> int | None:
    for index, name in enumerate(names):
        if name.lower() in wanted:
            return index
    return None


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name} ({count})")
    return result
