"""The browser app: its built files (webapp/dist, made by frontend/) served by the Python app."""

from pathlib import Path

# Where `npm run build` (frontend/vite.config.ts) writes, and what the wheel carries.
PACKAGED_DIST = Path(__file__).resolve().parent / "dist"
