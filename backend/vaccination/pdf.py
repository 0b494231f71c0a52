"""The printable certificate: one A4 page with the holder, the doses and a QR of the signed token.

fpdf2 and segno are pure Python, small and actively maintained: fpdf2 writes PDFs without a
browser or system libraries, and segno encodes QR codes without Pillow; we draw the QR's modules
as vector squares so it stays sharp at any print size. Names are set in Noto Sans, falling back
to Noto Sans Bengali, both shipped in backend/data/fonts (OFL); HarfBuzz (uharfbuzz) shapes the
text, so Bangla conjuncts and vowel signs come out as written, never as "?".
"""

from __future__ import annotations

from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from backend.models import Certificate, Vaccination
from backend.privacy.masking import mask_nid
from backend.vaccination.certificates import ISSUER

INK = (25, 35, 45)
BRAND = (0, 84, 147)
MUTED = (95, 105, 115)
QR_SIZE = 62  # mm, comfortably scannable from a phone at arm's length
FONTS = Path(__file__).resolve().parent.parent / "data" / "fonts"
SANS, BENGALI = "NotoSans", "NotoSansBengali"
NO_BATCH = "\u2014"
# Dose table: (width in mm, heading); 180 mm between the margins.
COLUMNS = ((12, "Dose"), (24, "Date"), (34, "Vaccine"), (30, "Batch"), (80, "Center"))


def _new_pdf() -> FPDF:
    """An A4 document with the shipped Unicode fonts, Bangla as fallback, and text shaping."""
    pdf = FPDF(format="A4")
    for family in (SANS, BENGALI):
        pdf.add_font(family, "", FONTS / f"{family}-Regular.ttf")
        pdf.add_font(family, "B", FONTS / f"{family}-Bold.ttf")
    pdf.set_fallback_fonts([BENGALI])
    pdf.set_text_shaping(True)
    return pdf


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "\u2026") > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def dose_row(dose: Vaccination) -> tuple[str, ...]:
    """One line of the dose table: number, date, vaccine, batch (when recorded), center."""
    batch = dose.batch or NO_BATCH
    center = f"{dose.center.name}, {dose.center.city}"
    return (
        str(dose.dose_number),
        dose.vaccination_date.isoformat(),
        dose.vaccine.name,
        batch,
        center,
    )


def _draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    """Draw `payload` as a QR code: one filled rectangle per run of dark modules in a row."""
    rows = list(segno.make(payload, error="m", micro=False).matrix_iter(border=4))
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(rows):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            top = y + row_index * module
            pdf.rect(x + start * module, top, (column - start) * module, module, style="F")


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(SANS, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(40, 8, label.upper())
    pdf.set_font(SANS, "B", 12)
    pdf.set_text_color(*INK)
    pdf.cell(0, 8, _fit(pdf, value, 140), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def certificate_pdf(vaccination: Vaccination, doses: list[Vaccination]) -> bytes:
    """The PDF of `vaccination`'s certificate, listing the holder's approved `doses` up to it."""
    certificate: Certificate = vaccination.certificate
    vaccine, holder = vaccination.vaccine, vaccination.holder
    pdf = _new_pdf()
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title("Vaccination certificate")
    pdf.set_author(ISSUER)
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 15)
    pdf.add_page()
    pdf.set_fill_color(*BRAND)
    pdf.rect(0, 0, 210, 34, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font(SANS, "B", 22)
    pdf.set_xy(15, 9)
    pdf.cell(0, 10, "Vaccination Certificate", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SANS, "", 11)
    pdf.cell(0, 7, ISSUER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_xy(15, 46)
    complete = vaccination.dose_number >= vaccine.doses_required
    _field(pdf, "Holder", holder.name)
    _field(pdf, "National ID", mask_nid(holder.nid) or "-")
    if holder.date_of_birth is not None:
        _field(pdf, "Date of birth", holder.date_of_birth.isoformat())
    _field(pdf, "Vaccine", f"{vaccine.name} ({vaccine.manufacturer})")
    _field(
        pdf,
        "Doses",
        f"{vaccination.dose_number} of {vaccine.doses_required}"
        + (" - fully vaccinated" if complete else ""),
    )
    _field(pdf, "Certificate ID", certificate.id)
    _field(pdf, "Issued", certificate.issued_at.strftime("%Y-%m-%d %H:%M UTC"))

    pdf.set_y(pdf.get_y() + 8)
    pdf.set_font(SANS, "B", 10)
    pdf.set_fill_color(232, 240, 248)
    pdf.set_text_color(*INK)
    for width, heading in COLUMNS:
        pdf.cell(width, 8, heading, fill=True)
    pdf.ln(8)
    pdf.set_font(SANS, "", 9)
    for dose in doses:
        for (width, _), value in zip(COLUMNS, dose_row(dose), strict=True):
            pdf.cell(width, 8, _fit(pdf, value, width - 2))
        pdf.ln(8)

    top = pdf.get_y() + 12
    _draw_qr(pdf, certificate.token, 15, top, QR_SIZE)
    pdf.set_xy(15 + QR_SIZE + 8, top + 6)
    pdf.set_font(SANS, "B", 11)
    pdf.cell(0, 7, "Scan to verify", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(SANS, "", 9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(
        100,
        5,
        "The QR code holds this certificate signed by the registry (a JWS, EdDSA). "
        "Check it at POST /certificates/verify, or offline with the public keys at "
        "/.well-known/jwks.json and the list at /certificates/revoked.",
        align="L",
    )
    return bytes(pdf.output())
