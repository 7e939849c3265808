"""The statement PDF's Japanese font: Noto Sans Mono CJK JP, cut down once per machine.

The installed face lives in a 19 MB collection with ~65,000 glyphs; weasyprint subsets the font
it embeds on every render, and on the whole collection that costs tens of milliseconds and
~100 KB of PDF per statement. So the JP monospace face is subset once, with HarfBuzz (the
library weasyprint already needs), to the characters of JIS X 0208 and Windows-31J plus ASCII
and Latin-1 (~9,600 characters and their variants, ~16,000 glyphs, about a second to build),
and the result is kept in a file cache. A character outside that set is still rendered: the
stylesheet names the installed family after the cut-down one, so fontconfig supplies it.

Monospace because the statement's line items are laid out on a character grid (half-width
characters one cell, full-width two), which keeps columns aligned without a table — tables
cost weasyprint several times more per row.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

FAMILY = "Noto Sans Mono CJK JP"
# Without fontconfig's answer: where Debian's fonts-noto-cjk (and other distributions) put the
# collection (index 5 is the JP monospace face), then IPAGothic, also half/full-width fixed.
COLLECTION_FALLBACKS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 5),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 5),
    ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", 0),
)
# Bump when the character set or the subsetting changes, so cached files are rebuilt.
SUBSET_VERSION = "2"
# Layout features pango applies to horizontal Japanese text; the rest (vertical forms,
# alternates) only add glyphs.
LAYOUT_FEATURES = ("ccmp", "locl", "liga", "calt", "kern", "mark", "mkmk")
HB_SUBSET_SETS_UNICODE = 1
HB_SUBSET_SETS_LAYOUT_FEATURE_TAG = 6

_build_lock = threading.Lock()


@lru_cache(maxsize=1)
def installed_face() -> tuple[str, int]:
    """The installed Noto Sans Mono CJK JP: (file, face index), fontconfig's answer first."""
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(  # noqa: S603 - fixed arguments, no shell
                [fc_match, "-f", "%{file}\n%{index}\n%{family}", f"{FAMILY}:lang=ja"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.split("\n")
        except (OSError, subprocess.SubprocessError):
            found = []
        if len(found) == 3 and FAMILY in found[2] and Path(found[0]).is_file():
            return found[0], int(found[1] or 0)
    for path, index in COLLECTION_FALLBACKS:
        if Path(path).is_file():
            return path, index
    raise RuntimeError(f"No Japanese font found for statements: install fonts-noto-cjk ({FAMILY}).")


def _charset() -> list[int]:
    """ASCII, Latin-1, general punctuation, CJK symbols, kana, full/half-width forms and every
    character of JIS X 0208 and Windows-31J (with its IBM/NEC kanji such as 髙 and 﨑)."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for first, last in ((0x2000, 0x2070), (0x2100, 0x2200), (0x2460, 0x2500), (0x3000, 0x3100)):
        chars.update(range(first, last))
    chars.update(range(0xFF00, 0xFFF0))
    for lead in range(0xA1, 0xFF):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.update(map(ord, bytes([lead, trail]).decode("euc_jp")))
    for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD)):
        for trail in range(0x40, 0xFD):
            with contextlib.suppress(UnicodeDecodeError):
                chars.update(map(ord, bytes([lead, trail]).decode("cp932")))
    return sorted(c for c in chars if unicodedata.category(chr(c)) not in {"Cc", "Cs"})


def _harfbuzz_subset(path: str, index: int, codepoints: list[int]) -> bytes | None:
    """The face at `index` of `path` cut down to `codepoints`, or None without HarfBuzz."""
    name = ctypes.util.find_library("harfbuzz-subset") or "libharfbuzz-subset.so.0"
    try:
        hb = ctypes.CDLL(name)
    except OSError:
        return None
    ptr = ctypes.c_void_p
    signatures = {
        "hb_blob_create_from_file": (ptr, [ctypes.c_char_p]),
        "hb_face_create": (ptr, [ptr, ctypes.c_uint]),
        "hb_subset_input_create_or_fail": (ptr, []),
        "hb_subset_input_set": (ptr, [ptr, ctypes.c_int]),
        "hb_set_add": (None, [ptr, ctypes.c_uint32]),
        "hb_set_clear": (None, [ptr]),
        "hb_tag_from_string": (ctypes.c_uint32, [ctypes.c_char_p, ctypes.c_int]),
        "hb_subset_or_fail": (ptr, [ptr, ptr]),
        "hb_face_reference_blob": (ptr, [ptr]),
        "hb_blob_get_data": (ctypes.c_void_p, [ptr, ctypes.POINTER(ctypes.c_uint)]),
        "hb_blob_destroy": (None, [ptr]),
        "hb_face_destroy": (None, [ptr]),
        "hb_subset_input_destroy": (None, [ptr]),
    }
    for function, (restype, argtypes) in signatures.items():
        getattr(hb, function).restype = restype
        getattr(hb, function).argtypes = argtypes
    blob = hb.hb_blob_create_from_file(os.fsencode(path))
    face = hb.hb_face_create(blob, index)
    subset_input = hb.hb_subset_input_create_or_fail()
    result = out_blob = None
    try:
        if not subset_input:
            return None
        unicodes = hb.hb_subset_input_set(subset_input, HB_SUBSET_SETS_UNICODE)
        for codepoint in codepoints:
            hb.hb_set_add(unicodes, codepoint)
        features = hb.hb_subset_input_set(subset_input, HB_SUBSET_SETS_LAYOUT_FEATURE_TAG)
        hb.hb_set_clear(features)
        for tag in LAYOUT_FEATURES:
            hb.hb_set_add(features, hb.hb_tag_from_string(tag.encode(), -1))
        result = hb.hb_subset_or_fail(face, subset_input)
        if not result:
            return None
        out_blob = hb.hb_face_reference_blob(result)
        length = ctypes.c_uint()
        data = hb.hb_blob_get_data(out_blob, ctypes.byref(length))
        return ctypes.string_at(data, length.value) if data and length.value else None
    finally:
        if out_blob:
            hb.hb_blob_destroy(out_blob)
        if result:
            hb.hb_face_destroy(result)
        if subset_input:
            hb.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def _cache_dir() -> Path:
    configured = getattr(settings, "STATEMENT_FONT_CACHE_DIR", "")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "careerrelay-fonts"


@lru_cache(maxsize=1)
def statement_font_file() -> str | None:
    """The cut-down font file (built on first use, then read from the cache directory), or
    None when it cannot be built; the statement then uses the installed face directly."""
    path, index = installed_face()
    stat = Path(path).stat()
    key = f"{SUBSET_VERSION}:{path}:{index}:{stat.st_size}:{stat.st_mtime_ns}"
    target = _cache_dir() / f"statement-jp-{hashlib.sha256(key.encode()).hexdigest()[:16]}.otf"
    with _build_lock:
        if target.is_file() and target.stat().st_size:
            return str(target)
        data = _harfbuzz_subset(path, index, _charset())
        if data is None:
            logger.warning("statement font: HarfBuzz subsetting unavailable, using %s", path)
            return None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(scratch, 0o644)  # a font, readable by every worker's user
            os.replace(scratch, target)  # atomic: another process may be writing the same
        except OSError:
            logger.warning("statement font: cannot write %s, using %s", target, path)
            return None
    return str(target)


@lru_cache(maxsize=1)
def _advances() -> dict[int, int]:
    """Advance width (in half-width cells) of each character the statement font maps."""
    from fontTools.ttLib import TTFont

    built = statement_font_file()
    path, index = (built, 0) if built else installed_face()
    font = TTFont(path, fontNumber=index, lazy=True)
    unit = font["head"].unitsPerEm / 2
    metrics = font["hmtx"].metrics
    return {
        codepoint: max(1, round(metrics[glyph][0] / unit))
        for codepoint, glyph in font.getBestCmap().items()
        if glyph in metrics
    }


def cell_width(text: str) -> int:
    """Width of `text` in half-width cells of the monospace face (full-width = 2)."""
    advances = _advances()
    if text.isascii() and text.isprintable():
        return len(text)  # one cell each in the monospace face
    return sum(
        advances.get(ord(char))
        or (2 if unicodedata.east_asian_width(char) in {"W", "F", "A"} else 1)
        for char in text
    )
