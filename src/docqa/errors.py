"""Errors a user can act on. Each message says what went wrong and how to fix it."""

from __future__ import annotations


class DocQAError(Exception):
    """Base class of every error docqa raises on purpose; the CLI prints its message only."""


class ConfigurationError(DocQAError, ValueError):
    """A setting or argument is invalid (also a ``ValueError``, the convention for bad input)."""


class CorpusError(DocQAError):
    """The corpus folder is missing or unusable."""


class DocumentError(DocQAError):
    """One file could not be turned into a document (it is skipped during ingest)."""


class IndexError_(DocQAError):
    """The index is missing, locked, or was built by an incompatible version."""


class QuestionError(DocQAError, ValueError):
    """The question cannot be asked as given (empty, too long); also a ``ValueError``."""


class DatabaseError(DocQAError):
    """The state database cannot be reached or opened; the message names the setting to fix."""
