"""Damage a recording the way a bad network or disk would, past what its structure shows."""

from __future__ import annotations

import io

import av


def zero_late_video_frame(data: bytes) -> bytes:
    """The recording with the payload of its middle video frame zeroed (its headers kept).

    The container still parses and every packet is where it was, so only decoding that frame
    finds the damage.
    """
    with av.open(io.BytesIO(data)) as container:
        packets = [(packet.pos, packet.size) for packet in container.demux(container.streams.video[0])
                   if packet.size and packet.pos is not None and packet.pos >= 0]
    assert len(packets) >= 3, "too few video packets to damage one in the middle"
    pos, size = packets[len(packets) // 2]
    damaged = bytearray(data)
    damaged[pos + 2:pos + size] = bytes(size - 2)
    return bytes(damaged)
