"""Mass action files: reading an upload, synthetic records for seeded actions,
and the zipped response file."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ACTION_TYPES",
    "MAX_UPLOAD_BYTES",
    "Records",
    "UploadError",
    "build_response_zip",
    "read_upload",
    "synthetic_records",
]

#: Zuora refuses upload files larger than 4 MB.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024

# The upload columns of each action type, and the result columns Zuora adds to
# the response file besides Success and Error Message.
_UPLOAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "UpdateAccountingCode": (
        "Object Key",
        "Object Type",
        "Deferred Revenue Accounting Code",
        "Recognized Revenue Accounting Code",
    ),
    "CreateRevenueSchedule": (
        "Charge Number",
        "Revenue Recognition Rule Name",
        "Recognition Start Date",
        "Amount",
    ),
    "UpdateRevenueSchedule": (
        "Revenue Schedule Number",
        "Revenue Schedule Reference ID",
        "Revenue Schedule Notes",
    ),
    "DeleteRevenueSchedule": ("Revenue Schedule Number",),
    "ImportFXRate": (
        "Rate Set Name",
        "Provider Exchange Rate Date",
        "Currency (From)",
        "Currency (To)",
        "Exchange Rate",
    ),
    "MPU": (
        "Billing Account ID",
        "Payment Invoice",
        "Payment Amount",
        "Currency",
        "Payment Date",
        "Payment Method ID",
        "Payment Type",
        "Gateway ID",
    ),
}
_EXTRA_RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "CreateRevenueSchedule": ("Revenue Schedule Number",),
    "MPU": (
        "Payment ID",
        "Gateway Response Code",
        "Gateway Response Message",
        "Payment Status",
    ),
}
_ROW_ERRORS: dict[str, str] = {
    "UpdateAccountingCode": "The accounting code is not active.",
    "CreateRevenueSchedule": "The charge has no revenue recognition rule.",
    "UpdateRevenueSchedule": "The revenue schedule is locked by a closed period.",
    "DeleteRevenueSchedule": "The revenue schedule has distributed revenue.",
    "ImportFXRate": "The exchange rate must be a positive number.",
    "MPU": "The payment amount exceeds the invoice balance.",
}
GROUP_FAILED = "A previous row with the same Group ID failed"

ACTION_TYPES: tuple[str, ...] = tuple(_UPLOAD_COLUMNS)


class UploadError(ValueError):
    """The uploaded file cannot be read as Zuora reads it (refused up front)."""


@dataclass
class Records:
    """The records of a mass action: the header and the rows, as uploaded.

    ``problem`` says why Zuora would fail the action (no header, no records, a
    row longer than the header); ``None`` when the file can be processed.
    """

    header: list[str]
    rows: list[list[str]]
    name: str
    size: int
    problem: str | None = None


def read_upload(data: bytes, filename: str | None) -> Records:
    """Read an uploaded .csv, or a .zip holding exactly one .csv."""
    size = len(data)
    name = filename or "upload.csv"
    if data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
        data, name = _unzip(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"The file is not UTF-8 text: {exc.reason}.") from None
    if "\x00" in text:
        raise UploadError("The file is not a CSV file.")
    try:
        table = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise UploadError(f"The file is not a valid CSV file: {exc}.") from None
    return _records(table, name, size)


def _unzip(data: bytes) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
                raise UploadError("A zip file must hold exactly one .csv file.")
            if members[0].file_size > MAX_UPLOAD_BYTES:
                raise UploadError("The file size exceeds the limit of 4 MB.")
            return archive.read(members[0]), members[0].filename
    except zipfile.BadZipFile:
        raise UploadError("The file is not a valid zip file.") from None


def _records(table: list[list[str]], name: str, size: int) -> Records:
    if not table:
        return Records([], [], name, size, problem="The file is empty.")
    header, rows = [cell.strip() for cell in table[0]], table[1:]
    problem = None
    if any(not cell for cell in header):
        problem = "The file has no header row, or a column without a name."
    elif len(set(header)) != len(header):
        problem = "The header row names a column twice."
    elif not rows:
        problem = "The file has a header row but no records."
    elif any(len(row) > len(header) for row in rows):
        problem = "A record has more values than the header row has columns."
    rows = [row + [""] * (len(header) - len(row)) for row in rows]
    return Records(header, rows, name, size, problem)


def synthetic_records(action_type: str, total: int, rng: random.Random) -> Records:
    """Records that look like an upload of ``action_type`` with ``total`` rows."""
    header = list(_UPLOAD_COLUMNS[action_type])
    rows = [_synthetic_row(action_type, index, rng) for index in range(total)]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    size = len(buffer.getvalue().encode())
    return Records(header, rows, f"{action_type}.csv", size)


def _synthetic_row(action_type: str, index: int, rng: random.Random) -> list[str]:
    number = index + 1
    day = f"2024-{(index % 12) + 1:02d}-{(index % 28) + 1:02d}"
    if action_type == "UpdateAccountingCode":
        return [
            f"{rng.getrandbits(128):032x}",
            "Invoice Item",
            "DEFREV-2000",
            "REV-4000",
        ]
    if action_type == "CreateRevenueSchedule":
        return [
            f"C-{number:08d}",
            "Recognize daily over time",
            day,
            f"{100 + index}.00",
        ]
    if action_type == "UpdateRevenueSchedule":
        return [f"RS-{number:08d}", f"REF-{number}", "Reviewed"]
    if action_type == "DeleteRevenueSchedule":
        return [f"RS-{number:08d}"]
    if action_type == "ImportFXRate":
        pairs = ("EUR", "GBP", "JPY", "CAD", "AUD")
        rate = 0.5 + rng.random()
        return ["Default", day, "USD", pairs[index % len(pairs)], f"{rate:.6f}"]
    amount = f"{10 + index % 90}.00"
    return [
        f"{rng.getrandbits(128):032x}",
        f"INV{number:08d}:{amount}",
        amount,
        "USD",
        day,
        f"{rng.getrandbits(128):032x}",
        "External",
        "",
    ]


def result_columns(action_type: str) -> tuple[str, ...]:
    return ("Success", "Error Message", *_EXTRA_RESULT_COLUMNS.get(action_type, ()))


def _result_values(action_type: str, index: int, outcome: str, error: str) -> list[str]:
    extra = len(_EXTRA_RESULT_COLUMNS.get(action_type, ()))
    values = [outcome, error] + [""] * extra
    if outcome != "Y":
        return values
    if action_type == "CreateRevenueSchedule":
        values[2] = f"RS-{index + 1:08d}"
    elif action_type == "MPU":
        values[2:] = [f"{index + 1:032x}", "", "", "Processed"]
    return values


def row_error(action_type: str) -> str:
    return _ROW_ERRORS.get(action_type, "The record could not be processed.")


def build_response_zip(
    bulk_key: str,
    action_type: str,
    records: Records,
    outcomes: Sequence[str],
    errors: Sequence[str],
) -> bytes:
    """The response file: the upload unchanged plus the result columns, zipped.

    ``outcomes`` holds ``"Y"`` or ``"N"`` for each processed record in file
    order; the records after it were not processed and get a blank Success.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*records.header, *result_columns(action_type)])
    for index, row in enumerate(records.rows):
        if index < len(outcomes):
            result = _result_values(action_type, index, outcomes[index], errors[index])
        else:
            result = _result_values(action_type, index, "", "")
        writer.writerow([*row, *result])
    stem = records.name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or bulk_key
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}_response.csv", buffer.getvalue().encode("utf-8"))
    return out.getvalue()
