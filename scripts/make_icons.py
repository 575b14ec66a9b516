"""Draw the app's PNG icons (frontend/public/icon-*.png) from the same shapes as icon.svg.

Browsers that install a web app want PNGs of 192 and 512 px, and Android a "maskable" one it
may crop to a circle: the mark stays inside the middle 80% (the safe zone), the background
reaches every edge. Drawn at 4x and scaled down for smooth edges. Re-run after changing the
design: `.venv/bin/python scripts/make_icons.py`; the output is the same bytes every time.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

PUBLIC = Path(__file__).resolve().parents[1] / "frontend" / "public"
BLUE = "#1d4ed8"  # the theme colour (manifest theme_color, primary buttons)
WHITE = "#ffffff"
# icon.svg's 64-unit canvas: a rounded square (rx 14) and a check mark 7 units wide.
VIEWBOX = 64
CORNER = 14
CHECK = ((18, 33), (27, 42), (46, 22))
STROKE = 7
SUPERSAMPLE = 4


def draw_icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    unit = big / VIEWBOX
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=BLUE)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(CORNER * unit), fill=BLUE)
    points = [(x * unit, y * unit) for x, y in CHECK]
    width = round(STROKE * unit)
    draw.line(points, fill=WHITE, width=width, joint="curve")
    radius = width / 2
    for x, y in (points[0], points[-1]):  # round caps
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
}


def main() -> None:
    for name, (size, maskable) in ICONS.items():
        path = PUBLIC / name
        draw_icon(size, maskable=maskable).save(path, format="PNG", optimize=True)
        print(f"wrote {path.relative_to(PUBLIC.parents[1])} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
