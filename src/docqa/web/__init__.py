"""The web UI (the ``[web]`` extra): a thin Gradio layer over ``DocQA``.

``python app.py`` or ``python -m docqa.web`` serves it; ``import docqa`` never loads Gradio.
"""

from __future__ import annotations
