"""``research``: a multi-step report (plan, one model call per section, synthesis)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.jobs.handlers import JobContext, JobHandler
from application.jobs.job_llm import JobLLM
from application.jobs.kinds.params import int_param, only, text_param
from application.ports.llm import ChatMessage

MAX_TOPIC_CHARS = 500
MAX_TITLE_CHARS = 120


class Research(JobHandler):
    """Business rules: ``topic`` (1..500 characters) and ``steps`` (1..8 sections,
    default 3); progress advances after the plan, after each section and after the
    synthesis; a retry starts over (each attempt's model calls are metered)."""

    kind = "research"
    admin_only = False
    internal = False

    def __init__(self, llm: JobLLM) -> None:
        self._llm = llm

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        only(params, {"topic", "steps"})
        return {
            "topic": text_param(params, "topic", max_chars=MAX_TOPIC_CHARS),
            "steps": int_param(params, "steps", default=3, low=1, high=8),
        }

    async def run(self, context: JobContext) -> dict[str, Any]:
        topic, steps = str(context.params["topic"]), int(context.params["steps"])
        calls = steps + 2
        outline = await self._ask(
            context,
            f"Write an outline for a short report on the topic below: exactly {steps} "
            f"section titles, one per line, nothing else.\n\nTopic: {topic}",
        )
        titles = _titles(outline, topic, steps)
        await context.report_progress(1 / calls)
        sections: list[dict[str, str]] = []
        for number, title in enumerate(titles, start=1):
            content = await self._ask(
                context,
                f"Write section {number} of {steps}, titled {title!r}, of a short report "
                f"on: {topic}",
            )
            sections.append({"title": title, "content": content})
            await context.report_progress((number + 1) / calls)
        body = "\n\n".join(f"## {s['title']}\n\n{s['content']}" for s in sections)
        synthesis = await self._ask(
            context,
            f"Write a short conclusion for this report on {topic!r}:\n\n{body}",
        )
        await context.report_progress(1.0)
        report = f"# {topic}\n\n{body}\n\n## Conclusion\n\n{synthesis}"
        return {"report": report, "sections": sections}

    async def _ask(self, context: JobContext, prompt: str) -> str:
        return await self._llm.ask(
            context.owner_id,
            [
                ChatMessage("system", "You write concise, factual reports."),
                ChatMessage("user", prompt),
            ],
            max_tokens=600,
        )


def _titles(outline: str, topic: str, steps: int) -> list[str]:
    """The outline's first ``steps`` non-empty lines (list markers dropped); a model that
    gave fewer lines gets numbered parts, so there are always ``steps`` sections."""
    titles = []
    for line in outline.splitlines():
        cleaned = line.strip().lstrip("#-*0123456789.) ").strip()
        if cleaned:
            titles.append(cleaned[:MAX_TITLE_CHARS])
    titles = titles[:steps]
    while len(titles) < steps:
        titles.append(f"{topic[:80]}: part {len(titles) + 1}")
    return titles
