"""A classic BPF program that keeps only frames addressed to the sensor's prefixes.

Attached to the AF_PACKET socket (``SO_ATTACH_FILTER``), it runs in the kernel, so
frames to other addresses never reach the ring. Ethernet frames, untagged or with
one 802.1Q/802.1ad tag, carrying IPv4 or IPv6; the destination is compared word by
word under each prefix's mask.
"""

from __future__ import annotations

import ctypes
import ipaddress
import socket

__all__ = ["attach_filter", "prefix_program"]

_SO_ATTACH_FILTER = 26
# opcodes (linux/filter.h)
_LD_H_ABS, _LD_W_ABS = 0x28, 0x20
_JEQ_K, _AND_K, _RET_K = 0x15, 0x54, 0x06
_ACCEPT = 0x40000  # bytes of the frame to keep (all)

Insn = tuple[int, int, int, int]


def _match_block(base: int, v4: list, v6: list) -> list[tuple]:
    """Instructions (with symbolic jumps) checking the destination at ``base`` + offsets."""
    out: list[tuple] = []
    out.append(("ldh", base - 2))
    out.append(("jeq", 0x0800, f"v4_{base}", None))
    out.append(("jeq", 0x86DD, f"v6_{base}", "reject"))
    out.append(("label", f"v4_{base}"))
    for net in v4:
        out.append(("ldw", base + 16))
        out.append(("and", int(net.netmask)))
        out.append(("jeq", int(net.network_address), "accept", None))
    out.append(("ret", 0))
    out.append(("label", f"v6_{base}"))
    for k, net in enumerate(v6):
        value, mask = int(net.network_address), int(net.netmask)
        words = [(value >> (96 - 32 * i)) & 0xFFFFFFFF for i in range(4)]
        masks = [(mask >> (96 - 32 * i)) & 0xFFFFFFFF for i in range(4)]
        nxt = f"v6_{base}_{k + 1}"
        for i in range(4):
            if masks[i] == 0:
                break
            out.append(("ldw", base + 24 + 4 * i))
            if masks[i] != 0xFFFFFFFF:
                out.append(("and", masks[i]))
            out.append(("jeq", words[i], None, nxt))
        out.append(("ret", _ACCEPT))
        out.append(("label", nxt))
    out.append(("ret", 0))
    return out


def prefix_program(prefixes: list[str]) -> list[Insn]:
    """The program (a list of (code, jt, jf, k)) accepting frames to ``prefixes``."""
    nets = [ipaddress.ip_network(p) for p in prefixes]
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    symbolic: list[tuple] = [
        ("ldh", 12),
        ("jeq", 0x8100, "tagged", None),
        ("jeq", 0x88A8, "tagged", "untagged"),
        ("label", "untagged"),
        *_match_block(14, v4, v6),
        ("label", "tagged"),
        *_match_block(18, v4, v6),
        ("label", "accept"),
        ("ret", _ACCEPT),
        ("label", "reject"),
        ("ret", 0),
    ]
    labels, index = {}, 0
    for item in symbolic:
        if item[0] == "label":
            labels[item[1]] = index
        else:
            index += 1
    program: list[Insn] = []
    for item in symbolic:
        op = item[0]
        if op == "label":
            continue
        here = len(program)
        if op == "ldh":
            program.append((_LD_H_ABS, 0, 0, item[1]))
        elif op == "ldw":
            program.append((_LD_W_ABS, 0, 0, item[1]))
        elif op == "and":
            program.append((_AND_K, 0, 0, item[1]))
        elif op == "ret":
            program.append((_RET_K, 0, 0, item[1]))
        else:  # jeq k, true label, false label (None: next instruction)
            jt = 0 if item[2] is None else labels[item[2]] - here - 1
            jf = 0 if item[3] is None else labels[item[3]] - here - 1
            if not (0 <= jt <= 255 and 0 <= jf <= 255):
                raise ValueError("too many prefixes for one BPF program; merge them")
            program.append((_JEQ_K, jt, jf, item[1]))
    return program


class _Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Insn))]


def attach_filter(sock: socket.socket, prefixes: list[str]) -> None:
    """Attach the prefix program to ``sock`` (raises OSError if the kernel refuses it)."""
    program = prefix_program(prefixes)
    insns = (_Insn * len(program))(*(_Insn(*i) for i in program))
    prog = _Prog(len(program), ctypes.cast(insns, ctypes.POINTER(_Insn)))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, bytes(prog))
