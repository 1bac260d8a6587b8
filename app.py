"""Start the docqa web UI: ``python app.py [--host 127.0.0.1] [--port 7860]``."""

from __future__ import annotations

from docqa.web.app import main

if __name__ == "__main__":
    main()
