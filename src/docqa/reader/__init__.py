"""docqa's reader: a cross-encoder trained by the project (``make train-reader``).

``reading`` runs the shipped weights at question time (NumPy/``tokenizers``, as the question
encoder does); ``data``, ``model`` and ``train`` are training-side and import torch and
transformers, so the question path never imports them.
"""
