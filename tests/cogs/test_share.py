"""/share: a public card that pings only the named student."""

from __future__ import annotations


async def test_share_pings_only_the_student(h):
    student = h.member(username="alex")
    reply = await h.slash("share", term="prisma", student=student,
                          note="Read this @everyone <@&999> before **Friday**", member=h.moderator)
    assert not reply.ephemeral
    assert reply.content.startswith("📌 Shared by **")
    assert f"<@{student.id}>" in reply.content
    assert reply.allowed_mentions["parse"] == []
    assert [str(u) for u in reply.allowed_mentions["users"]] == [str(student.id)]
    assert reply.allowed_mentions.get("roles", []) == []
    note = next(f for f in reply.embeds[0]["fields"] if f["name"].endswith("Note"))
    assert "@\u200beveryone" in note["value"] and "\\*\\*Friday\\*\\*" in note["value"]
    assert reply.embeds[0]["title"] == "Prisma"
    assert reply.buttons


async def test_share_without_student_pings_nobody(h):
    reply = await h.slash("share", term="git")
    assert not reply.ephemeral
    assert reply.allowed_mentions == {"parse": [], "users": []} or reply.allowed_mentions == {
        "parse": []}
    assert "for <@" not in reply.content


async def test_share_unknown_term_is_private(h):
    reply = await h.slash("share", term="gti")
    assert reply.ephemeral and reply.embeds[0]["title"] == "Term not found"
    assert reply.buttons[0]["label"] == "Git"
