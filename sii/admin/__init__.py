"""The operators' console for the sii app: companies (with sync actions), synced rows, task runs."""

from sii.admin import companies, documents, simulator  # noqa: F401  (importing registers the admins)
