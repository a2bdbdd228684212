"""SII document type codes (tipo_doc, contract section 4.2) that change how a row counts."""

# Credit notes: paper 60, electronic 61, export paper 106, export electronic 112. The SII
# reports their amounts as positive numbers; in a period's totals they subtract.
CREDIT_NOTE_TYPES: frozenset[int] = frozenset({60, 61, 106, 112})


def is_credit_note(tipo_doc: int | None) -> bool:
    return tipo_doc in CREDIT_NOTE_TYPES


def sign(tipo_doc: int | None) -> int:
    """-1 for a credit note, 1 for anything else (debit notes and invoices add)."""
    return -1 if is_credit_note(tipo_doc) else 1
