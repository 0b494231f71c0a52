"""Privacy of personal data: what each caller sees of a person, audited reveals, the export."""
