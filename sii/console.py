"""How the console shows the sii app's runs: their company (named, linked, found by name or RUT),
a sync's result as tables, and a company picker in the launch form (tasks_api's ConsoleHooks)."""

from typing import Any

from tasks_api.catalog import ConsoleHooks


def companies_matching(term: str) -> list[Any]:
    from sii.selectors import company_ids_matching  # the models load after the catalog

    return company_ids_matching(term)


def sync_tables(result: Any) -> list[dict]:
    from sii.admin.sync_results import sync_result_tables

    return sync_result_tables(result)


def company_field(*, admin_site, help_text: str) -> Any:
    # An autocomplete over the Company admin's search (name, RUT in any spelling): the page
    # never lists every company; the value stays the UUID text the API validates.
    from sii.admin.pickers import CompanyIdField

    return CompanyIdField(admin_site=admin_site, label="Company", required=False, help_text=help_text)


COMPANY_RUNS = ConsoleHooks(
    subject_title="company",
    subject_model="sii.Company",
    subject_name_field="name",
    subject_search=companies_matching,
    subject_search_help="a company's name or RUT",
    result_tables=sync_tables,
    launch_field=company_field,
)
