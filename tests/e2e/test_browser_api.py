"""A browser's view of a real `o2c serve`: GraphiQL from the service itself (no CDN), CORS from
`O2C_CORS_ORIGINS`, the GraphiQL and introspection switches, and GraphQL-over-HTTP media types —
checked by the graphql-http audit (npm) when node is here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from server_process import Server, running_server

pytestmark = pytest.mark.slow

FRONT_END = "http://front-end.test:3000"
AUDIT = Path(__file__).parent / "graphql_http_audit"
CDNS = ("unpkg.com", "jsdelivr.net", "cdnjs", "esm.sh", "googleapis.com", "skypack")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = Path(tmp_path_factory.mktemp("browser")) / "o2c.sqlite"
    with running_server(f"sqlite:///{path}", extra_env={"O2C_CORS_ORIGINS": FRONT_END}) as running:
        yield running


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


def test_graphiql_and_every_asset_it_loads_come_from_the_service_itself(server: Server) -> None:
    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text and "https://" not in page.text
    parser = _Links()
    parser.feed(page.text)
    assert len(parser.links) >= 4  # CSS, React, ReactDOM, GraphiQL, the starter script
    for link in parser.links:
        assert link.startswith("/") and not link.startswith("//"), link
        asset = httpx.get(f"{server.url}{link}")
        assert asset.status_code == 200 and len(asset.content) > 100, link
        text = asset.text
        assert not any(cdn in text for cdn in CDNS), link
        if link.endswith(".css"):
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", text) and "@import" not in text, link
    starter = httpx.get(f"{server.url}{parser.links[-1]}").text
    assert '"Authorization": "Bearer <key>"' in starter  # the header editor's pre-filled text


def test_a_front_end_on_an_allowed_origin_may_call_the_api_and_others_may_not(server: Server) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = httpx.options(f"{server.url}/graphql", headers={"Origin": FRONT_END, **preflight})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == FRONT_END
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = httpx.options(f"{server.url}/graphql", headers={"Origin": "http://elsewhere.test", **preflight})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    answer = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": FRONT_END, "Authorization": f"Bearer {server.key}"},
    )
    assert answer.headers["access-control-allow-origin"] == FRONT_END and answer.json()["data"]


def test_a_client_accepting_graphql_response_json_gets_it_with_400_on_a_document_that_does_not_validate(
    server: Server,
) -> None:
    headers = {"Authorization": f"Bearer {server.key}", "Accept": "application/graphql-response+json"}
    ok = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = httpx.post(f"{server.url}/graphql", json={"query": "{ noSuchField }"}, headers=headers)
    assert invalid.status_code == 400 and "data" not in invalid.json() and invalid.json()["errors"]
    legacy = httpx.post(
        f"{server.url}/graphql", json={"query": "{ noSuchField }"}, headers={"Authorization": headers["Authorization"]}
    )
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")


def _node_audit_dir(tmp_root: Path) -> Path | None:
    """graphql-http installed from the pinned package-lock.json into a scratch copy of the audit folder."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required in CI for the graphql-http audit")
        return None
    target = tmp_root / "graphql_http_audit"
    shutil.copytree(AUDIT, target)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=target, check=True, timeout=300)
    return target


def test_the_graphql_http_audit_passes_every_must_and_should(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = _node_audit_dir(Path(tmp_path_factory.mktemp("audit")))
    if target is None:
        pytest.skip("node/npm not installed (the audit is an npm package; CI requires it)")
    run = subprocess.run(
        ["node", "audit.mjs", f"{server.url}/graphql", server.key],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(run.stdout)
    assert len(results) > 40
    failed = [r for r in results if r["status"] != "ok" and (r["name"].startswith(("MUST", "SHOULD")))]
    assert not failed, failed
    # The MAYs left are the GET-query ones: queries are POSTed here (GET /graphql serves GraphiQL).
    assert all("GET" in r["name"] for r in results if r["status"] != "ok")


def test_graphiql_and_introspection_can_be_switched_off(tmp_path: Path) -> None:
    env = {"O2C_GRAPHIQL": "0", "O2C_INTROSPECTION": "0"}
    with running_server(f"sqlite:///{tmp_path / 'o2c.sqlite'}", extra_env=env) as server:
        assert httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}).status_code == 404
        assert httpx.get(f"{server.url}/graphiql-assets/graphiql.min.js").status_code == 404
        body = server.graphql("{ __schema { types { name } } }")
        assert "data" not in body or body["data"] is None
        assert "introspection" in body["errors"][0]["message"].lower()
        assert server.graphql("{ __typename }")["data"] == {"__typename": "Query"}
        refused = httpx.options(
            f"{server.url}/graphql", headers={"Origin": FRONT_END, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in refused.headers  # no CORS origins by default
