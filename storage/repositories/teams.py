"""Team channels and their members, on one session (the reads live in `storage.teams`, which
the scheduler's team step shares)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storage import teams
from storage.models import Team, TeamMember


class SqlTeams:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: int) -> Team | None:
        return await self.session.get(Team, team_id)

    async def in_group(self, platform: str, group_ref: str) -> Team | None:
        return await teams.team(self.session, platform, group_ref)

    def add(self, team: Team) -> None:
        self.session.add(team)

    async def membership(self, team_id: int, person_id: int) -> TeamMember | None:
        return await teams.membership(self.session, team_id, person_id)

    async def join(self, member: TeamMember) -> None:
        self.session.add(member)
        await self.session.flush()

    async def memberships(self, person_id: int) -> Sequence[tuple[TeamMember, Team]]:
        return await teams.memberships(self.session, person_id)

    async def member_count(self, team_id: int) -> int:
        return await teams.member_count(self.session, team_id)
