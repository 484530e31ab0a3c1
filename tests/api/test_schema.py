"""OpenAPI schema and interactive docs list every client endpoint."""

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_lists_client_and_token_paths(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    assert set(paths["/api/v1/clients"]) >= {"get", "post"}
    assert set(paths["/api/v1/clients/{id}"]) >= {"get", "put", "patch"}
    assert "delete" not in paths["/api/v1/clients/{id}"]
    assert "/api/v1/auth/token" in paths
    create = paths["/api/v1/clients"]["post"]
    assert {"201", "422"} <= set(create["responses"])
    assert any(p["name"] == "search" for p in paths["/api/v1/clients"]["get"]["parameters"])


def test_docs_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
