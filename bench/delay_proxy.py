"""A TCP proxy on loopback that holds every chunk for a fixed time each way, in order: a relay
that is a network away (a round trip of 2 × `one_way`) rather than on the same machine, which
is where pipelined commands save most. Used by bench/alerts_bench.py --relay-rtt."""

from __future__ import annotations

import asyncio


async def _carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, one_way: float) -> None:
    """Everything `reader` gets, written to `writer` `one_way` seconds later, in order; then EOF."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + one_way, data))
    except OSError:
        pass
    queue.put_nowait((loop.time() + one_way, b""))
    await delivering


async def serve_delayed(target_port: int, one_way: float, started: asyncio.Future) -> None:
    """Forward connections on a new loopback port to `target_port`, each way `one_way` late;
    `started` gets the new port. Runs until cancelled."""

    async def connection(client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(_carry(client_reader, server_writer, one_way),
                             _carry(server_reader, client_writer, one_way), return_exceptions=True)

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    started.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()
