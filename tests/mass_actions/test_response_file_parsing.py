"""Reading response files: the zipped CSV Zuora serves, and its odd corners."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from aiozuora import ProtocolError, ResponseFile, RowOutcome


def zipped(text: str | bytes, name: str = "response.csv") -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    buffer.seek(0)
    return buffer


def test_outcomes_counts_and_values_of_y_n_and_blank_rows() -> None:
    text = (
        "Object Key,Object Type,Success,Error Message\r\n"
        "K1,Invoice Item,Y,\r\n"
        "K2,Invoice Item,N,Invalid accounting code\r\n"
        "K3,Payment,,\r\n"
    )
    result = ResponseFile.from_file(zipped(text), bulk_key="abc123")

    rows = list(result)
    assert [row.outcome for row in rows] == [
        RowOutcome.SUCCEEDED,
        RowOutcome.FAILED,
        RowOutcome.UNPROCESSED,
    ]
    assert [row.number for row in rows] == [1, 2, 3]
    assert rows[0].error_message is None
    assert rows[1].error_message == "Invalid accounting code"
    assert rows[2].values == {"Object Key": "K3", "Object Type": "Payment"}
    assert (result.succeeded, result.failed, result.unprocessed) == (1, 1, 1)
    assert len(result) == 3
    assert result.columns == ("Object Key", "Object Type")
    assert result.bulk_key == "abc123"
    assert "succeeded=1" in repr(result)


def test_bom_quoted_newlines_and_result_columns_anywhere() -> None:
    text = (
        "\ufeffSuccess,Revenue Schedule Number,Notes,Error Message\n"
        'N,RS-1,"first line\nsecond, with comma",Bad "date"\n'
        "Y,RS-2,plain,\n"
    ).encode()
    result = ResponseFile.from_file(zipped(text))

    first, second = result
    assert first.outcome is RowOutcome.FAILED
    assert first.values == {
        "Revenue Schedule Number": "RS-1",
        "Notes": "first line\nsecond, with comma",
    }
    assert first.error_message == 'Bad "date"'
    assert second.values["Revenue Schedule Number"] == "RS-2"
    assert result.columns == ("Revenue Schedule Number", "Notes")


def test_extra_cells_short_rows_and_blank_lines_are_kept_or_skipped() -> None:
    text = "A,Success,Error Message\nx,Y,,surplus,more\ny,N\n\n,,\nz,,\n"
    result = ResponseFile.from_file(zipped(text))

    rows = list(result)
    assert len(rows) == 3
    assert rows[0].values == {"A": "x", "column_4": "surplus", "column_5": "more"}
    assert rows[1].values == {"A": "y"}
    assert rows[1].error_message is None
    assert rows[2].outcome is RowOutcome.UNPROCESSED


def test_rows_filters_by_outcome() -> None:
    text = "Key,Success,Error Message\n1,Y,\n2,N,no\n3,N,nope\n4,,\n"
    result = ResponseFile.from_file(zipped(text))

    failed = list(result.rows(RowOutcome.FAILED))
    assert [row.values["Key"] for row in failed] == ["2", "3"]
    assert [row.number for row in failed] == [2, 3]


def test_plain_csv_and_latin1_are_read_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "response.csv"
    path.write_bytes("Name,Success\nCaf\xe9,Y\n".encode("latin-1"))

    result = ResponseFile.from_file(path)

    assert next(iter(result)).values == {"Name": "Caf\xe9"}


def test_duplicate_header_names_stay_distinct() -> None:
    result = ResponseFile.from_file(zipped("Code,Code,Success\na,b,Y\n"))

    assert next(iter(result)).values == {"Code": "a", "Code (2)": "b"}


def test_a_file_without_success_column_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="no Success column"):
        ResponseFile.from_file(zipped("A,B\n1,2\n"))


def test_an_unknown_success_flag_names_the_line() -> None:
    with pytest.raises(ProtocolError, match="'maybe' on line 3"):
        ResponseFile.from_file(zipped("A,Success\n1,Y\n2,maybe\n"))


def test_a_zip_with_two_csvs_is_a_protocol_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "Success\nY\n")
        archive.writestr("b.csv", "Success\nY\n")

    with pytest.raises(ProtocolError, match="one CSV"):
        ResponseFile.from_file(buffer)


def test_an_empty_file_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="empty"):
        ResponseFile.from_file(zipped(""))


def test_a_caller_file_object_stays_open() -> None:
    buffer = io.BytesIO(b"Success\nY\n")

    ResponseFile.from_file(buffer)

    assert not buffer.closed
