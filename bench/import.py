"""P8: import a generated ChatGPT-shaped export; messages/s and peak RSS growth.

    .venv/bin/python bench/import.py [--mb 100] [--backend sqlite|postgres|both]

The export is generated first (streamed to disk, a zip of split ``conversations-NNN.json``
parts like ChatGPT's newer exports, or one ``conversations.json`` with ``--plain``): several
thousand conversations with branches (regenerations), hidden system roots, code and
execution output, multimodal parts, citations and null timestamps. Each import then runs in
a fresh process through the production container and ``ImportConversations`` (one
transaction per conversation, idempotency check included); a sampler thread records the
process's peak RSS while it runs. Search indexing of the imported messages (a background
catch-up after the import) is not part of the timing.

Targets (QUALITY.md P8): >= 2,000 messages/s, <= 100 MB RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "that",
    "this",
    "it",
    "as",
    "be",
    "are",
    "by",
    "from",
    "at",
    "or",
    "an",
    "was",
    "which",
    "you",
    "can",
    "will",
    "not",
    "have",
    "more",
    "but",
    "all",
    "one",
    "their",
    "has",
    "about",
    "there",
    "also",
    "when",
    "what",
    "your",
    "into",
    "out",
    "python",
    "data",
    "model",
    "time",
    "like",
    "use",
    "make",
    "how",
    "get",
    "new",
    "first",
    "system",
    "code",
    "query",
    "index",
    "server",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def node(
    mid: str, role: str, content: dict, t: float | None, parent: str | None, **meta: object
) -> dict:
    return {
        "id": mid,
        "message": {
            "id": mid,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": t,
            "update_time": None,
            "content": content,
            "status": "finished_successfully",
            "end_turn": True,
            "weight": 1.0,
            "metadata": {"request_id": uuid.uuid4().hex, "timestamp_": "absolute", **meta},
            "recipient": "all",
            "channel": None,
        },
        "parent": parent,
        "children": [],
    }


def conversation(rng: random.Random, index: int) -> tuple[dict, int]:
    """One conversation and how many messages the importer should keep from it."""
    cid = str(uuid.UUID(int=rng.getrandbits(128)))
    t = 1_650_000_000 + index * 600.0
    mapping: dict[str, dict] = {
        "root": {"id": "root", "message": None, "parent": None, "children": []}
    }

    def add(n: dict) -> str:
        mapping[n["id"]] = n
        if n["parent"]:
            mapping[n["parent"]]["children"].append(n["id"])
        return n["id"]

    system = node(
        f"{cid}-sys",
        "system",
        {"content_type": "text", "parts": [""]},
        None,
        "root",
        is_visually_hidden_from_conversation=True,
    )
    parent = add(system)
    kept = 0
    for turn in range(rng.randint(3, 14)):
        t += rng.uniform(5, 120)
        kind = rng.random()
        if kind < 0.1:
            content = {
                "content_type": "multimodal_text",
                "parts": [
                    {
                        "content_type": "image_asset_pointer",
                        "asset_pointer": "file-service://file-x",
                        "size_bytes": 1,
                        "width": 512,
                        "height": 512,
                    },
                    sentence(rng, 25),
                ],
            }
        else:
            content = {"content_type": "text", "parts": [sentence(rng, rng.randint(8, 60))]}
        parent = add(
            node(f"{cid}-u{turn}", "user", content, None if rng.random() < 0.05 else t, parent)
        )
        kept += 1
        if rng.random() < 0.15:  # a regenerated answer: an abandoned sibling
            add(
                node(
                    f"{cid}-x{turn}",
                    "assistant",
                    {"content_type": "text", "parts": [sentence(rng, 80)]},
                    t + 1,
                    parent,
                    model_slug="gpt-4",
                )
            )
        if rng.random() < 0.1:
            code = node(
                f"{cid}-c{turn}",
                "assistant",
                {"content_type": "code", "language": "python", "text": "print(sum(range(10)))"},
                t + 2,
                parent,
                model_slug="gpt-4o",
            )
            code["message"]["recipient"] = "python"
            parent = add(code)
            parent = add(
                node(
                    f"{cid}-o{turn}",
                    "tool",
                    {"content_type": "execution_output", "text": "45"},
                    t + 3,
                    parent,
                )
            )
        text = " ".join(sentence(rng, rng.randint(10, 40)) for _ in range(rng.randint(2, 10)))
        meta: dict[str, object] = {"model_slug": "gpt-4o", "finish_details": {"type": "stop"}}
        if rng.random() < 0.1:
            text += " See【3†source】."
            start = text.index("【")
            meta["citations"] = [
                {
                    "start_ix": start,
                    "end_ix": start + 10,
                    "metadata": {"title": "Docs", "url": "https://example.com/docs"},
                }
            ]
        parent = add(
            node(
                f"{cid}-a{turn}",
                "assistant",
                {"content_type": "text", "parts": [text]},
                t + 4,
                parent,
                **meta,
            )
        )
        kept += 1
    return (
        {
            "title": sentence(rng, 4),
            "create_time": 1_650_000_000 + index * 600.0,
            "update_time": t,
            "mapping": mapping,
            "moderation_results": [],
            "current_node": parent,
            "plugin_ids": None,
            "conversation_id": cid,
            "id": cid,
            "default_model_slug": "gpt-4o",
            "is_archived": False,
            "safe_urls": [],
        },
        kept,
    )


def generate(path: Path, target_mb: int, plain: bool) -> tuple[int, int]:
    """Stream the export to ``path``; returns (conversations, expected messages)."""
    rng = random.Random(8)
    target = target_mb * 1024 * 1024
    written = conversations = messages = 0
    part_size = target // 4 + 1
    archive = None if plain else zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
    part = 0
    out = (
        path.open("wb")
        if plain
        else archive.open(f"conversations-{part:03d}.json", "w", force_zip64=True)
    )  # type: ignore[union-attr]
    out.write(b"[")
    part_written = 0
    first = True
    while written < target:
        if not plain and part_written > part_size:
            out.write(b"]")
            out.close()
            part += 1
            out = archive.open(f"conversations-{part:03d}.json", "w", force_zip64=True)  # type: ignore[union-attr]
            out.write(b"[")
            part_written, first = 0, True
        data, kept = conversation(rng, conversations)
        blob = (b"" if first else b",") + json.dumps(data).encode()
        first = False
        out.write(blob)
        written += len(blob)
        part_written += len(blob)
        conversations += 1
        messages += kept
    out.write(b"]")
    out.close()
    if archive is not None:
        archive.writestr("user.json", json.dumps({"id": "user-1"}))
        archive.close()
    return conversations, messages


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def run_import(file: Path, env: dict[str, str]) -> dict:
    from tests.support.backends import _migrate

    from application.portability.import_conversations import ImportCommand, ImportConversations
    from entrypoints.ioc import create_container
    from entrypoints.settings import load_settings

    settings = load_settings(env, toml_path=Path("/nonexistent.toml"))
    await _migrate(settings.database_url)
    container = create_container(settings)
    try:
        owner = await _new_owner(container)
        use_case = await container.get(ImportConversations)
        await asyncio.sleep(0)
        base = rss_bytes()
        peak = [base]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_bytes())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await use_case(ImportCommand(owner, file))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        stop.set()
        sampler.join()
        again_started = time.perf_counter()
        again = await use_case(ImportCommand(owner, file))
        again_elapsed = time.perf_counter() - again_started
    finally:
        await container.close()
    messages = sum(i.messages or 0 for i in report.items)
    return {
        "conversations": report.imported,
        "failed": report.failed,
        "messages": messages,
        "seconds": elapsed,
        "messages_per_s": messages / elapsed,
        "messages_per_cpu_s": messages / cpu,
        "rss_growth_mb": (peak[0] - base) / 1024 / 1024,
        "reimport_skipped": again.skipped,
        "reimport_seconds": again_elapsed,
    }


async def _new_owner(container) -> uuid.UUID:
    from datetime import UTC, datetime

    from application.ports.unit_of_work import UnitOfWorkFactory
    from domain.users import User

    owner = uuid.uuid4()
    async with (await container.get(UnitOfWorkFactory))() as uow:
        await uow.users.add(
            User(
                id=owner,
                email=f"bench-{owner.hex[:10]}@example.com",
                display_name="bench",
                role="user",
                plan="free",
                is_active=True,
                password_hash="x",
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    return owner


def child(file: Path, env: dict[str, str]) -> None:
    sys.path.insert(0, str(ROOT))
    result = asyncio.run(run_import(file, env))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=100, help="Size of the uncompressed export.")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--plain", action="store_true", help="One conversations.json, not a zip.")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), json.loads(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="parley-import-bench-") as tmp:
        file = Path(tmp) / ("conversations.json" if args.plain else "export.zip")
        started = time.perf_counter()
        conversations, expected = generate(file, args.mb, args.plain)
        print(
            f"generated {file.name}: {args.mb} MB of JSON, {conversations} conversations, "
            f"{expected} visible messages, {file.stat().st_size / 1e6:.1f} MB on disk "
            f"({time.perf_counter() - started:.1f} s)"
        )
        rows = []
        for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
            env, cleanup = _backend_env(backend, Path(tmp) / backend)
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(file), json.dumps(env)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
                )
            finally:
                cleanup()
            result = json.loads(out.stdout.strip().splitlines()[-1])
            assert result["messages"] == expected, (result, expected)
            rows.append((backend, result))
        print(
            f"\n{'backend':<10}{'conversations':>14}{'messages':>10}{'seconds':>9}{'msg/s':>9}"
            f"{'msg/cpu-s':>11}{'RSS +MB':>9}{'re-import':>11}"
        )
        for backend, r in rows:
            print(
                f"{backend:<10}{r['conversations']:>14}{r['messages']:>10}{r['seconds']:>9.1f}"
                f"{r['messages_per_s']:>9.0f}{r['messages_per_cpu_s']:>11.0f}{r['rss_growth_mb']:>9.1f}"
                f"{str(r['reimport_skipped']) + ' skip':>11}"
            )
        print("\ntargets (P8): >= 2000 msg/s, <= 100 MB RSS growth")


def _backend_env(backend: str, tmp: Path):
    sys.path.insert(0, str(ROOT))
    from tests.support import backends

    made = backends.sqlite_backend(tmp) if backend == "sqlite" else backends.postgres_backend(tmp)
    env = {**made.env, "PARLEY_LOG_LEVEL": "warning"}

    def cleanup() -> None:
        for fn in made.cleanup:
            fn()

    return env, cleanup


if __name__ == "__main__":
    main()
