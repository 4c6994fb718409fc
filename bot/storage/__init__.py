"""All SQL, one module per job; ``bot.store.Store`` opens them together.

- ``database``: the two connections, write transactions, migrations, meta, checkpoints;
- ``migrations``: the numbered schema migrations;
- ``glossary``: reads of the loaded glossary (cards, autocomplete, search, quiz material)
  and the in-memory name index and card cache;
- ``reload``: a reload's plan, writes and diff, in one transaction;
- ``records``: what the bot records as it is used (usage, server settings, quizzes, the
  term of the day).
"""
