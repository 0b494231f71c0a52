"""Privacy of personal data: encryption at rest, blind indexes, key rotation and retention;
what each caller sees, audited reveals, the export."""
