"""Reading CSV files that people filled in a spreadsheet: label lists and review verdicts.

Why its own reader: Excel and LibreOffice write a byte-order mark, use ``;`` as the separator
in many locales, pad headers with spaces, and save in a legacy code page unless told
otherwise. Each of those used to surface as a puzzling "needs a clip_id column" or a
traceback; here each is either accepted or named with its fix. Sheets are small (one row per
clip), so the file is read whole.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from microverse.errors import MicroverseError

SEPARATORS = (",", ";", "\t")


def read_sheet(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header (stripped) and the rows of a CSV file; row *k* of the list is line *k* + 2."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MicroverseError(f"not UTF-8 text (byte {exc.start} is not)", file=str(path),
                              fix="save it as 'CSV UTF-8' (Excel: Save As > CSV UTF-8)") from None
    header = text.split("\n", 1)[0]
    separator = max(SEPARATORS, key=header.count)  # ties keep the comma (first)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        fields = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = fields
        rows = list(reader)
    except csv.Error as exc:
        raise MicroverseError(f"not a readable CSV file ({exc})", file=str(path), item=f"line {reader.line_num}",
                              fix="save it from the spreadsheet as CSV") from None
    return fields, rows
