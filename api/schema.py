"""OpenAPI post-processing: document the 400 that any operation reading the query string may answer.

Every list checks its pagination (``api.pagination``) and most check their filters: a wrong ``?page=``,
``?page_size=`` or filter value is a 400 ``{message, field, rule: null, errors}``. Rather than repeating that
response in every ``extend_schema``, it is added here to each operation with a query parameter."""

from __future__ import annotations

BAD_QUERY = {
    "description": "Paramètre de requête invalide (page, taille de page, filtre) : "
    "`{message, field, rule: null, errors}`."
}


def document_bad_query(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                operation["responses"].setdefault("400", dict(BAD_QUERY))
    return result
