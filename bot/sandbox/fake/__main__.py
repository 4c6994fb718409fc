"""``python -m bot.sandbox.fake [--port N]``: serve a stand-in on 127.0.0.1 until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.fake.core import FakeDiscord


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Discord stand-in on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeDiscord()
        await fake.start(args.port)
        print(f'discord_api_url = "{fake.api_base_url}"', flush=True)
        print(f'discord_gateway_url = "{fake.gateway_url}"', flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
