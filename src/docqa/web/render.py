"""HTML and text rendering for the web UI: every piece taken from a document or a question is
escaped here before the page shows it.

A live answer and a kept one are both rendered by ``render_turn`` from the answer's record, so
that a resumed conversation shows each answer exactly as it was first shown."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from docqa import library
from docqa.document_view import view_url
from docqa.models import Answer, Citation
from docqa.transcript import ShownAnswer

EXAMPLES = [
    "Who led the Iraqi delegation?",
    "When was the NATO Mission in Iraq established?",
    "What is Tom Goffus's role?",
]
SOURCES_EMPTY = '<div class="docqa-empty">Sources of the answer appear here.</div>'
SOURCES_WAIT = '<div class="docqa-empty">Collecting the sources…</div>'

CSS = """
.docqa-header h1 {margin: 0; font-size: 1.6rem;}
.docqa-header p {margin: 0.2rem 0 0; opacity: 0.8;}
.docqa-status {padding: 0.4rem 0.8rem; border-radius: 6px; font-size: 0.9rem;
  white-space: pre-line;}
.docqa-status.busy {background: #fff7e0; color: #6b4e00;}
.docqa-status.ready {background: #e8f6ec; color: #1d5a2e;}
.docqa-status.error {background: #fdecec; color: #8a1f1f;}
.docqa-source {border: 1px solid #d8dce6; border-radius: 8px; padding: 0.6rem 0.8rem;
  margin-bottom: 0.6rem; background: #fafbfd; color: #1f2430;}
.docqa-source-head {font-size: 0.92rem; margin-bottom: 0.3rem;}
.docqa-num {display: inline-block; min-width: 1.8rem; font-weight: 700; color: #3552c4;}
.docqa-loc {color: #5d6475; font-size: 0.82rem;}
.docqa-passage {margin: 0; font-size: 0.9rem; line-height: 1.45; color: #2b3140;}
.docqa-passage mark {background: #ffe680; color: #1f2430; padding: 0 2px; border-radius: 2px;}
.docqa-passage mark strong.docqa-phrase {background: #ffc400; border-radius: 2px;
  padding: 0 1px;}
.docqa-closest-head {margin: 0.8rem 0 0.4rem; font-size: 0.92rem; color: #5a4200;}
.docqa-source.docqa-closest {background: #fbfbf7; border-style: dashed;}
.docqa-passage.docqa-closest mark {background: #eceff4;}
.docqa-not-answer {font-size: 0.78rem; font-weight: 700; color: #8a5a00; margin-left: 0.4rem;}
.docqa-abstain {border-left: 4px solid #c98a00; background: #fff7e0; color: #5a4200;
  padding: 0.7rem 0.9rem; border-radius: 6px;}
.docqa-empty {color: #7a8090; font-style: italic; padding: 0.6rem;}
#docqa-conversations .wrap {max-height: 24rem; overflow-y: auto;}
#docqa-conversations label {overflow-wrap: anywhere;}
table.docqa-docs {width: 100%; border-collapse: collapse;}
table.docqa-docs th, table.docqa-docs td {text-align: left; padding: 0.35rem 0.6rem;
  border-bottom: 1px solid #e3e6ee;}
"""
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~-])")  # '<', '>', '&' become entities


def md_escape(text: str) -> str:
    """Text shown literally by a Markdown + HTML renderer (the chatbot): no tags, no markup."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def stream_pieces(text: str, words: int = 3) -> Iterator[str]:
    """Growing prefixes of ``text``, a few words at a time (for a streamed reply)."""
    parts = re.split(r"(\s+)", text)
    for end in range(2 * words, len(parts), 2 * words):
        yield "".join(parts[:end])
    yield text


def _quote(c: Citation) -> str:
    """The quote, escaped, its answer phrase (when there is one) in ``strong.docqa-phrase``."""
    e = html.escape
    if c.answer_start is None or c.answer_end is None:
        return e(c.quote)
    a, b = c.answer_start - c.start, c.answer_end - c.start
    return (
        f'{e(c.quote[:a])}<strong class="docqa-phrase">{e(c.quote[a:b])}</strong>{e(c.quote[b:])}'
    )


def _passage(shown: ShownAnswer, c: Citation, closest: bool) -> str:
    """The cited quote, marked, inside its kept context (all escaped)."""
    before, after = shown.context(c, closest)
    e = html.escape
    return f"{e(before)}<mark>{_quote(c)}</mark>{e(after)}"


def _card(shown: ShownAnswer, workspace: str, c: Citation, closest: bool = False) -> str:
    e = html.escape
    where = f"page {c.page}" if c.page is not None else f"chars {c.start}–{c.end}"
    kind = " docqa-closest" if closest else ""
    label = '<span class="docqa-not-answer">not an answer</span>' if closest else ""
    number = f"{c.number}." if closest else f"[{c.number}]"
    # The number opens the whole document at the quote, in a new tab (the document viewer).
    link = (
        f'<a class="docqa-num docqa-view" href="{e(view_url(workspace, c))}" target="_blank" '
        f'rel="noopener" title="Open the document at this passage">{number}</a>'
    )
    return (
        f'<div class="docqa-source{kind}"><div class="docqa-source-head">'
        f"{link} <b>{e(c.title)}</b> "
        f'<span class="docqa-loc">{e(c.source)} · {e(where)}</span>{label}</div>'
        f'<p class="docqa-passage{kind}">{_passage(shown, c, closest)}</p></div>'
    )


def render_sources(shown: ShownAnswer, workspace: str) -> str:
    """The sources panel: one card per citation; when the answer abstained, a notice and the
    closest sentences, each clearly marked as not an answer."""
    e = html.escape
    answer = shown.answer
    if answer.abstained:
        reason = f" ({answer.abstention_reason.message})" if answer.abstention_reason else ""
        notice = (
            '<div class="docqa-abstain"><b>No answer in the documents.</b> '
            f"docqa found no passage that answers this question{e(reason)}. "
            "Try rephrasing, or add a document that covers it.</div>"
        )
        if not answer.closest:
            return notice
        cards = "".join(_card(shown, workspace, c, closest=True) for c in answer.closest)
        return (
            f'{notice}<div class="docqa-closest-list"><div class="docqa-closest-head">'
            "<b>Closest passages — not an answer.</b> Check them yourself: docqa judged that "
            f"they do not answer the question.</div>{cards}</div>"
        )
    cards = "".join(_card(shown, workspace, c) for c in answer.citations)
    return f'<div class="docqa-sources">{cards}</div>'


def render_documents(docs: Sequence[library.DocumentInfo]) -> str:
    """The document list as an escaped HTML table."""
    if not docs:
        return '<div class="docqa-empty">No documents indexed yet.</div>'
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(d.source)}</td><td>{e(d.title)}</td><td>{d.chunks}</td></tr>" for d in docs
    )
    return (
        '<table class="docqa-docs"><thead><tr><th>File</th><th>Title</th><th>Passages</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def render_audit(entries: Sequence[dict[str, object]]) -> str:
    """The latest audit entries (newest first) as an escaped HTML table, for editors."""
    if not entries:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(str(x.get('time', '')))}</td><td>{e(str(x.get('user', '')))}</td>"
        f"<td>{e(str(x.get('action', '')))}</td><td>{e(str(x.get('file') or ''))}</td>"
        f"<td>{e(str(x.get('outcome', '')))}</td></tr>"
        for x in reversed(entries)
    )
    return (
        '<div class="docqa-closest-head"><b>Recent changes</b> (audit log)</div>'
        '<table class="docqa-docs"><thead><tr><th>Time (UTC)</th><th>User</th><th>Action</th>'
        f"<th>File</th><th>Outcome</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def render_status(message: str, kind: str) -> str:
    """A status line (``kind``: busy, ready or error), escaped."""
    return f'<div class="docqa-status {html.escape(kind)}">{html.escape(message)}</div>'


def render_phrases(answer: Answer) -> str:
    """The answer phrases, in bold, each with its citation number (markdown, escaped), to show
    first, above the cited sentences; empty when no citation marks a phrase."""
    if not answer.phrases:
        return ""
    shown = "; ".join(f"**{md_escape(p)}** [{n}]" for n, p in answer.phrases)
    return f"{shown}\n\n"


def render_dropped(answer: Answer) -> str:
    """Generated sentences the guard removed, struck out under the answer (markdown, escaped)."""
    if not answer.dropped:
        return ""
    lines = [f"- ~~{md_escape(d.text)}~~ ({md_escape(d.reason)})" for d in answer.dropped]
    return "\n\n*Removed — not supported by the documents:*\n" + "\n".join(lines)


_MARKER = re.compile(r"\\?\[(\d+)\\?\]")  # a citation marker, escaped or not: [1], \[1\]


def _linked_markers(markdown: str, answer: Answer, workspace: str) -> str:
    """``markdown`` with each ``[n]`` marker a link to citation n in the document viewer."""
    urls = {c.number: view_url(workspace, c) for c in answer.citations}

    def link(found: re.Match[str]) -> str:
        url = urls.get(int(found.group(1)))
        return found.group(0) if url is None else f"[\\[{found.group(1)}\\]]({url})"

    return _MARKER.sub(link, markdown)


def render_reply(answer: Answer, workspace: str) -> str:
    """An answer as the chat shows it (markdown, escaped): its phrases first, in bold, then the
    cited text (marked as an abstention when it is one), then the sentences the guard removed;
    each ``[n]`` opens the document at citation n."""
    prefix = "ℹ️ " if answer.abstained else ""
    cited = _linked_markers(
        render_phrases(answer) + md_escape(prefix + answer.text), answer, workspace
    )
    return cited + render_dropped(answer)


def render_turn(record: Mapping[str, Any], workspace: str) -> tuple[str, str]:
    """A kept answer (``ShownAnswer.record``) as the page shows it: the chat's markdown and the
    sources panel's HTML. The page renders a live answer through here too, from its record, so
    a resumed conversation cannot look different from the first showing."""
    shown = ShownAnswer.from_record(dict(record))
    return render_reply(shown.answer, workspace), render_sources(shown, workspace)
