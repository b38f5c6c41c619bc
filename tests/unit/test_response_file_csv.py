"""The response-file reader against any CSV the csv module can write.

Each example builds a response file as Zuora would (the uploaded columns plus
Success and Error Message, anywhere in the header), writes it with the csv
module in one of its quoting styles and line endings, maybe with a UTF-8 BOM
and cells beyond the header, zips it, and reads it back through
``ResponseFile.from_file``: every record comes back, in order, with its outcome,
message and values, and the counts are exact.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aiozuora import ResponseFile, RowOutcome

# Any text a CSV cell may hold: quotes, commas, both newlines, non-ASCII. NUL
# is left out (Python 3.10's csv reader refuses it), and so are surrogates,
# which UTF-8 cannot encode.
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=20,
)
# A record's key: what makes it a record and not a blank line.
record_key = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs", "Zs", "Cc", "Zl", "Zp"],
        blacklist_characters="\x00",
    ),
    min_size=1,
    max_size=12,
)
column_name = st.text(
    alphabet=st.characters(whitelist_categories=["L", "N"], max_codepoint=0x2FF),
    min_size=1,
    max_size=10,
).filter(lambda name: name.lower() not in {"success", "error message"})

OUTCOMES = {
    "Y": RowOutcome.SUCCEEDED,
    "N": RowOutcome.FAILED,
    "": RowOutcome.UNPROCESSED,
}


@dataclass
class Record:
    values: list[str]
    success: str
    message: str
    extra: list[str]


@st.composite
def response_files(draw: st.DrawFn) -> tuple[list[str], int, int, list[Record]]:
    names = draw(st.lists(column_name, min_size=1, max_size=5, unique_by=str.lower))
    width = len(names) + 2
    success_at = draw(st.integers(0, width - 1))
    message_at = draw(st.integers(0, width - 1).filter(lambda i: i != success_at))
    records = []
    for _ in range(draw(st.integers(0, 25))):
        values = [draw(record_key)] + [draw(cell_text) for _ in names[1:]]
        success = draw(st.sampled_from(sorted(OUTCOMES)))
        message = draw(cell_text) if success == "N" else ""
        extra = draw(st.lists(cell_text, max_size=2))
        records.append(Record(values, success, message, extra))
    return names, success_at, message_at, records


def build(
    names: list[str],
    success_at: int,
    message_at: int,
    records: list[Record],
    *,
    quoting: int,
    lineterminator: str,
    bom: bool,
) -> tuple[io.BytesIO, bool]:
    """The zipped file, and whether the csv module reads its own text back."""

    def arrange(values: list[str], success: str, message: str) -> list[str]:
        row = list(values)
        for index, cell in sorted(
            [(success_at, success), (message_at, message)], key=lambda item: item[0]
        ):
            row.insert(index, cell)
        return row

    rows = [arrange(names, "Success", "Error Message")]
    rows.extend(
        arrange(record.values, record.success, record.message) + record.extra
        for record in records
    )
    text = io.StringIO(newline="")
    csv.writer(text, quoting=quoting, lineterminator=lineterminator).writerows(rows)
    readable = list(csv.reader(io.StringIO(text.getvalue(), newline=""))) == rows
    data = ("\ufeff" if bom else "") + text.getvalue()

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("abc_response.csv", data.encode("utf-8"))
    archive.seek(0)
    return archive, readable


@settings(max_examples=120, deadline=None)
@given(
    response_files(),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    st.sampled_from(["\r\n", "\n"]),
    st.booleans(),
)
def test_any_csv_the_csv_module_writes_is_read_back_exactly(
    file: tuple[list[str], int, int, list[Record]],
    quoting: int,
    lineterminator: str,
    bom: bool,
) -> None:
    names, success_at, message_at, records = file
    archive, readable = build(
        names,
        success_at,
        message_at,
        records,
        quoting=quoting,
        lineterminator=lineterminator,
        bom=bom,
    )
    # With "\n" line endings the csv module leaves a lone "\r" unquoted and
    # cannot read its own output back: such a file is no CSV anyone can read.
    assume(readable)

    result = ResponseFile.from_file(archive, bulk_key="abc")

    assert len(result) == len(records)
    assert result.columns == tuple(names)
    for number, (row, record) in enumerate(zip(result, records, strict=True), 1):
        assert row.number == number
        assert row.outcome is OUTCOMES[record.success]
        assert row.error_message == (record.message.strip() or None)
        expected = dict(zip(names, record.values, strict=True))
        for offset, cell in enumerate(record.extra):
            expected[f"column_{len(names) + 2 + offset + 1}"] = cell
        assert dict(row.values) == expected
    wanted = [record.success for record in records]
    assert result.succeeded == wanted.count("Y")
    assert result.failed == wanted.count("N")
    assert result.unprocessed == wanted.count("")
    assert result.succeeded + result.failed + result.unprocessed == len(result)


def test_a_large_file_is_counted_exactly() -> None:
    names = ["Object Key", "Object Type"]
    records = [
        Record(
            [f"K{i}", "Invoice Item"], "YN "[i % 3].strip(), "bad" * (i % 3 == 1), []
        )
        for i in range(20_000)
    ]
    archive, _ = build(
        names, 2, 3, records, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n", bom=True
    )
    result = ResponseFile.from_file(archive)
    assert len(result) == 20_000
    assert (result.succeeded, result.failed, result.unprocessed) == (6667, 6667, 6666)
