"""/quiz ask and /quiz leaderboard: remembering terms, not only looking them up."""

from __future__ import annotations

import random

import discord
from discord import app_commands
from discord.ext import commands

from bot.cards import QuizAnswerButton, card_message, leaderboard_embed, quiz_embed, quiz_view
from bot.cards.embeds import echo, fit_together, quiz_result_embed
from bot.client import GlossaryBot, lookup_cooldown
from bot.errors import NotEnoughTerms
from bot.models import Term
from bot.quiz import MODES, choose_mode, pick_choices
from bot.storage.glossary import Glossary

QUESTION_ATTEMPTS = 3


async def category_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    bot: GlossaryBot = interaction.client  # type: ignore[assignment]
    wanted = current.casefold()
    categories = await bot.glossary_for(interaction.guild_id).categories()
    return [app_commands.Choice(name=c[:100], value=c[:100])
            for c in categories if wanted in c.casefold()][:25]


@app_commands.guild_only()
class Quiz(commands.GroupCog, group_name="quiz", group_description="Glossary quizzes"):
    def __init__(self, bot: GlossaryBot, rng: random.Random | None = None) -> None:
        self.bot = bot
        self.rng = rng or random.Random()
        super().__init__()

    @app_commands.command(name="ask", description="Post a multiple-choice question for the "
                          "channel")
    @app_commands.describe(category="Only terms of this category (start typing)")
    @app_commands.autocomplete(category=category_autocomplete)
    @lookup_cooldown()
    async def ask(self, interaction: discord.Interaction, category: str | None = None) -> None:
        glossary = self.bot.glossary_for(interaction.guild_id)
        answer, terms, choices, mode = await self._question(glossary, category)
        # Saving the quiz is a write that may wait for a reload: answer within 3 s first.
        await interaction.response.defer(thinking=True)
        assert interaction.guild_id is not None  # guild_only
        quiz = await self.bot.store.records.create_quiz(
            interaction.guild_id, answer.slug, choices, mode, glossary.id)
        await interaction.followup.send(
            embed=quiz_embed(quiz, terms, self.bot.config.embed_colour),
            view=quiz_view(quiz, {slug: term.title for slug, term in terms.items()}),
        )

    async def answer(self, interaction: discord.Interaction, quiz_id: int, choice: str) -> None:
        """A click on one of a quiz's choices (QuizAnswerButton): the verdict and the
        answer's card, privately; only the first answer of each member counts."""
        # Answers are writes, which can wait behind a reload: defer within 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.bot.store.records.answer_quiz(quiz_id, interaction.user.id, choice)
        self.bot.dispatch("quiz_answered", interaction.user.id, outcome)  # cogs.study
        card = await self.bot.glossary_by_id(outcome.quiz.glossary_id).card(outcome.quiz.answer)
        reply = await card_message(self.bot, card, interaction.guild_id)
        await interaction.followup.send(
            embeds=fit_together(quiz_result_embed(outcome, card.term.title), reply["embed"]),
            view=reply["view"], ephemeral=True,
        )

    async def _question(
        self, glossary: Glossary, category: str | None
    ) -> tuple[Term, dict[str, Term], tuple[str, ...], str]:
        """A term, its choices and a mode whose text does not give the answer away;
        another term when neither mode can hide this one's name well."""
        for _attempt in range(QUESTION_ATTEMPTS):
            answer, same, others = await glossary.quiz_material(category)
            if answer is None:
                raise NotEnoughTerms(f"There are no terms in the category “{echo(category)}”."
                                     if category else "The glossary has no terms yet.")
            try:
                choices = pick_choices(answer, same, others, self.rng)
            except ValueError:
                raise NotEnoughTerms("A quiz needs at least four terms in the glossary.") from None
            terms = {term.slug: term for term in (answer, *same, *others)}
            mode = choose_mode(self.rng.choice(MODES), answer, [terms[c] for c in choices])
            if mode is not None:
                return answer, terms, choices, mode
        return answer, terms, choices, "definition"  # the title is shown, never blanked

    @app_commands.command(name="leaderboard", description="Top quiz scores in this server")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # guild_only
        scores = await self.bot.store.records.leaderboard(interaction.guild_id)
        await interaction.response.send_message(
            embed=leaderboard_embed(scores, self.bot.config.embed_colour)
        )


async def setup(bot: GlossaryBot) -> None:
    bot.add_dynamic_items(QuizAnswerButton)
    await bot.add_cog(Quiz(bot))


async def teardown(bot: GlossaryBot) -> None:
    bot.remove_dynamic_items(QuizAnswerButton)
