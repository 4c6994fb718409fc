"""The Discord bot: start-up, command syncing, permissions and the one error handler.

Dependencies (config, store) are passed in, so tests build the same bot against a fake
Discord and a temporary database. Cogs stay thin: they call the store and the card
renderer; everything that can go wrong ends in ``GlossaryTree.on_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import hashlib
import json
import logging
import sqlite3
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import backup, health
from bot.card_actions import CardActions
from bot.cards import (
    CARD_BUTTONS,
    error_embed,
    not_found_embed,
    reload_failed_embed,
    suggestions_view,
)
from bot.config import DATABASE_URL_ENV, Config
from bot.contexts import (
    SERVER_CONTEXTS,
    SERVER_INSTALLS,
    StudentGlossaries,
    allowed_here,
    class_server_id,
    glossary_for,
)
from bot.errors import (
    FilesElsewhere,
    GlossaryError,
    GlossaryGone,
    GlossaryNotCreated,
    InvalidContent,
    MissingToken,
    SharedStateUnavailable,
    TermNotFound,
)
from bot.glossaries import GlossarySpec
from bot.identify import IDENTIFY_WINDOW_S, IdentifyTurns
from bot.lifecycle import stop_on_signals
from bot.logs import TokenRedactor as TokenRedactor  # re-exported: tests import it here
from bot.logs import setup_logging
from bot.metrics import NO_METRICS, Metrics, NoMetrics
from bot.server_glossaries import with_server_glossaries
from bot.startup import unchanged_glossaries, warm_indexes
from bot.storage.glossary import Glossary
from bot.storage.history import START_UP
from bot.store import Store

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = (
    "cogs.define",
    "cogs.search",
    "cogs.share",
    "cogs.moderation",
    "cogs.authoring",  # joins the /glossary group: after cogs.moderation
    "cogs.importing",  # /glossary import, also in the group
    "cogs.history",  # /glossary history, also in the group
    "cogs.suggestion_review",  # Apply / Edit first / Dismiss under suggested fixes
    "cogs.server_glossary",  # /glossary create: joins the /glossary group too
    "cogs.explain",
    "cogs.quiz",
    "cogs.daily",
    "cogs.watcher",
    "cogs.study",
    "cogs.review",
    "cogs.retention",
)
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3
TOKEN_REJECTED = (
    "Discord rejected the token (401 Unauthorized): it is mistyped or was reset. Open "
    "https://discord.com/developers/applications > your application > Bot > Reset Token, "
    "and put the new token in DISCORD_TOKEN."
)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class NotModerator(app_commands.CheckFailure):
    """The member lacks Manage Server and the configured moderator role."""


class NotEditor(app_commands.CheckFailure):
    """A moderator of a server that uses a glossary it may not change."""

    def __init__(self, who: str) -> None:
        super().__init__(who)
        self.who = who


async def is_moderator(interaction: discord.Interaction) -> bool:
    """Checked in code, not only through Discord's default permissions, which a server
    admin can loosen by mistake in the Integrations settings. Only in a server the bot is
    in: a user-installed command elsewhere (or a forged payload) carries permissions that
    are not that server's moderators' to give."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.client.get_guild(interaction.guild_id) is None:
        return False
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return True
    client: GlossaryBot = interaction.client  # type: ignore[assignment]
    settings = await client.store.records.guild_settings(interaction.guild.id)
    role_name = client.config.moderator_role
    return any(
        role.id == settings.moderator_role_id or (role_name and role.name == role_name)
        for role in interaction.user.roles
    )


def moderator_only():  # noqa: ANN201 - a discord.py check decorator
    async def predicate(interaction: discord.Interaction) -> bool:
        if not await is_moderator(interaction):
            raise NotModerator("moderators only")
        return True

    return app_commands.check(predicate)


def lookup_cooldown():  # noqa: ANN201 - a discord.py check decorator
    """Per-user cooldown from config, so one student cannot flood a channel with cards.

    Our own check rather than ``app_commands.checks.dynamic_cooldown``: that one scans
    every user's bucket and builds the interaction's timestamp on every use, even when the
    factory then says "no cooldown" (measured: about 7% of the bot's CPU per /define with
    cooldowns off). Here cooldowns off cost one comparison; on, expired buckets are swept
    only once there are many. Refusals raise discord.py's own ``CommandOnCooldown``, which
    the tree's ``on_error`` answers."""
    buckets: dict[int, app_commands.Cooldown] = {}

    async def predicate(interaction: discord.Interaction) -> bool:
        config: Config = interaction.client.config  # type: ignore[attr-defined]
        if config.cooldown_uses <= 0:
            return True
        now = interaction.created_at.timestamp()  # Discord's clock, as discord.py's own
        if len(buckets) >= COOLDOWN_SWEEP_AT:
            for user_id in [u for u, b in buckets.items() if b.get_tokens(now) >= b.rate]:
                del buckets[user_id]
        bucket = buckets.get(interaction.user.id)
        if bucket is None or (bucket.rate, bucket.per) != (
                config.cooldown_uses, config.cooldown_seconds):  # a reload changed them
            bucket = buckets[interaction.user.id] = app_commands.Cooldown(
                config.cooldown_uses, config.cooldown_seconds)
        retry_after = bucket.update_rate_limit(now)
        if retry_after is not None:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
        return True

    predicate.buckets = buckets  # type: ignore[attr-defined] - what it remembers, for tests
    return app_commands.check(predicate)


COOLDOWN_SWEEP_AT = 1000  # users with a bucket before the expired ones are dropped


class GlossaryTree(app_commands.CommandTree):
    """The one place where errors become messages users can act on."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if allowed_here(interaction):
            return True
        await self.on_error(interaction, app_commands.NoPrivateMessage())
        return False

    async def _call(self, interaction: discord.Interaction) -> None:
        """discord.py's one entry point for commands and autocomplete: timed (bot.metrics)."""
        await self.client.metrics.timed(super()._call, interaction)  # type: ignore[attr-defined]

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        original = getattr(error, "original", error)
        interaction.extras["error"] = original  # the outcome, for bot.metrics
        embed, view = self._describe(interaction, original)
        if isinstance(original, NotModerator | app_commands.MissingPermissions):
            embed = await self._moderators_only(interaction)
        with contextlib.suppress(discord.HTTPException):
            await self._reply(interaction, embed, view)
        if isinstance(original, TermNotFound) and interaction.command is not None:
            client: GlossaryBot = interaction.client  # type: ignore[assignment]
            client.store.records.record_miss(original.query, class_server_id(interaction),
                                             glossary_for(interaction).id)

    def _describe(
        self, interaction: discord.Interaction, error: BaseException
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        if isinstance(error, TermNotFound):
            if interaction.type is discord.InteractionType.component:
                return error_embed(
                    "No longer in the glossary",
                    "That term was removed or renamed since this card was posted. "
                    "Try `/define` or `/search` to find what it became.",
                ), None
            glossary = glossary_for(interaction)
            return not_found_embed(error.query, error.suggestions), (
                suggestions_view(error.suggestions, glossary.id) if error.suggestions else None
            )
        if isinstance(error, InvalidContent):
            return reload_failed_embed(error.problems), None
        if isinstance(error, NotEditor):
            return error_embed(
                "This glossary is shared",
                "This server uses a glossary that is changed elsewhere: its editors are "
                f"{error.who}. Ask them to reload it, or suggest a fix on a card.",
            ), None
        if isinstance(error, app_commands.NoPrivateMessage):
            return error_embed("Servers only", "This command works inside a server."), None
        if isinstance(error, app_commands.CommandOnCooldown):
            return error_embed(
                "Slow down a little",
                f"You can use this again in {error.retry_after:.0f} s.",
            ), None
        if isinstance(error, SharedStateUnavailable):
            log.warning("Shared state unavailable for command=%s: %s",
                        interaction.command.qualified_name if interaction.command else None,
                        error)
            return error_embed(
                "Try again in a moment",
                "The bot cannot reach its shared database right now, so nothing was saved. "
                "Cards and search still work; please try this again in a moment.",
            ), None
        if isinstance(error, FilesElsewhere):
            return error_embed("Term files elsewhere", str(error)), None
        if isinstance(error, GlossaryNotCreated):
            return error_embed(error.title, f"{error}\n\nNothing was created: this server "
                               "still uses the glossary it used before."), None
        if isinstance(error, GlossaryError):
            return error_embed("That did not work", str(error)), None
        if isinstance(error, NotModerator | app_commands.MissingPermissions):
            return error_embed("Moderators only", ""), None  # worded by _moderators_only
        command = interaction.command.qualified_name if interaction.command else None
        custom_id = interaction.data.get("custom_id") if interaction.data else None
        log.error(
            "Unexpected error in command=%s custom_id=%s user=%s guild=%s",
            command, custom_id, interaction.user.id, interaction.guild_id,
            exc_info=error,
        )
        return error_embed(
            "Something went wrong",
            "Sorry, that failed on our side. It has been logged for the moderators; "
            "please try again in a moment.",
        ), None

    @staticmethod
    async def _moderators_only(interaction: discord.Interaction) -> discord.Embed:
        """Who counts as a moderator here: Manage Server, or the role this server chose
        (shown as a role mention, which never pings in a private reply) or the config's."""
        client: GlossaryBot = interaction.client  # type: ignore[assignment]
        roles: list[str] = []
        if interaction.guild_id is not None:
            settings = await client.store.records.guild_settings(interaction.guild_id)
            if settings.moderator_role_id:
                roles.append(f"<@&{settings.moderator_role_id}>")
        if client.config.moderator_role:
            roles.append(f"**{discord.utils.escape_markdown(client.config.moderator_role)}**")
        hint = f" or the {' or '.join(roles)} role" if roles else ""
        return error_embed("Moderators only",
                           f"This command needs the Manage Server permission{hint}.")

    @staticmethod
    async def _reply(
        interaction: discord.Interaction, embed: discord.Embed, view: discord.ui.View | None
    ) -> None:
        """Errors are always private. After a public defer (``/quiz ask``) the first
        followup would replace the public loading message, so that message is removed
        first and the error sent on its own, privately."""
        extra = {"view": view} if view else {}
        if not interaction.response.is_done():
            await interaction.response.send_message(embed=embed, ephemeral=True, **extra)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            with contextlib.suppress(discord.HTTPException):
                loading = await interaction.original_response()
                if not loading.flags.ephemeral:
                    await loading.delete()
        await interaction.followup.send(embed=embed, ephemeral=True, **extra)


class GlossaryBot(commands.AutoShardedBot):
    """The glossary bot; ``config`` and ``store`` are owned by the caller.

    Auto-sharded so a large deployment only changes config: ``shard_count`` and
    ``shard_ids`` split the shards across processes (see docs/scaling.md); left unset,
    Discord's recommended count is used (one shard for a class server)."""

    metrics: Metrics | NoMetrics = NO_METRICS  # bot.health turns them on with the endpoint

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        extensions: Sequence[str] = EXTENSIONS,
        clock: Callable[[], datetime.datetime] = utc_now,
        freeze_heap: bool = False,
        **options: object,
    ) -> None:
        # A glossary never joins voice: say nothing about the voice libraries it lacks.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        # Server-only unless a command says otherwise (bot.contexts.anywhere): with user
        # install on, Discord would otherwise offer moderator commands in any DM.
        options.setdefault("allowed_contexts", SERVER_CONTEXTS)
        options.setdefault("allowed_installs", SERVER_INSTALLS)
        if config.shard_count is not None:
            options.setdefault("shard_count", config.shard_count)
            if config.shard_ids is not None:
                options.setdefault("shard_ids", list(config.shard_ids))
                # A shard's wait for its IDENTIFY turn (below) counts against discord.py's
                # connect timeout (180 s); the queue is at most one start per shard long.
                options.setdefault("shard_connect_timeout",
                                   180.0 + IDENTIFY_WINDOW_S * config.shard_count)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=GlossaryTree,
            **options,  # type: ignore[arg-type]
        )
        self.config = config
        self.store = store
        self.initial_extensions = tuple(extensions)
        self.clock = clock  # scheduled features ask this, so tests can move time
        self.freeze_heap = freeze_heap  # see _warm; on when serving (run_bot), not in tests
        self.rendered_cards: OrderedDict[tuple[object, ...], dict[str, object]] = OrderedDict()
        self.card_actions = CardActions(self)  # what CARD_BUTTONS do, whichever cog sent them
        self.glossary_map = config.glossary_map
        self.student_glossaries = StudentGlossaries(store.study)  # read in the Study cog
        store.records.clock = lambda: self.clock().timestamp()  # records keep the bot's time
        # With shard_ids this process runs some of the shards and others run the rest:
        # their IDENTIFYs take turns through the shared state (bot.identify). Alone, a
        # process keeps discord.py's own pacing.
        self.identify_turns: IdentifyTurns | None = (
            IdentifyTurns(store.identify, self._max_concurrency)
            if config.shard_ids is not None else None)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if self.identify_turns is None or shard_id is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        await self.identify_turns.wait(shard_id, initial=initial)

    async def _max_concurrency(self) -> int:
        _, _, limits = await self.http.get_bot_gateway()
        return int(limits["max_concurrency"])

    def spec_for(self, guild_id: int | None) -> GlossarySpec:
        """The configured glossary a server uses."""
        return self.glossary_map.for_server(guild_id)

    def glossary_for(self, guild_id: int | None) -> Glossary:
        """What every lookup in a server reads: the glossary that server uses."""
        return self.store.glossary_named(self.spec_for(guild_id).name)

    def glossary_by_id(self, glossary_id: int | None) -> Glossary:
        """The glossary a button names (unnamed: the default one, as every button from
        before glossaries); one no longer configured is said to have moved."""
        if glossary_id is None:
            return self.store.glossary_named(self.glossary_map.default.name)
        found = self.store.glossary_by_id(glossary_id)
        if found is None or self.glossary_map.named(found.name) is None:
            raise GlossaryGone("This card came from a glossary this bot no longer serves. "
                               "Try `/define` to look the term up in this server's glossary.")
        return found

    def spec_of(self, glossary: Glossary) -> GlossarySpec:
        return self.glossary_map.named(glossary.name) or self.glossary_map.default

    def dispatch(self, event_name: str, /, *args: object, **kwargs: object) -> None:
        """discord.py's dispatch, plus a ``modal_submit`` event for a form's submit.

        The bot needs the interaction event only for forms, and a bot with an
        ``on_interaction`` has discord.py create and run a task for every interaction,
        each autocomplete keystroke included, only to return; a form's submit alone
        now costs one (see docs/performance.md, issue 14's targets 1 and 2)."""
        super().dispatch(event_name, *args, **kwargs)
        if event_name == "interaction" and args and isinstance(args[0], discord.Interaction) \
                and args[0].type is discord.InteractionType.modal_submit:
            super().dispatch("modal_submit", args[0])

    async def on_modal_submit(self, interaction: discord.Interaction) -> None:
        """Forms whose submit no object in memory answers: a "suggest a fix" form opened
        before a restart (or past its object's timeout) is saved like any other."""
        await self.card_actions.submitted(interaction)

    async def setup_hook(self) -> None:
        # Buttons several cogs send are the bot's (a cog's own are added by that cog).
        self.add_dynamic_items(*CARD_BUTTONS)
        # The servers' own glossaries (/glossary create) join the configured ones.
        self.glossary_map = with_server_glossaries(
            self.glossary_map, await self.store.server_glossaries.all())
        specs = self.glossary_map.specs
        await self.store.use_glossaries([s.name for s in specs], self.glossary_map.default_name)
        from_files = {s.name: s.content_dir for s in specs if s.content_dir is not None}
        if self.store.pg is not None:
            # The local index follows what is published (filled now if it is behind);
            # only a host that has a glossary's term files reloads it (bot.publishing).
            from bot.publishing import Publishing

            from_files = {name: path for name, path in from_files.items() if path.is_dir()}
            self.publishing = Publishing(self.store, directories=from_files)
            await self.publishing.start()
            for spec in specs:
                if spec.content_dir is not None and spec.name not in from_files:
                    log.info("No term files for glossary %s here (%s): serving what is "
                             "published", spec.name, spec.content_dir)
        unchanged = await unchanged_glossaries(self.store, from_files)
        for spec in specs:
            if spec.name in from_files and spec.name not in unchanged:
                await self.load_content(spec)
        if unchanged:
            log.info("%d glossar%s unchanged since the last start", len(unchanged),
                     "y" if len(unchanged) == 1 else "ies")
        self._warming = asyncio.create_task(self._warm(), name="glossary-warm")
        for extension in self.initial_extensions:
            try:
                await self.load_extension(extension)
            except Exception:
                log.exception("Failed to load extension %s", extension)
        await self.sync_commands_if_changed()

    async def _warm(self) -> None:
        """Every name index built, then (``freeze_heap``) the start-up heap frozen.

        The glossary's indexes and caches are most of the heap and live as long as the
        process; a full collection would walk them all each time. gc.freeze() leaves
        them out: measured, 8-16% of the bot's CPU per autocomplete at 64 in flight,
        1-9% per /define (docs/performance.md, issue 14's targets 1 and 2). Only for a
        serving process: in a test process it would keep every later test's cycles."""
        await warm_indexes(self.store)
        if self.freeze_heap:
            started = time.perf_counter()
            gc.collect()  # start-up's garbage is freed, not frozen
            gc.freeze()
            log.debug("Start-up heap frozen: %d objects, after a %.0f ms collection",
                      gc.get_freeze_count(), (time.perf_counter() - started) * 1000)

    async def load_content(self, spec: GlossarySpec | None = None) -> None:
        """Load a glossary's term files; with errors, keep serving its last good load."""
        spec = spec or self.glossary_map.default
        assert spec.content_dir is not None
        try:
            diff = await self.store.reloader(spec.name).reload(spec.content_dir)
        except SharedStateUnavailable as exc:
            log.error("Could not publish glossary %s (%s); serving the local index, reload "
                      "it once PostgreSQL is back", spec.name, exc)
            return
        except InvalidContent as exc:
            for problem in exc.errors:
                log.error("%s", problem)
            log.error(
                "The term files of glossary %s have %d error(s); serving the %d terms from "
                "the last good load", spec.name, len(exc.errors),
                await self.store.glossary_named(spec.name).term_count(),
            )
            return
        for warning in diff.warnings:
            log.warning("%s", warning)
        try:  # the files changed while the bot was stopped: the history says so
            await self.store.history.attribute(diff.history_ids, START_UP)
        except Exception:
            log.exception("Could not name the start-up in the history of glossary %s",
                          spec.name)
        log.info(
            "Glossary loaded: %d terms (%d added, %d changed, %d removed) into %s",
            diff.term_count, len(diff.added), len(diff.changed), len(diff.removed), spec.name,
        )

    async def sync_commands_if_changed(self) -> bool:
        """Sync only when the command definitions, or where they live, changed.

        Discord rate-limits syncing hard; a hash in the database lets a restart skip it,
        while a newcomer's first start (or a changed command) still syncs. Commands live
        in one place only: with ``dev_guild_id`` they are the dev guild's and the global
        copies are removed, and switching back removes the guild's, so no server ever
        shows a command twice or keeps one that was removed.
        """
        guild = discord.Object(self.config.dev_guild_id) if self.config.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        definitions = [command.to_dict(self.tree) for command in self.tree.get_commands(
            guild=guild)]
        digest = hashlib.sha256(
            json.dumps(definitions, sort_keys=True, default=str).encode()
        ).hexdigest()
        place = str(guild.id) if guild else "global"
        scope, where = f"commands:{self.application_id}:{place}", (
            f"commands:{self.application_id}:synced_to")
        previous = await self.store.meta.get(where)
        if await self.store.meta.get(scope) == digest and previous in (None, place):
            log.info("Slash commands unchanged since the last sync; not syncing")
            return False
        try:
            synced = await self.tree.sync(guild=guild)
            await self._clear_other_scope(guild, previous)
        except discord.HTTPException as exc:
            log.error(
                "Could not sync slash commands (%s). Was the bot invited with the "
                "applications.commands scope?", exc,
            )
            return False
        if previous not in (None, place):
            await self.store.meta.set(f"commands:{self.application_id}:{previous}", "")
        await self.store.meta.set(scope, digest)
        await self.store.meta.set(where, place)
        log.info("Synced %d slash commands %s", len(synced),
                 f"to guild {guild.id}" if guild else "globally")
        return True

    async def _clear_other_scope(self, guild: discord.Object | None, previous: str | None
                                 ) -> None:
        """Remove the copies the other place holds (see ``sync_commands_if_changed``)."""
        assert self.application_id is not None  # known once logged in
        if guild is not None and previous != str(guild.id):
            await self.http.bulk_upsert_global_commands(self.application_id, [])
            log.info("Removed the global slash commands: they live in guild %s now", guild.id)
        if previous not in (None, "global") and previous != (str(guild.id) if guild else None):
            await self.http.bulk_upsert_guild_commands(self.application_id, int(previous), [])
            log.info("Removed the slash commands of the former dev guild %s", previous)

    async def close(self) -> None:
        self.remove_dynamic_items(*CARD_BUTTONS)  # added in setup_hook
        publishing = getattr(self, "publishing", None)
        if publishing is not None:
            await publishing.stop()
        warming = getattr(self, "_warming", None)
        if warming is not None:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
        await super().close()

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d server(s)", self.user, len(self.guilds))
        default = self.glossary_map.default
        sharing = [g for g in self.guilds if self.spec_for(g.id) is default]
        if len(sharing) > 1 and default.owner_servers is None:
            log.warning("The default glossary has no owners in the config, so the moderators "
                        "of each of the %d servers using it may reload it; name the servers "
                        "that may under [glossaries.%s] owners = [...]", len(sharing),
                        default.name)


_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def point_discord_at(api_url: str | None, gateway_url: str | None) -> None:
    """Connect to a local Discord stand-in (the sandbox or a test) instead of Discord.

    Only loopback addresses are accepted: these settings exist for local work, and a
    typo must not send the token to some other host.
    """
    for url in (api_url, gateway_url):
        if url and yarl.URL(url).host not in _LOCAL_HOSTS:
            raise ValueError(f"{url}: discord_api_url and discord_gateway_url must be loopback "
                             "addresses (127.0.0.1, localhost or ::1)")
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def run_bot(config: Config) -> int:
    try:
        token = config.require_token()
    except MissingToken as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    try:
        point_discord_at(config.discord_api_url, config.discord_gateway_url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.log_level, config.log_format, token)
    with backup.in_use(config.database):  # `glossary-bot restore` refuses meanwhile
        return asyncio.run(_serve(config, token))


async def _serve(config: Config, token: str) -> int:
    try:
        store = await Store.open_for(config)
    except SharedStateUnavailable as exc:
        log.error("Cannot reach the shared database: %s. Check `database_url` (or %s) and "
                  "that PostgreSQL is running, then start the bot again.", exc,
                  DATABASE_URL_ENV)
        return EXIT_UNAVAILABLE
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        where = config.local_index if config.database_url else config.database
        log.error("Cannot open the database %s: %s. Check `database` in the config (the "
                  "directory must be writable).", where, exc)
        return EXIT_CONFIG
    try:
        bot = GlossaryBot(config, store, freeze_heap=True)
        stop_on_signals(bot)  # answer what is in flight, then close (bot.lifecycle)
        async with bot, health.serving(bot, config), backup.scheduled(config):
            try:
                await bot.start(token)
            except discord.LoginFailure:
                log.error(TOKEN_REJECTED)
                return EXIT_CONFIG
            except discord.PrivilegedIntentsRequired:
                log.error("Discord refused the requested intents.")
                return EXIT_CONFIG
            except (aiohttp.ClientError, OSError, discord.GatewayNotFound,
                    discord.DiscordServerError) as exc:
                log.error("Cannot reach Discord at %s (%s). The token was not checked: "
                          "check this machine's network connection, then start the bot "
                          "again.", yarl.URL(discord.http.Route.BASE).host, exc)
                return EXIT_UNAVAILABLE
    finally:
        await store.close()
    return 0
