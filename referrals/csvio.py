"""Reading ATS candidate exports (name, email) and writing them back with one link per row.

Japanese ATS and Excel write UTF-8, UTF-8 with a BOM, or Shift_JIS (in practice its Windows
superset CP932); all three are read. Every problem is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from referrals import pii

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
NAME_MAX = 100
NAME_HEADERS = {"name", "氏名", "名前", "候補者名", "full name", "fullname"}
EMAIL_HEADERS = {"email", "e-mail", "mail", "メールアドレス", "メール", "email address"}


@dataclass
class CsvRow:
    line: int
    name: str
    email: str


@dataclass
class CsvResult:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    encoding: str = ""


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name). Raises ValueError when no supported encoding fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from exc


def _header_index(header: list[str], names: set[str]) -> int | None:
    for i, cell in enumerate(header):
        if pii.fold(cell).lower() in names:
            return i
    return None


def parse_candidates(data: bytes) -> CsvResult:
    """Parse an upload; `errors` lists (line, message) and is empty only when every row is good."""
    result = CsvResult()
    if not data:
        result.errors.append((0, _("ファイルが空です。")))
        return result
    if len(data) > MAX_BYTES:
        result.errors.append((0, _("ファイルが大きすぎます（上限 2MB）。")))
        return result
    try:
        text, result.encoding = decode(data)
    except ValueError:
        result.errors.append(
            (0, _("文字コードを判別できません。UTF-8 または Shift_JIS で保存してください。"))
        )
        return result
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        result.errors.append((0, _("CSVとして読めません: %(error)s") % {"error": exc}))
        return result
    if not lines:
        result.errors.append((0, _("ファイルが空です。")))
        return result
    header = lines[0]
    name_i = _header_index(header, NAME_HEADERS)
    email_i = _header_index(header, EMAIL_HEADERS)
    if name_i is None or email_i is None:
        result.errors.append(
            (1, _("1行目に見出し name, email（または 氏名, メールアドレス）が必要です。"))
        )
        return result
    data_lines = [
        (n, cells) for n, cells in enumerate(lines[1:], start=2) if any(c.strip() for c in cells)
    ]
    if not data_lines:
        result.errors.append((0, _("候補者の行がありません。")))
        return result
    if len(data_lines) > MAX_ROWS:
        result.errors.append(
            (0, _("行数が多すぎます（上限 %(max)s 行）。") % {"max": f"{MAX_ROWS:,}"})
        )
        return result
    for line, cells in data_lines:
        name = pii.fold(cells[name_i]) if name_i < len(cells) else ""
        email = pii.normalise_email(cells[email_i]) if email_i < len(cells) else ""
        problems = []
        if not name:
            problems.append(_("氏名が空です。"))
        elif len(name) > NAME_MAX:
            problems.append(_("氏名は %(max)s 文字以内にしてください。") % {"max": NAME_MAX})
        elif "<" in name or ">" in name:
            problems.append(_("氏名に < や > は使えません。"))
        if not email:
            problems.append(_("メールアドレスが空です。"))
        else:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(
                    _("メールアドレスの形式が正しくありません: %(email)s") % {"email": email[:80]}
                )
        if problems:
            result.errors.extend((line, p) for p in problems)
        else:
            result.rows.append(CsvRow(line=line, name=name, email=email))
    return result


def write_links(rows: list[tuple[str, str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    """CSV bytes with columns name, email, url (UTF-8 with BOM for Excel by default, or cp932)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["name", "email", "url"])
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding, errors="replace")
