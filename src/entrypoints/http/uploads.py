"""Receive a multipart upload straight to disk, enforcing the size limit as bytes arrive.

The app-wide body limit is small (JSON bodies); an import upload may be hundreds of MB, so
its route lifts Litestar's limit and this module enforces its own: a declared
``Content-Length`` over the limit is refused before a byte is read, and a body that grows
past it is cut off with 413 the moment it does. The file part is written to a
name made from an id, never from the client's file name.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, ValidationException
from multipart import MultipartError, MultipartSegment, PushMultipartParser

MAX_FIELD_BYTES = 1024
MAX_PARTS = 8


@dataclass
class ReceivedUpload:
    path: Path
    filename: str
    bytes: int
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"the upload is larger than {limit} bytes")


async def receive_upload(
    request: Request[Any, Any, Any],
    *,
    limit: int,
    path: Path,
    file_field: str = "file",
    fields: frozenset[str] | None = None,
) -> ReceivedUpload:
    """``fields``: the other form fields the route reads; any other is refused (None: any)."""
    content_type, options = request.content_type
    boundary = options.get("boundary")
    if content_type != "multipart/form-data" or not boundary:
        raise ValidationException("send the file as multipart/form-data (field `file`)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    try:
        return await _receive(request, boundary, limit, path, file_field, fields)
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - cleanup must not await (cancellation)
        raise


async def _receive(
    request: Request[Any, Any, Any],
    boundary: str,
    limit: int,
    path: Path,
    file_field: str,
    allowed: frozenset[str] | None,
) -> ReceivedUpload:
    received = 0
    upload: ReceivedUpload | None = None
    fields: dict[str, str] = {}
    segment: MultipartSegment | None = None
    text = bytearray()
    with contextlib.ExitStack() as stack:
        out = None
        try:
            with PushMultipartParser(boundary, max_segment_count=MAX_PARTS) as parser:
                async for chunk in request.stream():
                    received += len(chunk)
                    if received > limit:
                        raise too_large(limit)
                    for event in parser.parse(chunk):
                        if isinstance(event, MultipartSegment):
                            segment, text = event, bytearray()
                            known = allowed is None or event.name in allowed
                            if event.name != file_field and not known:
                                raise ValidationException(f"unknown form field {event.name!r}")
                            if event.name == file_field and event.filename is not None:
                                if upload is not None:
                                    raise ValidationException("send one file")
                                out = stack.enter_context(path.open("wb"))
                                upload = ReceivedUpload(path, event.filename, 0)
                        elif event and segment is not None:
                            if out is not None and segment.name == file_field:
                                # Parser chunks are small: a buffered local write is cheaper
                                # than a thread hop each.
                                out.write(event)
                                upload.bytes += len(event)  # type: ignore[union-attr]
                            else:
                                text.extend(event)
                                if len(text) > MAX_FIELD_BYTES:
                                    raise ValidationException(f"field {segment.name!r} is too long")
                        elif event is None and segment is not None:
                            if segment.name != file_field or out is None:
                                fields[segment.name] = text.decode("utf-8", "replace")
                            segment = None
                    if not chunk:
                        break
        except MultipartError as exc:  # malformed, or over the parser's part/header limits
            raise ValidationException(f"the multipart body is refused: {exc}") from None
    if upload is None:
        raise ValidationException("the form has no `file` field with a file in it")
    upload.fields = fields
    return upload
