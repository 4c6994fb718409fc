"""glossary-bot: a Discord bot that teaches technical vocabulary in class servers.

The data flows one way: YAML files -> validated `Term` objects (``bot.content``, checked
across files by ``bot.validation``) -> SQLite store (``bot.store``, SQL in ``bot.storage``)
-> card renderer (``bot.cards``) -> cogs -> Discord.
Only ``bot.client`` and ``bot.cards`` import discord; the rest is plain Python.
"""
