"""The wire between the engine and a job's process (inside the sandbox; never imported by the engine).

Engine -> job, on the connection: a 4-byte big-endian length sent together with two file
descriptors (SCM_RIGHTS: the write ends of the engine's stdout and stderr pipes), then
that many bytes of job JSON.
Job -> engine: frames of one kind byte, a 4-byte length and a payload: ``P`` who runs
the job (ASCII "SPARE_PID JOB_PID", both as the engine sees them), then ``R`` a result
as JSON or ``E`` an error object {"name", "message", "stack"} as JSON.
"""

from __future__ import annotations

import json
import os
import socket
import struct

HEADER = struct.Struct(">I")
FRAME = struct.Struct(">cI")
# Error messages and stacks longer than this are shortened, so an error always fits
# in its frame (a huge message is a bug in the script, not data to keep).
ERROR_TEXT_LIMIT = 64 * 2**10


def send_frame(conn: socket.socket, kind: bytes, payload: bytes) -> None:
    """Send one frame; large payloads go out without being copied into the header."""
    if len(payload) > 65536:
        conn.sendall(FRAME.pack(kind, len(payload)))
        conn.sendall(payload)
    else:
        conn.sendall(FRAME.pack(kind, len(payload)) + payload)


def shorten(text: str, keep_end: bool = False) -> str:
    """`text`, or its first (or last) ERROR_TEXT_LIMIT characters saying how many were cut."""
    cut = len(text) - ERROR_TEXT_LIMIT
    if cut <= 0:
        return text
    if keep_end:
        return f"[{cut:,} characters cut]\n" + text[cut:]
    return text[:ERROR_TEXT_LIMIT] + f" [{cut:,} characters cut]"


def send_error(conn: socket.socket, name: str, message: str, stack: str = "") -> None:
    """Send the error object that fails the step."""
    error = {"name": name, "message": shorten(message), "stack": shorten(stack, keep_end=True)}
    send_frame(conn, b"E", json.dumps(error).encode())


def recv_exact(conn: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes, or raise EOFError if the engine hung up."""
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("engine closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive_job(conn: socket.socket) -> dict:
    """Read the job and put the engine's pipes on fd 1 and 2."""
    data, fds, _flags, _addr = socket.recv_fds(conn, HEADER.size, 2)
    if len(fds) != 2:
        raise EOFError("engine sent no output pipes")
    data += recv_exact(conn, HEADER.size - len(data))
    job = json.loads(recv_exact(conn, HEADER.unpack(data)[0]))
    for target, fd in zip((1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    return job
