"""nginx for a deployment from deploy/nginx: render the templates, the main configuration and
a self-signed certificate. tests/deploy/conftest.py renders the same templates the same way."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from .processes import ClusterError, run

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
MODSECURITY_MODULE = Path("/usr/lib/nginx/modules/ngx_http_modsecurity_module.so")
CRS_RULES = Path("/usr/share/modsecurity-crs/rules")
PLACEHOLDER = re.compile(r"\$\{(TASKWELL_NGINX_[A-Z_]+)\}")
# One failed attempt takes an instance out this long (deploy/nginx/taskwell-instances.conf).
FAIL_TIMEOUT_SECONDS = 5


def binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render_templates(values: Mapping[str, str], target: Path) -> None:
    """Copy every .conf file under deploy/nginx into target with its placeholders filled in,
    as `envsubst` limited to TASKWELL_NGINX_* does in production (deploy/nginx/README.md)."""
    for source in sorted(TEMPLATES.rglob("*.conf")):
        text = source.read_text()
        missing = set(PLACEHOLDER.findall(text)) - values.keys()
        if missing:
            raise ClusterError(f"{source.name} uses placeholders that are not set: {missing}")
        destination = target / source.relative_to(TEMPLATES)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def instances_conf(ports: Iterable[int]) -> str:
    """taskwell-instances.conf: one upstream server line per instance."""
    return "".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;\n"
        for port in ports
    )


def main_conf(prefix: Path, conf_dir: Path, workers: str = "1") -> str:
    """What a distribution's nginx.conf provides, with every path inside the prefix."""
    temp = prefix / "tmp"
    return f"""
load_module {MODSECURITY_MODULE};
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/logs/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {conf_dir}/taskwell.conf;
}}
"""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 (kept if present), made with openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ClusterError("openssl is not installed (apt-get install openssl)")
    run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ]
    )
    key.chmod(0o600)
    return cert, key
