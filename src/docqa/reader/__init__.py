"""docqa's reader: a cross-encoder trained by the project (``make train-reader``).

Training-side for now; it is not yet an ``Answerer``. Imports torch and transformers, so the core
never imports this package.
"""
