"""``docqa workspace create|list|remove|grant|revoke`` and ``docqa feedback export``, and the
``--workspace`` option of ``ingest``, ``ask`` and ``chat`` (see ``workspaces.py``).

Every change to a workspace, and every refused one, goes to the audit log under its name.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docqa.cli_users import operator_name
from docqa.db.schema import NAME_LENGTH
from docqa.errors import DocQAError
from docqa.fileio import atomic_write
from docqa.layout import IndexPaths
from docqa.manifest import Manifest
from docqa.settings import Settings
from docqa.workspaces import (
    DEFAULT_WORKSPACE,
    GRANT_ROLES,
    Workspace,
    WorkspaceError,
    check_workspace_name,
    workspace_settings,
)

if TYPE_CHECKING:
    from docqa.state import State

Record = Callable[[str], None]
"""Writes one audit entry of the running command, given its outcome."""


def add_workspace_option(parser: argparse.ArgumentParser) -> None:
    """``--workspace NAME`` of a command that reads or writes one workspace's index."""
    parser.add_argument(
        "--workspace",
        default=DEFAULT_WORKSPACE,
        help=f"the workspace to use (default: {DEFAULT_WORKSPACE}; 'docqa workspace list')",
    )


def add_workspace_parser(sub: Any) -> None:
    """The ``workspace`` command and its subcommands, and ``feedback export``."""
    workspace = sub.add_parser("workspace", help="manage workspaces: separate document sets")
    actions = workspace.add_subparsers(dest="workspace_command", required=True)
    create = actions.add_parser("create", help="add a workspace")
    create.add_argument("name", help="workspace name (lower-case letters, digits, '_', '-')")
    create.add_argument(
        "--corpus",
        type=Path,
        dest="workspace_corpus",
        help="an existing folder of its documents (default: a folder of its own for uploads)",
    )
    actions.add_parser("list", help="list the workspaces, their documents and grants")
    remove = actions.add_parser("remove", help="delete a workspace, its index and its uploads")
    remove.add_argument("name", help="workspace name")
    remove.add_argument("--yes", action="store_true", help="really delete it")
    grant = actions.add_parser("grant", help="give a user a role in a workspace")
    grant.add_argument("name", help="workspace name")
    grant.add_argument("user", help="user name")
    grant.add_argument("--role", choices=GRANT_ROLES, required=True, help="reader or editor")
    revoke = actions.add_parser("revoke", help="take a user's role in a workspace away")
    revoke.add_argument("name", help="workspace name")
    revoke.add_argument("user", help="user name")

    feedback = sub.add_parser("feedback", help="the feedback users gave on answers")
    feedback_actions = feedback.add_subparsers(dest="feedback_command", required=True)
    export = feedback_actions.add_parser(
        "export", help="write a workspace's feedback as a 'docqa eval' question set (JSONL)"
    )
    export.add_argument("--workspace", required=True, help="workspace name")
    export.add_argument("--out", type=Path, help="question file to write (default: stdout)")


def command_settings(base: Settings, workspace: str, *, corpus_given: bool = False) -> Settings:
    """The settings ``ingest``, ``ask`` and ``chat`` use in ``workspace``: ``base`` for
    ``default`` (no database is opened then), else the workspace's own corpus and index.

    Raises:
        WorkspaceError: a bad or unknown name, or ``--corpus`` given with another workspace.
    """
    check_workspace_name(workspace)
    if workspace == DEFAULT_WORKSPACE:
        return base
    if corpus_given:
        raise WorkspaceError(
            f"--corpus names the default workspace's folder; workspace {workspace!r} keeps its "
            "own ('docqa workspace list' shows it). Leave out --corpus."
        )
    return workspace_settings(base, _existing(_state(base), workspace))


def _state(settings: Settings) -> State:
    """The database of ``settings`` (imported here: ``docqa ask`` in default never opens it)."""
    from docqa.state import State

    return State.open(settings)


def _existing(state: State, name: str) -> Workspace:
    """Workspace ``name``, or an error naming the command that lists them."""
    check_workspace_name(name)
    found = state.workspaces.get(name)
    if found is None:
        raise WorkspaceError(
            f"No workspace {name!r}; 'docqa workspace list' shows them and "
            f"'docqa workspace create {name}' adds it."
        )
    return found


def _documents(settings: Settings) -> str:
    """How many documents the index of ``settings`` holds (read from its manifest: cheap)."""
    manifest_path = IndexPaths(settings.index_dir).manifest
    if not manifest_path.exists():
        return "not indexed"
    try:
        manifest = Manifest.load(manifest_path)
    except DocQAError:
        return "index unreadable (rebuild it: docqa ingest --rebuild)"
    count = sum(1 for entry in manifest.files.values() if entry.skipped_reason is None)
    return f"{count} document{'' if count == 1 else 's'}"


def _list(state: State, base: Settings) -> None:
    for workspace in state.workspaces.all():
        settings = workspace_settings(base, workspace)
        grants = state.workspaces.grants(workspace.name)
        shown = ",".join(f"{user}:{role}" for user, role in grants.items()) or "no grants"
        print(f"{workspace.name}\t{settings.corpus_dir}\t{_documents(settings)}\t{shown}")


def _create(state: State, base: Settings, args: argparse.Namespace) -> str:
    workspace = state.workspaces.create(args.name, args.workspace_corpus)
    settings = workspace_settings(base, workspace)
    if workspace.corpus_dir is None:
        settings.corpus_dir.mkdir(parents=True, exist_ok=True)  # for uploads or copied files
        where = f"its own folder {settings.corpus_dir}"
    else:
        where = f"{settings.corpus_dir} (left in place if the workspace is removed)"
    print(f"Created workspace {workspace.name} in {state.db.display_url}.")
    print(f"Its documents live in {where}.")
    print(f"Index them with: docqa ingest --workspace {workspace.name}")
    print(f"Let users in with: docqa workspace grant {workspace.name} USER --role reader")
    return f"created (corpus {settings.corpus_dir})"


def _removal(state: State, base: Settings, name: str) -> str:
    """What removing workspace ``name`` deletes and keeps, in words (``default``: the store's
    own refusal)."""
    if name == DEFAULT_WORKSPACE:
        state.workspaces.remove(name)  # refuses, saying why
    workspace = _existing(state, name)
    paths = IndexPaths(workspace_settings(base, workspace).index_dir)
    grants = len(state.workspaces.grants(name))
    feedback = len(state.feedback.of_workspace(name))
    deletes = (
        f"its {grants} grant(s), its conversations, its {feedback} feedback item(s) and its "
        f"index folder {paths.root}"
    )
    if workspace.corpus_dir is None:
        return f"{deletes}, with the documents uploaded to {paths.workspace_corpus}"
    return f"{deletes}; its corpus folder {workspace.corpus_dir} is kept"


def _remove(state: State, base: Settings, args: argparse.Namespace, record: Record) -> str:
    from docqa.library import remove_workspace_index

    described = _removal(state, base, args.name)
    if not args.yes:
        record("refused: --yes not given")
        raise WorkspaceError(
            f"Removing workspace {args.name!r} deletes {described}. Pass --yes to remove it."
        )
    workspace = state.workspaces.remove(args.name)  # grants, conversations, feedback with it
    settings = workspace_settings(base, workspace)
    try:
        deleted, kept = remove_workspace_index(settings)
    except (OSError, DocQAError) as exc:
        record(f"removed; index not deleted: {exc}")
        raise WorkspaceError(
            f"Workspace {workspace.name!r} is removed, but its index could not be deleted "
            f"({exc}); delete {settings.index_dir} yourself."
        ) from None
    print(f"Removed workspace {workspace.name} from {state.db.display_url}: {described}.")
    uploads = IndexPaths(settings.index_dir).workspace_corpus.resolve()
    for path in deleted:
        what = "uploaded documents" if path == uploads else "index folder"
        print(f"  deleted its {what} {path}")
    for path in kept:
        print(f"  kept its corpus folder {path}")
    return "removed"


def _change(state: State, base: Settings, args: argparse.Namespace, record: Record) -> str:
    """Carry out one ``docqa workspace`` change; its outcome, for the audit log."""
    name, command = args.name, args.workspace_command
    if command == "create":
        return _create(state, base, args)
    if command == "remove":
        return _remove(state, base, args, record)
    if command == "grant":
        state.workspaces.grant(name, args.user, args.role)
        print(f"{args.user} is now {args.role} in workspace {name}.")
        return f"granted {args.role}"
    state.workspaces.revoke(_existing(state, name).name, args.user)
    print(f"{args.user} holds no role in workspace {name} any more.")
    return "revoked"


def cmd_workspace(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``docqa workspace ...`` or ``docqa feedback export`` against the database of
    ``settings``; every workspace change, or attempt to change, goes to the audit log."""
    state = _state(settings)
    if args.command == "feedback":
        return _export(state, settings, args.workspace, args.out)
    if args.workspace_command == "list":
        _list(state, settings)
        return 0
    action = f"workspace {args.workspace_command}"
    target = getattr(args, "user", None) or args.name
    written: list[str] = []

    def record(outcome: str) -> None:
        written.append(outcome)
        workspace = args.name[:NAME_LENGTH]  # a refused name may be longer than the column
        state.audit.record(operator_name(), action, target, outcome, workspace=workspace)

    try:
        outcome = _change(state, settings, args, record)
    except DocQAError as exc:
        if not written:  # a refusal _remove already wrote down is not written twice
            record(f"failed: {exc}")
        raise
    record(outcome)
    return 0


def _export(state: State, base: Settings, name: str, out: Path | None) -> int:
    """Write workspace ``name``'s feedback as ``docqa eval`` questions (JSONL) to ``out`` or
    stdout; stderr says how many and how to score them."""
    workspace = _existing(state, name)
    questions = state.feedback.questions(workspace.name)
    lines = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions)
    if out is None:
        sys.stdout.write(lines)
    else:
        atomic_write(out, lines)
    where = "" if out is None else f" to {out}"
    print(
        f"Exported {len(questions)} question(s) from the feedback of workspace "
        f"{workspace.name}{where}.",
        file=sys.stderr,
    )
    if not questions:
        print(
            "Nothing to score yet: questions come from answers users rated up and passages "
            "they marked as the answer.",
            file=sys.stderr,
        )
        return 0
    corpus = workspace_settings(base, workspace).corpus_dir
    run = f"docqa eval --docs {corpus} --questions {out or 'FILE'}"
    how = f"Score them: {run}" if out else f"Save them with --out FILE, then score them: {run}"
    print(how, file=sys.stderr)
    return 0
