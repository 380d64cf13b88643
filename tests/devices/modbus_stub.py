"""A misbehaving Modbus/TCP server on 127.0.0.1 for poller tests.

Each unit id gets a behaviour. ("value", float) returns that float32 in every
register pair of each read. "silent" never responds. ("slow", seconds)
responds after a delay. "wrong_tid" responds with another transaction id.
"truncated" sends half a frame. ("exception", code) returns an exception.
"""

import asyncio
import socket
import struct
import threading


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _float_registers(value: float, count: int) -> bytes:
    pair = struct.pack(">f", value)
    return (pair * ((count + 1) // 2))[: count * 2]


class StubServer:
    def __init__(self, behaviours: dict, port: int | None = None):
        self.behaviours = behaviours
        self.port = port or free_port()
        self.requests: list[tuple[int, int, int]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, reader, writer):
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _pid, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                function, address, count = struct.unpack(">BHH", pdu[:5])
                self.requests.append((unit, function, address))
                behaviour = self.behaviours.get(unit, "silent")
                kind = behaviour[0] if isinstance(behaviour, tuple) else behaviour
                if kind == "silent":
                    continue
                if kind == "close":
                    break
                if kind == "exception":
                    body = bytes([function | 0x80, behaviour[1]])
                else:
                    value = behaviour[1] if kind in ("value", "slow_value") else 1.0
                    data = _float_registers(value, count)
                    body = bytes([function, len(data)]) + data
                answer_tid = tid + 1000 if kind == "wrong_tid" else tid
                frame = struct.pack(">HHHB", answer_tid, 0, len(body) + 1, unit) + body
                if kind == "slow":
                    await asyncio.sleep(behaviour[1])
                if kind == "truncated":
                    frame = frame[: len(frame) // 2]
                writer.write(frame)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def __enter__(self):
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self._loop
        )
        self._server = future.result(timeout=5)
        return self

    def __exit__(self, *exc_info):
        async def stop():
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
