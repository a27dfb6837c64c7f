"""Team channels: `/team` (setup, off, show, name), the daily team post with its "Start my
routine" button, the weekly digest and the optional "<name> did today's routine" line.

Privacy: everything that reaches a team channel is built here and holds no health data: the
post names the routine, the digest counts members who trained and the team's adherence (planned
days done), and names only people who opted in with `/team name on`. Scores, red flags and
check-in answers never appear. The routine a press opens is sent to the presser privately.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import flows
from bot.core.actions import Action
from bot.core.commands import TEAM, read_channel, surface
from bot.core.messages import Button, Incoming, Platform, Reply
from bot.core.names import public_name
from bot.core.numbers import whole_number
from bot.core.schedule import fire_instant, local_day, next_fire_utc, parse_hhmm
from bot.core.texts import ROUTINE_DONE
from bot.core.timezones import UnknownZone, parse_zone
from bot.service.turn import Turn
from storage.models import Team, TeamMember

FLOW = flows.TEAM  # Action(FLOW, step, value, team id)
START, NAME = "start", "name"
DONE_PREFIX = "t"  # the value of a routine's "Done" button opened from team <id>: "t<id>"
DIGEST_DAYS = 7
SHOW_NAME_LABEL = "Show my name to the team"
HIDE_NAME_LABEL = "Hide my name from the team"
GENERIC_HEADLINE = "Today's mobility routine, about 12 min"

REFUSE_MANAGE = "Only someone who can manage this server/group can set up team posts."
REFUSE_ELSEWHERE = "That button works only under the team's own post, in its group or channel."
REFUSE_PRIVATE = "Team posts belong to a server or group: send /team there, not in a private chat."
USAGE = (
    "Team posts: /team setup HH:MM ZONE (e.g. /team setup 07:30 Europe/Berlin) posts today's "
    "routine here every day and a weekly digest; /team show, /team off. "
    "/team name on|off (on Discord: /teamname): whether the team may see your name."
)

Routine = Callable[[Turn, int], Awaitable[list[Reply]]]  # the private routine for team <id>


# /team ---------------------------------------------------------------------------------------


async def command(turn: Turn, args: str) -> list[Reply]:
    """`/team setup [channel] HH:MM [zone]`, `/team off`, `/team show`, `/team name on|off`."""
    sub, _, rest = args.strip().partition(" ")
    sub, rest = sub.lower(), rest.strip()
    if sub == "name":
        return await _name_command(turn, rest)
    if turn.incoming.is_private:
        return [Reply(REFUSE_PRIVATE)]
    if sub == "setup":
        return await _setup(turn, rest)
    if sub == "off":
        return await _off(turn)
    if sub in {"", "show"}:
        return await _show(turn)
    return [Reply(USAGE)]


def _group_ref(turn: Turn) -> str:
    return turn.incoming.group_ref or turn.incoming.chat_ref


async def _this_team(turn: Turn) -> Team | None:
    return await turn.uow.teams.in_group(turn.incoming.platform.value, _group_ref(turn))


def _channel_label(team: Team) -> str:
    mention = surface(team.platform).channel_mention
    if mention:
        return mention.format(team.channel_ref)
    if team.channel_ref == team.group_ref:
        return "this group"
    return f"chat {team.channel_ref}"


def _example(turn: Turn) -> str:
    channel = surface(turn.incoming.platform).channel_example
    return f"Example: /team setup {channel}07:30 Europe/Berlin"


async def _setup(turn: Turn, rest: str) -> list[Reply]:
    incoming = turn.incoming
    if not incoming.can_manage:
        return [Reply(REFUSE_MANAGE)]
    words = rest.split()
    channel = incoming.chat_ref
    if words and (found := read_channel(words[0])) and not _is_time(words[0]):
        channel = found
        words = words[1:]
        if surface(incoming.platform).own_channel and channel != incoming.chat_ref:
            return [Reply("Here the team channel is this group itself. " + _example(turn))]
    if not words:
        return [Reply("At what time should the daily team post go out? " + _example(turn))]
    try:
        at = parse_hhmm(words[0])
    except ValueError as error:
        return [Reply(f"{error} {_example(turn)}")]
    zone_text = " ".join(words[1:])
    if zone_text:
        try:
            zone = parse_zone(zone_text).zone
        except UnknownZone as unknown:
            hint = ", ".join(unknown.suggestions) or "Europe/London, America/New_York"
            shown = zone_text[:40]
            return [
                Reply(
                    f"I don't know the time zone '{shown}'. Did you mean: {hint}? {_example(turn)}"
                )
            ]
    elif turn.person.timezone:
        zone = turn.person.timezone
    else:
        return [Reply("Which time zone is the team in? " + _example(turn))]

    team = await _this_team(turn)
    now = turn.now
    next_post = next_fire_utc(local_time=at, zone=zone, after_utc=now)
    first_digest = _digest_on(local_day(now, zone) + timedelta(days=DIGEST_DAYS), at, zone, now)
    if team is None:
        team = Team(
            platform=incoming.platform.value,
            group_ref=_group_ref(turn),
            created_at=now,
        )
        turn.uow.teams.add(team)
    elif team.enabled and team.next_digest_utc is not None and team.next_digest_utc > now:
        # A change of time keeps the digest's day: the week it covers stays the same.
        kept = local_day(team.next_digest_utc, team.timezone)
        first_digest = _digest_on(kept, at, zone, now)
    team.channel_ref = channel
    team.post_time = at.strftime("%H:%M")
    team.timezone = zone
    team.enabled = True
    team.next_post_utc = next_post
    team.next_digest_utc = first_digest
    await turn.uow.flush()
    return [Reply("Team posts are on. " + _describe(team, now))]


def _is_time(text: str) -> bool:
    try:
        parse_hhmm(text)
    except ValueError:
        return False
    return True


def _digest_on(day: date, at: time, zone: str, now: datetime) -> datetime:
    """The digest instant on local `day` at `at`, or the same weekday after that when it has
    passed or the date does not exist in the zone."""
    fire = fire_instant(day, at, zone)
    if fire > now and local_day(fire, zone) == day:
        return fire
    return next_fire_utc(
        local_time=at, zone=zone, after_utc=max(now, fire), weekdays=frozenset({day.weekday()})
    )


def next_digest_after(due: datetime, at: time, zone: str, floor: datetime) -> datetime:
    """The digest after the one due at `due`: the same weekday a week on (a digest missed by
    more than the grace period is not caught up: the next one after `floor`)."""
    day = local_day(due, zone)
    return next_fire_utc(
        local_time=at, zone=zone, after_utc=max(due, floor), weekdays=frozenset({day.weekday()})
    )


def _describe(team: Team, now: datetime) -> str:
    zone = ZoneInfo(team.timezone)
    lines = [
        f"Every day at {team.post_time} ({team.timezone}) I post today's routine in "
        f'{_channel_label(team)}, with a "Start my routine" button that opens each person\'s '
        "own plan privately."
    ]
    if team.next_digest_utc is not None:
        digest = team.next_digest_utc.astimezone(zone)
        lines.append(
            f"Weekly digest on {digest:%A}s at {team.post_time}, the next on {digest:%a %d %b}: "
            "how many members trained and the team's share of planned days done."
        )
    lines.append(
        "Names appear only for people who opt in (/team name on, on Discord /teamname on). "
        "No scores or health answers are ever posted."
    )
    return "\n".join(lines)


async def _off(turn: Turn) -> list[Reply]:
    if not turn.incoming.can_manage:
        return [Reply(REFUSE_MANAGE)]
    team = await _this_team(turn)
    if team is None or not team.enabled:
        return [Reply("Team posts are already off here. " + _example(turn))]
    team.enabled = False
    team.next_post_utc = None
    team.next_digest_utc = None
    return [
        Reply("Team posts are off: no more daily posts or digests here. /team setup restarts them.")
    ]


async def _show(turn: Turn) -> list[Reply]:
    team = await _this_team(turn)
    if team is None or not team.enabled:
        return [
            Reply(
                "No team posts here yet. Someone who can manage it can start them. "
                + _example(turn)
            )
        ]
    members = await turn.uow.teams.member_count(team.id)
    people = "1 member" if members == 1 else f"{members} members"
    return [Reply(f"Team posts are on ({people}). " + _describe(team, turn.now))]


async def _name_command(turn: Turn, rest: str) -> list[Reply]:
    """`/team name on|off`: the person's own choice, for this group's team (in a group) or for
    every team they are in (in a private chat)."""
    choice = rest.lower()
    if choice not in {"on", "off"}:
        return [
            turn.private("Send /team name on to be named in the team digest, or /team name off.")
        ]
    share = choice == "on"
    if not turn.incoming.is_private:
        team = await _this_team(turn)
        if team is None:
            return [turn.private("There is no team here yet.")]
        member = await _join(turn, team)
        member.share_name = share
        return [turn.private(_name_text(share, turn.incoming.platform))]
    found = await turn.uow.teams.memberships(turn.person.id)
    if not found:
        return [
            turn.private(
                'You\'re not in a team yet: press "Start my routine" under a team post to join.'
            )
        ]
    for member, _ in found:
        member.share_name = share
    return [turn.private(_name_text(share, turn.incoming.platform))]


def _name_text(share: bool, platform: Platform) -> str:
    # Where `/team` is for server managers only, members have `/teamname on|off`.
    name = surface(platform).typed(TEAM, "name")
    if share:
        return (
            'Your name will show in the team digest and in a short "did today\'s routine" line '
            f"when you finish one from the team post. Never your scores. {name} off undoes it."
        )
    return f"Your name stays out of the team channel. {name} on shows it."


async def _join(turn: Turn, team: Team) -> TeamMember:
    member = await turn.uow.teams.membership(team.id, turn.person.id)
    if member is None:
        member = TeamMember(
            team_id=team.id, person_id=turn.person.id, joined_at=turn.now, share_name=False
        )
        await turn.uow.teams.join(member)
    return member


# Buttons -------------------------------------------------------------------------------------


async def pressed(turn: Turn, action: Action, routine: Routine) -> list[Reply]:
    """A team post's "Start my routine" (anyone in the team's chat may press it) and the "show
    my name" choice (a member's own, wherever their copy of the button is)."""
    team = await turn.uow.teams.get(action.ref)
    if team is None or team.platform != turn.incoming.platform.value:
        return [Reply("That button isn't valid any more.", alert=True, private=True)]
    here = in_team_chat(turn.incoming, team)
    if action.step == NAME and action.value in {"on", "off"}:
        member = await turn.uow.teams.membership(team.id, turn.person.id)
        if member is None:
            if not here:
                return [Reply(REFUSE_ELSEWHERE, alert=True, private=True)]
            member = await _join(turn, team)
        member.share_name = action.value == "on"
        return [
            turn.private(
                _name_text(member.share_name, turn.incoming.platform),
                edit=True,
                buttons=((_name_button(member.share_name, team.id),),),
            )
        ]
    if action.step != START:
        return [Reply("That button isn't valid any more.", alert=True, private=True)]
    if not here:
        return [Reply(REFUSE_ELSEWHERE, alert=True, private=True)]
    new = await turn.uow.teams.membership(team.id, turn.person.id) is None
    await _join(turn, team)
    replies = list(await routine(turn, team.id))
    if new:
        replies.append(
            turn.private(
                "You're on this team's list now. The weekly digest counts who trained, without "
                "names unless you choose to show yours.",
                buttons=((_name_button(False, team.id),),),
            )
        )
    return replies


def in_team_chat(incoming: Incoming, team: Team) -> bool:
    """The press came from the team's own chat: its Telegram group, or its channel in its
    Discord server. The platform says where a press happened; the team id in a payload is typed
    by the client and proves nothing, so joining a team takes being where its posts are."""
    return (
        not incoming.is_private
        and incoming.group_ref == team.group_ref
        and incoming.chat_ref == team.channel_ref
    )


def _name_button(shown: bool, team_id: int) -> Button:
    """The toggle under a name choice: it always offers the other way round."""
    if shown:
        return Button(HIDE_NAME_LABEL, Action(FLOW, NAME, "off", team_id).encode())
    return Button(SHOW_NAME_LABEL, Action(FLOW, NAME, "on", team_id).encode())


def from_team(reply: Reply, team_id: int) -> Reply:
    """The private routine, with its "Done" button remembering the team it came from."""
    tagged = Action(flows.ROUTINE, "done", f"{DONE_PREFIX}{team_id}", 0).encode()
    rows = tuple(
        tuple(replace(b, action=tagged) if b.action == ROUTINE_DONE else b for b in row)
        for row in reply.buttons
    )
    return replace(reply, buttons=rows, private=True)


def began_from(turn: Turn, done_value: str) -> None:
    """After a team-tagged "Done" opened a check-in: remember the team on the open question
    (`bot.service.checkin` carries it to the end of the check-in)."""
    team_id = whole_number(done_value.removeprefix(DONE_PREFIX), max_digits=9)
    if not done_value.startswith(DONE_PREFIX) or team_id is None:
        return
    pending = turn.person.pending
    if pending and pending.get("flow") == flows.CHECKIN:
        turn.person.pending = {**pending, "team": team_id}


async def checkin_done(turn: Turn, team_id: int | None) -> None:
    """A check-in begun from a team post is complete: if the person opted in to being named,
    queue "<name> did today's routine" for the team's channel (sent by the scheduler)."""
    if team_id is None:
        return
    team = await turn.uow.teams.get(team_id)
    if team is None or not team.enabled:
        return
    member = await turn.uow.teams.membership(team.id, turn.person.id)
    if member is None or not member.share_name:
        return
    name = await _name_on(turn, team.platform)
    if not name:
        return
    await turn.uow.outbox.tell_channel(
        platform=team.platform,
        channel_ref=team.channel_ref,
        kind=f"done-{turn.person.id}"[:16],
        local_date=local_day(turn.now, team.timezone),
        text=f"{name} did today's routine.",
        person_id=turn.person.id,
        now=turn.now,
    )


async def _name_on(turn: Turn, platform: str) -> str:
    if turn.identity.platform == platform:
        return public_name(turn.identity.display_name)
    for identity in await turn.uow.people.identities(turn.person.id):
        if identity.platform == platform:
            return public_name(identity.display_name)
    return ""


async def export(turn: Turn) -> list[dict[str, Any]]:
    """The person's team memberships, for /export."""
    return [
        {
            "platform": found.platform,
            "group": found.group_ref,
            "joined_at": member.joined_at.isoformat(),
            "share_name": member.share_name,
        }
        for member, found in await turn.uow.teams.memberships(turn.person.id)
    ]
