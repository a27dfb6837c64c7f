"""Team setup and the team post's button; /link and /unlink; on fakes of the storage port."""

from __future__ import annotations

import re

from bot.core.messages import Platform
from bot.service import team as team_service
from bot.service import team_channel
from bot.service.coach import Coach
from tests.chat import Chat, FakeClock
from tests.unit.service.fakes import Tables, library

GROUP = "-100123"


def in_group(coach: Coach, user: str, *, manage: bool = False) -> Chat:
    return Chat(
        coach,
        user=user,
        chat=GROUP,
        group=GROUP,
        private=False,
        platform=Platform.TELEGRAM,
        can_manage=manage,
    )


async def test_team_setup_by_a_manager_only(coach: Coach, tables: Tables) -> None:
    member = in_group(coach, "ben")
    await member.say("/team setup 07:30 Europe/Berlin")
    assert member.text == team_service.REFUSE_MANAGE and tables.teams == []
    admin = in_group(coach, "ada", manage=True)
    await admin.say("/team setup 07:30 Europe/Berlin")
    assert "Team posts are on" in admin.text
    [team] = tables.teams
    assert (team.platform, team.group_ref, team.channel_ref, team.post_time) == (
        "telegram",
        GROUP,
        GROUP,
        "07:30",
    )
    assert team.enabled and team.next_post_utc is not None and team.next_digest_utc is not None
    await admin.say("/team off")
    assert not team.enabled and team.next_post_utc is None


async def test_pressing_start_in_the_team_chat_joins_and_opens_the_routine_privately(
    coach: Coach, tables: Tables
) -> None:
    await in_group(coach, "ada", manage=True).say("/team setup 07:30 Europe/Berlin")
    team_id = tables.teams[0].id
    post = team_channel.post_reply(library(), team_id)
    ben = in_group(coach, "ben")
    ben.last = [post]
    await ben.press("Start my routine")
    assert all(reply.private for reply in ben.last)
    assert "set up first" in ben.text  # a newcomer starts with onboarding, privately
    [member] = tables.members
    assert member.team_id == team_id and not member.share_name
    await ben.press("Show my name to the team")
    assert member.share_name


async def test_a_press_from_elsewhere_does_not_join(coach: Coach, tables: Tables) -> None:
    await in_group(coach, "ada", manage=True).say("/team setup 07:30 Europe/Berlin")
    stranger = Chat(coach, user="eve", platform=Platform.TELEGRAM)  # a private chat
    stranger.last = [team_channel.post_reply(library(), tables.teams[0].id)]
    await stranger.press("Start my routine")
    assert stranger.text == team_service.REFUSE_ELSEWHERE and tables.members == []


async def test_a_named_member_finishing_a_team_checkin_is_told_to_the_channel(
    coach: Coach, tables: Tables
) -> None:
    await in_group(coach, "ada", manage=True).say("/team setup 07:30 Europe/Berlin")
    ben = in_group(coach, "ben")
    dm = Chat(coach, user="ben", platform=Platform.TELEGRAM, name="Ben")
    await dm.onboard()
    post = team_channel.post_reply(library(), tables.teams[0].id)
    ben.last = [post]
    await ben.press("Start my routine")
    await ben.press("Show my name to the team")
    ben.last = [post]
    await ben.press("Start my routine")
    await ben.press("Done - check in")
    for answer in ("2", "No", "Yes", "7"):
        await ben.press(answer)
    assert "Logged: pain 2/10" in ben.text
    [line] = [row for row in tables.outbox if row["to_channel"]]
    assert line["ref"] == GROUP and "did today's routine" in line["text"]
    assert "2/10" not in line["text"]  # never a score


def code_in(text: str) -> str:
    found = re.search(r"/link ([A-Z0-9]{4}-[A-Z0-9]{4})", text)
    assert found, text
    return found.group(1)


async def linked(coach: Coach, *, second_history: bool) -> tuple[Chat, Chat]:
    """Telegram (onboarded, one check-in) issues a code that Discord redeems."""
    telegram = Chat(coach, user="111", platform=Platform.TELEGRAM)
    discord = Chat(coach, user="222", platform=Platform.DISCORD)
    await telegram.onboard(pain=3)
    await telegram.say("/checkin 3 yes 6")
    if second_history:
        await discord.onboard(pain=4)
        await discord.say("/checkin 2 mostly 5")
    await telegram.say("/link")
    await discord.say(f"/link {code_in(telegram.text)}")
    assert "Linked!" in discord.text
    return telegram, discord


async def test_link_merges_two_people_into_the_one_who_issued_the_code(
    coach: Coach, tables: Tables
) -> None:
    _, discord = await linked(coach, second_history=True)
    [person] = tables.people
    assert person.baseline_pain == 3
    assert {i.person_id for i in tables.identities} == {person.id}
    assert {c.person_id for c in tables.checkins} == {person.id} and len(tables.checkins) == 2
    await discord.say("/progress")
    assert "Sessions: 2 in all" in discord.text


async def test_a_wrong_code_changes_nothing_and_counts_towards_the_limit(
    coach: Coach, tables: Tables
) -> None:
    chat = Chat(coach, user="222", platform=Platform.DISCORD)
    await chat.onboard()
    for _ in range(5):
        await chat.say("/link ABCD-EFGH")
        assert "wrong or has expired" in chat.text
    await chat.say("/link ABCD-EFGH")
    assert "Too many tries" in chat.text
    assert len(tables.tries) == 5 and len(tables.people) == 1


async def test_an_expired_code_changes_nothing(
    coach: Coach, tables: Tables, clock: FakeClock
) -> None:
    issuer = Chat(coach, user="111", platform=Platform.TELEGRAM)
    await issuer.onboard()
    await issuer.say("/link")
    code = code_in(issuer.text)
    clock.advance(minutes=11)
    late = Chat(coach, user="222", platform=Platform.DISCORD)
    await late.say(f"/link {code}")
    assert "wrong or has expired" in late.text and len(tables.people) == 2


async def test_unlink_gives_this_chat_its_own_person_with_the_settings(
    coach: Coach, tables: Tables
) -> None:
    _, discord = await linked(coach, second_history=False)
    await discord.say("/unlink")
    assert "Unlinked" in discord.text
    assert len(tables.people) == 2
    mine = next(i for i in tables.identities if i.user_ref == "222")
    fresh = next(p for p in tables.people if p.id == mine.person_id)
    assert fresh.onboarded and fresh.baseline_pain == 3 and fresh.timezone == "Europe/Berlin"
    assert all(c.person_id != fresh.id for c in tables.checkins)  # the history stayed
