"""``python -m docqa.web``: serve the web UI (see ``docqa.web.app.main``)."""

from docqa.web.app import main

main()
