"""The edge: nginx with ModSecurity and the OWASP CRS in front of a real Taskwell instance.

Normal API use passes untouched, classic attacks stop at nginx with 403 and leave an audit
record naming the rule, and TLS, redirects, request caps, forwarding, compression and caching
are what deploy/nginx promises. See conftest.py for the stack (and why a "down" instance is in it).
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import STRONG_PASSWORD
from tests.deploy.conftest import CLIENT_ADDRESS, Edge
from tests.support import images

HSTS = "max-age=31536000; includeSubDomains"
PROBLEM = "application/problem+json"
MIB = 1_048_576


@pytest.fixture
def client(edge: Edge) -> Iterator[httpx.Client]:
    with edge.client() as http:
        yield http


def _register(client: httpx.Client, password: str = STRONG_PASSWORD) -> str:
    email = f"{uuid.uuid4().hex}@example.com"
    registered = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    return email


def _sign_up(client: httpx.Client, password: str = STRONG_PASSWORD) -> dict[str, str]:
    return _log_in(client, _register(client, password), password)


def _log_in(client: httpx.Client, email: str, password: str, **headers: str) -> dict[str, str]:
    login = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture
def auth(client: httpx.Client) -> dict[str, str]:
    return _sign_up(client)


def _problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"] == PROBLEM, response.text
    body: dict[str, Any] = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    return str(body["type"]).removeprefix("urn:taskwell:problem:")


def _audit_record(edge: Edge, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """The WAF's audit record of one request (written just after the response: poll)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in edge.audit_log.read_text().splitlines():
            record: dict[str, Any] = json.loads(line)["transaction"]
            if record["unique_id"] == request_id:
                return record
        assert time.monotonic() < deadline, f"no audit record for {request_id}"
        time.sleep(0.05)


def test_the_api_flow_passes_the_waf_untouched(edge: Edge, client: httpx.Client) -> None:
    auth = _sign_up(client)

    created = client.post(
        "/api/v1/tasks", json={"title": "Buy oat milk", "priority": 2}, headers=auth
    )
    assert created.status_code == 201, created.text
    task_url = f"/api/v1/tasks/{created.json()['id']}"
    # The app builds Location from the plain-HTTP request it sees; clients get the public origin.
    assert created.headers["location"] == edge.https_origin + task_url

    listed = client.get("/api/v1/tasks?q=oat&sort=-priority&limit=20", headers=auth)
    assert listed.status_code == 200
    assert [t["title"] for t in listed.json()["items"]] == ["Buy oat milk"]

    patched = client.patch(
        task_url, json={"status": "done"}, headers={**auth, "If-Match": created.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "done"

    deleted = client.delete(task_url, headers={**auth, "If-Match": patched.headers["etag"]})
    assert deleted.status_code == 204
    gone = client.get(task_url, headers=auth)
    assert gone.status_code == 404
    assert _problem_type(gone) == "task-not-found"  # the app's own answer, passed through


def test_a_password_that_looks_like_an_attack_still_signs_in(client: httpx.Client) -> None:
    """Passwords are only hashed, never interpreted: the WAF does not inspect them."""
    auth = _sign_up(client, password="x' OR '1'='1' -- <script>alert(1)</script> lanterns 42")

    assert client.get("/api/v1/tasks", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body", "rule_family"),
    [
        ("GET", "/api/v1/tasks?q=1' OR '1'='1", None, "942"),
        ("POST", "/api/v1/tasks", {"title": "x'; DROP TABLE tasks; --"}, "942"),
        ("GET", "/api/v1/tasks?q=<script>alert(document.cookie)</script>", None, "941"),
        ("POST", "/api/v1/tasks", {"title": "<img src=x onerror=alert(1)>"}, "941"),
        ("GET", "/api/v1/tasks/..%2f..%2f..%2fetc%2fpasswd", None, "930"),
        ("GET", "/api/v1/tasks?q=../../../../etc/passwd", None, "930"),
    ],
    ids=["sqli-query", "sqli-json-body", "xss-query", "xss-json-body", "traversal", "lfi-query"],
)
def test_an_attack_is_refused_at_the_edge_and_audited(
    edge: Edge,
    client: httpx.Client,
    auth: dict[str, str],
    method: str,
    url: str,
    body: dict[str, str] | None,
    rule_family: str,
) -> None:
    response = client.request(method, url, json=body, headers=auth)

    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html"  # nginx's page: the app never saw it
    record = _audit_record(edge, response.headers["x-request-id"])
    assert record["response"]["http_code"] == 403
    rules = {m["details"]["ruleId"] for m in record["messages"]}
    assert "949110" in rules  # the inbound anomaly score reached the threshold
    assert any(rule.startswith(rule_family) for rule in rules), rules
    # Request headers and bodies stay out of the audit log: no tokens, no passwords there.
    assert auth["Authorization"].removeprefix("Bearer ") not in edge.audit_log.read_text()


@pytest.mark.parametrize(
    ("method", "headers", "content"),
    [
        ("PUT", {"Content-Type": "application/json"}, b"{}"),
        ("POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"title=hello"),
    ],
    ids=["unused-method", "non-json-body"],
)
def test_what_the_api_never_takes_is_refused(
    client: httpx.Client,
    auth: dict[str, str],
    method: str,
    headers: dict[str, str],
    content: bytes,
) -> None:
    response = client.request(method, "/api/v1/tasks", content=content, headers={**auth, **headers})

    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html"


def test_plain_http_is_redirected_to_the_https_origin(edge: Edge) -> None:
    response = httpx.get(f"{edge.http_origin}/api/v1/tasks?status=todo", timeout=10)

    assert response.status_code == 301
    assert response.headers["location"] == f"{edge.https_origin}/api/v1/tasks?status=todo"
    assert response.headers["server"] == "nginx"  # server_tokens off: no version


def test_every_https_response_has_exactly_one_hsts_header(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    responses = [
        client.get("/api/v1/tasks", headers=auth),  # the app sends HSTS too (TASKWELL_HSTS)
        client.get("/api/v1/tasks?q=1' OR '1'='1", headers=auth),  # the WAF's 403
        client.get("/assets/app-3f9a1c2b.js"),  # a static file with its own headers
        client.get("/metrics"),  # nginx's own 404
    ]

    for response in responses:
        assert response.headers.get_list("strict-transport-security") == [HSTS], response.url


def test_the_app_sees_the_client_address_through_x_forwarded_for(client: httpx.Client) -> None:
    email = _register(client)
    # A client's own X-Forwarded-For is replaced by nginx, so it cannot choose its address.
    auth = _log_in(client, email, STRONG_PASSWORD, **{"X-Forwarded-For": "203.0.113.9"})

    sessions = client.get("/api/v1/auth/sessions", headers=auth).json()

    assert [s["ip"] for s in sessions if s["current"]] == [CLIENT_ADDRESS]


def test_a_body_over_one_mebibyte_gets_413_from_nginx(
    client: httpx.Client, auth: dict[str, str]
) -> None:
    def post_body_of(size: int) -> httpx.Response:
        body = b'{"title": "' + b"a" * (size - 13) + b'"}'
        assert len(body) == size
        headers = {**auth, "Content-Type": "application/json"}
        return client.post("/api/v1/tasks", content=body, headers=headers)

    at_limit, over_limit = post_body_of(MIB), post_body_of(MIB + 1)

    assert at_limit.status_code == 422  # reached the app: the title is far too long
    assert "instance" in at_limit.json()  # ...and only the app's problems have an instance
    assert over_limit.status_code == 413
    assert _problem_type(over_limit) == "payload-too-large"
    assert "instance" not in over_limit.json()


def test_avatars_up_to_five_mebibytes_pass_nginx_and_the_waf(
    edge: Edge, client: httpx.Client, auth: dict[str, str]
) -> None:
    # Noise does not compress: a PNG of about 2.3 MB, over every other body's 1 MiB cap.
    noise = Image.frombytes("RGB", (880, 880), random.Random(7).randbytes(880 * 880 * 3))
    body = images.encode(noise, "PNG")
    assert MIB < len(body) < 5 * MIB
    headers = {**auth, "Content-Type": "image/png"}

    uploaded = client.put("/api/v1/users/me/avatar", content=body, headers=headers)
    too_big = client.put("/api/v1/users/me/avatar", content=b"\0" * (5 * MIB + 1), headers=headers)

    assert uploaded.status_code == 200, edge.audit_log.read_text()[-2000:]
    assert uploaded.json()["avatar"] is not None
    assert too_big.status_code == 413
    assert _problem_type(too_big) == "payload-too-large"


def test_imports_over_one_mebibyte_pass_nginx_and_the_waf(
    edge: Edge, client: httpx.Client, auth: dict[str, str]
) -> None:
    # A Todoist CSV of about 1.5 MB: over every other body's 1 MiB cap, under the import's.
    rows = "".join(f"task,Row {i} {'x' * 40},,4,1,,,,,,,\r\n" for i in range(25_000))
    body = (
        "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,"
        "TIMEZONE,DURATION,DURATION_UNIT\r\n" + rows
    ).encode()
    assert MIB < len(body) < 20 * MIB
    headers = {**auth, "Content-Type": "text/csv"}

    imported = client.post("/api/v1/import/todoist", content=body, headers=headers)

    assert imported.status_code == 201, imported.text[:500] + edge.audit_log.read_text()[-2000:]
    assert imported.json()["tasks"] == 25_000


def test_oversized_request_lines_and_headers_are_refused_as_problems(
    client: httpx.Client,
) -> None:
    long_url = client.get("/api/v1/tasks?q=" + "a" * 9000)
    long_header = client.get("/api/v1/tasks", headers={"X-Note": "a" * 9000})

    assert (long_url.status_code, _problem_type(long_url)) == (414, "uri-too-long")
    assert (long_header.status_code, _problem_type(long_header)) == (431, "headers-too-large")


def _handshake(edge: Edge, version: ssl.TLSVersion) -> tuple[str | None, str | None]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(edge.cafile))
    # Let this client offer old protocols, so a refusal is the server's doing.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    context.set_alpn_protocols(["h2", "http/1.1"])
    port = int(edge.https_origin.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version(), tls.selected_alpn_protocol()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_is_1_2_or_newer_and_offers_http2(edge: Edge) -> None:
    assert _handshake(edge, ssl.TLSVersion.TLSv1_2) == ("TLSv1.2", "h2")
    assert _handshake(edge, ssl.TLSVersion.TLSv1_3) == ("TLSv1.3", "h2")
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
        _handshake(edge, ssl.TLSVersion.TLSv1_1)


def test_hashed_assets_are_immutable_and_the_app_shell_revalidates(client: httpx.Client) -> None:
    asset = client.get("/assets/app-3f9a1c2b.js")
    shell = client.get("/tasks/some-client-side-route")

    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in asset.headers["content-security-policy"]
    assert shell.status_code == 200
    assert shell.text.startswith("<!doctype html>")
    assert shell.headers["cache-control"] == "no-cache"


def test_readiness_passes_through_and_metrics_stay_private(client: httpx.Client) -> None:
    ready = client.get("/readyz")
    metrics = client.get("/metrics")

    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert (metrics.status_code, _problem_type(metrics)) == (404, "not-found")


def test_a_down_instance_is_skipped(edge: Edge, client: httpx.Client, auth: dict[str, str]) -> None:
    """The upstream lists a port where nothing listens next to the live instance."""
    statuses = [client.get("/api/v1/tasks", headers=auth).status_code for _ in range(10)]
    statuses += [
        client.post("/api/v1/tasks", json={"title": f"t{i}"}, headers=auth).status_code
        for i in range(5)
    ]

    assert statuses == [200] * 10 + [201] * 5
    refused = "(111: Connection refused) while connecting to upstream"
    assert any(
        refused in line and f":{edge.down_instance_port}/" in line
        for line in edge.error_log.read_text().splitlines()
    )


def test_lists_are_compressed_but_secrets_are_not(client: httpx.Client) -> None:
    email = _register(client)
    for _ in range(5):  # enough sessions for a list over gzip_min_length
        _log_in(client, email, STRONG_PASSWORD)
    auth = _log_in(client, email, STRONG_PASSWORD)
    for i in range(12):
        client.post("/api/v1/tasks", json={"title": f"Task number {i:02d}"}, headers=auth)
    gzip = {**auth, "Accept-Encoding": "gzip"}

    tasks = client.get("/api/v1/tasks", headers=gzip)
    sessions = client.get("/api/v1/auth/sessions", headers=gzip)

    assert tasks.headers.get("content-encoding") == "gzip"
    assert len(sessions.json()) == 6
    assert len(sessions.content) > 1024
    assert "content-encoding" not in sessions.headers  # the auth routes carry tokens: no BREACH


def test_event_streams_pass_through_unbuffered_and_uncompressed(
    edge: Edge, client: httpx.Client, auth: dict[str, str]
) -> None:
    """Each event reaches the client through nginx (and the WAF) as it is sent: a buffering
    or compressing proxy would hold these few bytes back until the stream ends."""
    verify = ssl.create_default_context(cafile=str(edge.cafile))
    transport = httpx.HTTPTransport(verify=verify, local_address=CLIENT_ADDRESS)
    headers = {**auth, "Accept-Encoding": "gzip"}
    with (
        httpx.Client(
            base_url=edge.https_origin,
            transport=transport,
            timeout=httpx.Timeout(10.0, read=5.0),  # a held-back event times out the read
        ) as streaming,
        streaming.stream("GET", "/api/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        lines = response.iter_lines()
        assert any(line == "event: ready" for line in _take(lines, 10))
        created = client.post("/api/v1/tasks", json={"title": "Live through nginx"}, headers=auth)
        assert created.status_code == 201, created.text
        data = next(line for line in _take(lines, 20) if line.startswith('data: {"changes"'))
        assert json.loads(data.removeprefix("data: "))["changes"][0]["id"] == created.json()["id"]


def _take(lines: Iterator[str], most: int) -> Iterator[str]:
    for _, line in zip(range(most), lines, strict=False):
        yield line
