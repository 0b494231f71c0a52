"""The printable certificate: one A4 page with the holder, the doses and a QR of the signed token.

fpdf2 and segno are pure Python, small and actively maintained: fpdf2 writes PDFs without a
browser or system libraries, and segno encodes QR codes without Pillow; we draw the QR's modules
as vector squares so it stays sharp at any print size.
"""

from __future__ import annotations

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from backend.models import Certificate, Vaccination
from backend.vaccination.certificates import ISSUER, mask_nid

INK = (25, 35, 45)
BRAND = (0, 84, 147)
MUTED = (95, 105, 115)
QR_SIZE = 62  # mm, comfortably scannable from a phone at arm's length


def _latin1(text: str) -> str:
    """What the PDF's core font can show; the signed token keeps the exact text."""
    return text.encode("latin-1", "replace").decode("latin-1")


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
    pdf.set_font("Helvetica", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(40, 8, _latin1(label.upper()))
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*INK)
    pdf.cell(0, 8, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def certificate_pdf(vaccination: Vaccination, doses: list[Vaccination]) -> bytes:
    """The PDF of `vaccination`'s certificate, listing the holder's approved `doses` up to it."""
    certificate: Certificate = vaccination.certificate
    vaccine, holder = vaccination.vaccine, vaccination.holder
    pdf = FPDF(format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title("Vaccination certificate")
    pdf.set_author(ISSUER)
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 15)
    pdf.add_page()
    pdf.set_fill_color(*BRAND)
    pdf.rect(0, 0, 210, 34, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 22)
    pdf.set_xy(15, 9)
    pdf.cell(0, 10, "Vaccination Certificate", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, ISSUER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_xy(15, 46)
    complete = vaccination.dose_number >= vaccine.doses_required
    _field(pdf, "Holder", holder.name)
    _field(pdf, "National ID", mask_nid(holder.nid) or "-")
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
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_fill_color(232, 240, 248)
    pdf.set_text_color(*INK)
    for width, heading in ((20, "Dose"), (35, "Date"), (125, "Center")):
        pdf.cell(width, 8, heading, fill=True)
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 10)
    for dose in doses:
        pdf.cell(20, 8, f"{dose.dose_number}")
        pdf.cell(35, 8, dose.vaccination_date.isoformat())
        center = f"{dose.center.name}, {dose.center.address}, {dose.center.city}"
        pdf.cell(125, 8, _latin1(center)[:80], new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    top = pdf.get_y() + 12
    _draw_qr(pdf, certificate.token, 15, top, QR_SIZE)
    pdf.set_xy(15 + QR_SIZE + 8, top + 6)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Scan to verify", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
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
