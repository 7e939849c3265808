"""Statement PDFs: line items on the monospace grid (every line listed, columns aligned, long
names cut, markup shown as text), one cut-down Japanese font embedded, and characters outside
it still rendered through the installed font."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from credits.models import Statement
from credits.statement_fonts import cell_width, statement_font_file
from credits.statements import LINE_CELLS, _grid_line, statement_pdf_bytes
from tests.settlement.test_settlement import pdf_fonts, pdf_text

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")), reason="needs poppler-utils"
)


def embedded_fonts(data: bytes, tmp_path: Any) -> list[str]:
    rows = pdf_fonts(data, tmp_path).splitlines()[2:]
    return [row for row in rows if row.split()[-5] == "yes"]


def rebate(n: int, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "section": "rebate",
        "label": "手数料還元",
        "referral": f"R-{n:06d}",
        "month": "2026-10",
        "amount_jpy": amount,
        "taxable": True,
        **extra,
    }


@pytest.mark.django_db
def test_company_statement_lists_every_line_with_one_embedded_japanese_font(
    company: Any, agency: Any, tmp_path: Any
) -> None:
    lines = [rebate(n, 100_000 + n * 1_350, agency_id=agency.pk) for n in range(1, 121)]
    lines.append(
        {
            "section": "free_hire",
            "label": "無料採用枠の獲得",
            "referral": "—",
            "month": "2026-09",
            "agency_id": agency.pk,
            "count": 1,
            "amount_jpy": 0,
            "taxable": False,
        }
    )
    total = sum(line["amount_jpy"] for line in lines)
    statement = Statement.objects.unscoped().create(
        period="2026-10",
        kind="company",
        company=company,
        total_jpy=total,
        tax_jpy=total // 10,
        lines=lines,
        issued_on=dt.date(2026, 11, 1),
    )

    text = pdf_text(statement_pdf_bytes(statement), tmp_path)

    for n in range(1, 121):
        assert re.search(rf"R-{n:06d} +2026-10 +手数料還元 +{100_000 + n * 1_350:,}円\n", text), n
    assert "無料採用枠の獲得" in text
    assert f"{total:,}円" in text
    assert f"{total + total // 10:,}円" in text
    fonts = embedded_fonts(statement_pdf_bytes(statement), tmp_path)
    assert len(fonts) == 1, fonts
    assert "CareerRelayJP" in fonts[0]
    assert "CID" in fonts[0]


def test_grid_lines_align_columns_and_cut_long_values() -> None:
    columns = [
        ("紹介番号", 10, False),
        ("内容", 24, False),
        ("入社先", 0, False),
        ("金額", 16, True),
    ]
    long_name = "株式会社とても長い名前の転職先ホールディングスグループ" * 3

    lines = [
        _grid_line(columns, [h for h, _w, _r in columns]),
        _grid_line(columns, ["R-000001", "手数料還元", "ACME <b>", "292,250円"]),
        _grid_line(columns, ["100件", "返金による還元の調整", long_name, "-26,554,500円"]),
        _grid_line(columns, ["―", "手数料還元", "", "0円"]),
    ]

    # Right-aligned amounts end at the last cell; every column starts at the same cell.
    assert [cell_width(line) for line in lines[1:]] == [LINE_CELLS] * 3
    assert lines[0].startswith("紹介番号  内容")
    for line in lines[1:]:
        label_at = line.index("返金" if "返金" in line else "手数料還元")
        assert cell_width(line[:label_at]) == 10
    assert "…" in lines[2]
    assert long_name not in lines[2]
    assert lines[2].endswith(" -26,554,500円")


@pytest.mark.django_db
def test_agency_statement_shows_names_as_text_and_renders_characters_outside_the_cut_font(
    company: Any, agency: Any, tmp_path: Any
) -> None:
    company.name = "株式会社髙﨑 <script>"
    company.save(update_fields=["name"])
    lines = [
        {
            "section": "owed",
            "label": "手数料還元",
            "referral": "R-000007",
            "month": "2026-10",
            "company_id": company.pk,
            "placement": 1,
            "hiring_company": "한국상사 & Co.",
            "amount_jpy": 350_000,
            "taxable": True,
        }
    ]
    statement = Statement.objects.unscoped().create(
        period="2026-10",
        kind="agency",
        agency=agency,
        total_jpy=350_000,
        tax_jpy=35_000,
        lines=lines,
        issued_on=dt.date(2026, 11, 1),
    )

    pdf = statement_pdf_bytes(statement)
    text = pdf_text(pdf, tmp_path)

    assert "株式会社髙﨑 <script>" in text
    assert "한국상사 & Co." in text  # Hangul is outside the cut-down font: fontconfig's face
    assert "350,000円" in text
    assert any("CareerRelayJP" in row for row in embedded_fonts(pdf, tmp_path))


def test_statement_font_is_cut_down_once_and_covers_japanese_names() -> None:
    path = statement_font_file()
    assert path is not None, "libharfbuzz-subset0 missing: statements embed the whole collection"
    assert statement_font_file() == path
    font = TTFont(path, lazy=True)
    assert font["name"].getDebugName(1) == "Noto Sans Mono CJK JP"
    covered = font.getBestCmap()
    for char in "あア漢髙﨑①ｱ円A0,（）・":
        assert ord(char) in covered, char
    assert ord("한") not in covered
    assert font["maxp"].numGlyphs < 40_000  # the collection's face has 65,535
