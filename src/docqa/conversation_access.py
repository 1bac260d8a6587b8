"""Kept conversations and feedback, as a server serves them: each user reaches only their own
conversations, and only in workspaces they may still see."""

from __future__ import annotations

from docqa.access import AccessControl
from docqa.conversation_store import ConversationInfo, ConversationNotFound, Turn
from docqa.feedback import Feedback
from docqa.serving import NotFound
from docqa.workspaces import DEFAULT_WORKSPACE


class ConversationAccess(AccessControl):
    """The conversation and feedback requests of a server (``LibraryService`` adds asking)."""

    def _conversation(
        self, owner: str, conversation_id: str, workspace: str | None = None
    ) -> ConversationInfo:
        try:
            info = self.state.conversations.get(conversation_id, owner)
        except ConversationNotFound as exc:
            raise NotFound(str(exc)) from None
        if workspace is not None and info.workspace != workspace:
            raise NotFound(
                f"Conversation {conversation_id!r} belongs to another workspace "
                f"({info.workspace}); ask there."
            )
        return info

    def conversations(
        self, who: str | None, workspace: str | None = None
    ) -> list[ConversationInfo]:
        """``who``'s conversations (in ``workspace``), most recent first; those of workspaces
        they may no longer see are left out."""
        if workspace is not None:
            self.authorize(who, "reader", workspace=workspace)
        visible = {w.name for w, _ in self.workspaces(who)}
        found = self.state.conversations.of_user(self.owner(who), workspace)
        return [c for c in found if c.workspace in visible]

    def conversation(
        self, who: str | None, conversation_id: str
    ) -> tuple[ConversationInfo, list[Turn]]:
        """``who``'s conversation and its turns (``NotFound`` for anyone else's)."""
        info = self._visible_conversation(who, conversation_id)
        return info, self.state.conversations.turns(info.id, self.owner(who))

    def _visible_conversation(self, who: str | None, conversation_id: str) -> ConversationInfo:
        """``who``'s conversation, in a workspace they may still see (else ``NotFound``)."""
        info = self._conversation(self.owner(who), conversation_id)
        self.authorize(who, "reader", workspace=info.workspace)
        return info

    def rename_conversation(
        self, who: str | None, conversation_id: str, title: str
    ) -> ConversationInfo:
        """Give ``who``'s conversation a new title."""
        info = self._visible_conversation(who, conversation_id)
        return self.state.conversations.rename(info.id, self.owner(who), title)

    def delete_conversation(self, who: str | None, conversation_id: str) -> None:
        """Delete ``who``'s conversation and its turns."""
        info = self._visible_conversation(who, conversation_id)
        self.state.conversations.delete(info.id, self.owner(who))

    # ---- feedback --------------------------------------------------------------------------
    def give_feedback(
        self, who: str | None, turn_id: int, kind: str, passage: int | None = None
    ) -> Feedback:
        """Keep ``kind`` feedback (up, down, passage) on turn ``turn_id`` of ``who``'s."""
        owner = self.owner(who)
        try:
            info, turn = self.state.conversations.turn(turn_id, owner)
        except ConversationNotFound as exc:
            raise NotFound(str(exc)) from None
        self.authorize(who, "reader", workspace=info.workspace)
        return self.state.feedback.add(owner, info.workspace, turn, kind, passage)

    def feedback(self, who: str | None, workspace: str = DEFAULT_WORKSPACE) -> list[Feedback]:
        """The feedback kept in ``workspace`` (editors)."""
        self.authorize(who, "editor", workspace=workspace)
        return self.state.feedback.of_workspace(workspace)
