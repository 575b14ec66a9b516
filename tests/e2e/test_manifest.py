"""The web app manifest: what a browser needs to offer "Install", PNG icons included."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.support.processes import AppProcess


def test_the_manifest_lists_png_icons_of_192_and_512_px_and_a_maskable_one(
    server: AppProcess,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        manifest = client.get("/manifest.webmanifest").json()
        pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
        assert {(icon["sizes"], icon["purpose"]) for icon in pngs} == {
            ("192x192", "any"),
            ("512x512", "any"),
            ("512x512", "maskable"),
        }
        for icon in pngs:
            response = client.get(icon["src"])
            assert response.status_code == 200, icon
            assert response.headers["content-type"] == "image/png"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
