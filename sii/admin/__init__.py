"""The operators' console for the sii app: companies (with sync actions) and the synced rows."""

from sii.admin import companies, documents  # noqa: F401  (importing registers the admins)
